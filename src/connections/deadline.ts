// A bound on one await: the operation goes on in the background, the caller stops waiting for it.
import { SagastreamError } from '../errors/index.js';

/**
 * `promise`, or a SagastreamError `CONNECTION_TIMEOUT` naming `what` once `ms` passed. The losing promise's
 * rejection is handled, so an operation that fails after the deadline raises no unhandled rejection.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined);
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SagastreamError('CONNECTION_TIMEOUT', `${what} did not finish within ${ms} ms`)),
      ms,
    );
    timer.unref();
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `promise` at most `ms`, never throwing: for shutdown steps that must not hold the process. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<'done' | 'timed-out'> {
  try {
    await withDeadline(promise, ms, 'shutdown step');
    return 'done';
  } catch (error) {
    return error instanceof SagastreamError && error.code === 'CONNECTION_TIMEOUT' ? 'timed-out' : 'done';
  }
}
