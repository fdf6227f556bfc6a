// Runs one attempt of user code with a timeout: BullMQ has no job timeout, so the attempt races an abort
// signal and loses to it even when the user code ignores the signal.
import { SagastreamError, StepTimeoutError } from '../errors/index.js';

export interface AttemptOptions {
  sagaId: string;
  step: string;
  phase: 'forward' | 'compensate';
  timeoutMs: number;
  /**
   * Aborted from outside when the saga is cancelled or passes its deadline. It aborts the attempt's signal but
   * does not end the wait: code that ignores the signal may still take effect, and its result (or its timeout)
   * is what compensation must wait for.
   */
  cancel?: AbortSignal;
}

export async function runAttempt<T>(
  options: AttemptOptions,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new StepTimeoutError({
        sagaId: options.sagaId,
        step: options.step,
        timeoutMs: options.timeoutMs,
        phase: options.phase,
      });
      controller.abort(error);
      reject(error);
    }, options.timeoutMs);
  });
  // The race's loser must not surface as an unhandled rejection.
  timedOut.catch(() => undefined);
  const onCancel = (): void =>
    controller.abort(
      new SagastreamError(
        'CANCELLED',
        `saga ${options.sagaId} left its running state while step "${options.step}" ran`,
        {
          sagaId: options.sagaId,
          step: options.step,
        },
      ),
    );
  if (options.cancel?.aborted) onCancel();
  else options.cancel?.addEventListener('abort', onCancel, { once: true });
  try {
    return await Promise.race([body(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
    timer = undefined;
    options.cancel?.removeEventListener('abort', onCancel);
  }
}
