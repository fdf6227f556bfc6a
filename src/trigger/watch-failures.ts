// How the trigger watcher tells and waits out its failures: a lost stream position, a call that never returns.
import { MongoServerError } from 'mongodb';

/** Errors after which the saved position is useless: resume from now and reconcile by scanning. */
const POSITION_LOST_CODES = new Set([
  286, // ChangeStreamHistoryLost
  260, // InvalidResumeToken
  280, // ChangeStreamFatalError (e.g. the resume token's event is not in the oplog)
]);

/** Settles as `work` does, or resolves as soon as `signal` aborts; a later rejection of `work` is ignored. */
export async function untilAborted(work: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return;
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  work.catch(() => undefined);
  try {
    await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

export function isPositionLost(error: unknown): boolean {
  return (
    error instanceof MongoServerError && typeof error.code === 'number' && POSITION_LOST_CODES.has(error.code)
  );
}
