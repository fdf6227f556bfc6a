import { SagastreamError, type SagastreamErrorOptions } from './sagastream-error.js';

export interface ValidationIssue {
  /** Dotted path inside the validated value (`''` for the value itself), e.g. `items.0.quantity`. */
  readonly path: string;
  readonly message: string;
}

/**
 * A value failed a saga's zod schema: the trigger document (`INPUT_VALIDATION_FAILED`, the saga is rejected)
 * or a step's result (`OUTPUT_VALIDATION_FAILED`). Never retryable: the same value fails the same way.
 */
export class ValidationError extends SagastreamError {
  declare readonly code: 'INPUT_VALIDATION_FAILED' | 'OUTPUT_VALIDATION_FAILED';
  readonly issues: readonly ValidationIssue[];

  constructor(
    code: 'INPUT_VALIDATION_FAILED' | 'OUTPUT_VALIDATION_FAILED',
    message: string,
    issues: readonly ValidationIssue[],
    options: SagastreamErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = 'ValidationError';
    this.issues = issues;
  }
}
