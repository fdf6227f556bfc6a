// sagastream errors: one base class with a `code` from ERROR_CODES, and the retryable/terminal split.
export { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes.js';
export { isRetryable } from './is-retryable.js';
export {
  SagastreamError,
  type SagastreamErrorCode,
  type SagastreamErrorOptions,
} from './sagastream-error.js';
export {
  DEFAULT_MAX_ERROR_LENGTH,
  serializeError,
  type SerializedError,
  type SerializeErrorOptions,
} from './serialize-error.js';
export { StepTimeoutError, type StepTimeoutErrorOptions } from './step-timeout-error.js';
export { TerminalError, type TerminalErrorOptions } from './terminal-error.js';
export { ValidationError, type ValidationIssue } from './validation-error.js';
export { within } from './within.js';
