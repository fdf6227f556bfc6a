import { SagastreamError, type SagastreamErrorOptions } from './sagastream-error.js';

export interface TerminalErrorOptions extends SagastreamErrorOptions {
  /**
   * Your own code for the failure, stored with the saga (e.g. `'CARD_DECLINED'`); defaults to `'TERMINAL'`.
   * Prefer letters, digits and `_`, as in `ERROR_CODES`.
   */
  readonly code?: string;
}

/**
 * Throw from a step's `run` (or `compensate`) when trying again cannot help — a declined card, a product that
 * no longer exists. The attempt fails at once without further retries, and the saga starts compensating.
 *
 * ```ts
 * if (response.status === 402) throw new TerminalError('card declined', { code: 'CARD_DECLINED' });
 * ```
 */
export class TerminalError extends SagastreamError {
  override readonly code: string;

  constructor(message: string, options: TerminalErrorOptions = {}) {
    super('TERMINAL', message, options);
    this.name = 'TerminalError';
    // Never throw here: a failing constructor would turn the intended terminal failure into a retryable one.
    const code = options.code?.trim();
    this.code = code === undefined || code === '' ? 'TERMINAL' : code.slice(0, 64);
  }

  override get retryable(): boolean {
    return false;
  }
}
