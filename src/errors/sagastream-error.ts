import { ERROR_CODES, type ErrorCode } from './error-codes.js';

export interface SagastreamErrorOptions {
  /** The saga instance the error is about, when there is one. */
  readonly sagaId?: string;
  /** The step the error is about, when there is one. */
  readonly step?: string;
  /** The underlying error; kept as the standard `cause`. */
  readonly cause?: unknown;
}

/**
 * A code that sagastream itself raises (always one of `ERROR_CODES`), or, for a `TerminalError` only, a code
 * chosen by user code such as `'CARD_DECLINED'`. `string & {}` keeps editor completion for the registry.
 */
export type SagastreamErrorCode = ErrorCode | (string & {});

/**
 * The base of every error sagastream throws. Branch on `code`, never on the message.
 * Whether an error deserves another attempt is decided by `isRetryable`.
 */
export class SagastreamError extends Error {
  readonly code: SagastreamErrorCode;
  readonly sagaId: string | undefined;
  readonly step: string | undefined;

  constructor(code: ErrorCode, message: string, options: SagastreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SagastreamError';
    this.code = code;
    this.sagaId = options.sagaId;
    this.step = options.step;
  }

  /** False when another attempt cannot succeed (bad input, terminal error, cancellation, …). */
  get retryable(): boolean {
    return Object.hasOwn(ERROR_CODES, this.code) ? ERROR_CODES[this.code as ErrorCode].retryable : false;
  }
}
