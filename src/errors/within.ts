// A bound on one call to MongoDB or Redis: a half-open socket never answers and never fails, so every call
// whose answer a process waits on to stay useful (a lease, a health probe, a watcher batch) gets a deadline.
import { SagastreamError } from './sagastream-error.js';

/**
 * Resolves as `work` does, or rejects with `CONNECTION_TIMEOUT` after `timeoutMs`. The work itself goes on
 * in the background (a driver call cannot be taken back); only the wait for it ends.
 */
export async function within<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  // The work may fail after the wait ended: that rejection is handled here, not left unhandled.
  work.catch(() => undefined);
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new SagastreamError('CONNECTION_TIMEOUT', `${what} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    // A bound never keeps a process alive on its own.
    timer.unref();
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
