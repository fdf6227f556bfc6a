import { SagastreamError } from './sagastream-error.js';

/**
 * Whether another attempt of the failed step (or compensation) may succeed. `TerminalError`s, input and
 * output validation failures, cancellations and other non-retryable `ERROR_CODES` say no; any error that does
 * not come from sagastream (a network error, a bug in a step) is presumed transient and says yes.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof SagastreamError) return error.retryable;
  return true;
}
