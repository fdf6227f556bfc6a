import { SagastreamError } from './sagastream-error.js';

export interface StepTimeoutErrorOptions {
  readonly sagaId: string;
  readonly step: string;
  readonly timeoutMs: number;
  /** `'compensate'` when a compensation attempt timed out. */
  readonly phase?: 'forward' | 'compensate';
}

/**
 * An attempt ran longer than its step's timeout and its `ctx.signal` was aborted. Retryable; note that the
 * attempt may still have taken effect, which is why a timed-out step is compensated like a completed one.
 */
export class StepTimeoutError extends SagastreamError {
  override readonly code = 'STEP_TIMEOUT';
  override readonly sagaId: string;
  override readonly step: string;
  readonly timeoutMs: number;
  readonly phase: 'forward' | 'compensate';

  constructor(options: StepTimeoutErrorOptions) {
    const phase = options.phase ?? 'forward';
    const what = phase === 'compensate' ? 'Compensation of step' : 'Step';
    super(
      'STEP_TIMEOUT',
      `${what} "${options.step}" of saga ${options.sagaId} timed out after ${options.timeoutMs} ms. ` +
        `Make it honour ctx.signal and finish sooner, or raise the step's timeout.`,
      { sagaId: options.sagaId, step: options.step },
    );
    this.name = 'StepTimeoutError';
    this.sagaId = options.sagaId;
    this.step = options.step;
    this.timeoutMs = options.timeoutMs;
    this.phase = phase;
  }
}
