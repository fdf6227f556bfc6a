// A bound on a shutdown step: the operation goes on in the background, the caller stops waiting for it.
import { SagastreamError, within } from '../errors/index.js';

/** Waits for `promise` at most `ms`, never throwing: for shutdown steps that must not hold the process. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<'done' | 'timed-out'> {
  try {
    await within(promise, ms, 'shutdown step');
    return 'done';
  } catch (error) {
    return error instanceof SagastreamError && error.code === 'CONNECTION_TIMEOUT' ? 'timed-out' : 'done';
  }
}
