// The single registry of error codes sagastream raises, with whether an error of that code is worth retrying.
// Add a code here before throwing it anywhere; `isRetryable` and `serializeError` read this table.

export const ERROR_CODES = {
  /** A saga definition (or a list of them) is malformed; found when the process loads its sagas. */
  INVALID_DEFINITION: { retryable: false },
  /** A duration is not '250ms', '30s', '5m', '1h', '1d' or a number of milliseconds. */
  INVALID_DURATION: { retryable: false },
  /** The trigger document does not match the saga's `input` schema; the saga is rejected. */
  INPUT_VALIDATION_FAILED: { retryable: false },
  /** A step returned a value its `output` schema refuses; running it again would not change that. */
  OUTPUT_VALIDATION_FAILED: { retryable: false },
  /** One attempt of a step ran past its timeout; its signal was aborted. It may have taken effect. */
  STEP_TIMEOUT: { retryable: true },
  /** A step attempt failed with an ordinary error. */
  STEP_FAILED: { retryable: true },
  /** User code threw a `TerminalError`: no more attempts. */
  TERMINAL: { retryable: false },
  /** A wait step's `timeout` passed with no matching document, and its `onTimeout` is `compensate`. */
  WAIT_TIMEOUT: { retryable: false },
  /** A wait step's `match` returned no usable filter (not an object, or no top-level equality field). */
  INVALID_WAIT_FILTER: { retryable: false },
  /** The saga was cancelled by an operator. */
  CANCELLED: { retryable: false },
  /** The saga's overall deadline passed. */
  SAGA_DEADLINE_EXCEEDED: { retryable: false },
  /** Compensation of a step failed on its last attempt. */
  COMPENSATION_FAILED: { retryable: false },
  /** No saga definition (or no saga instance) has the requested name or id. */
  SAGA_NOT_FOUND: { retryable: false },
  /** A stored saga's version is not loaded in this process (its definition is not in the sagas module). */
  VERSION_NOT_LOADED: { retryable: true },
  /**
   * A saga version's shape (steps, compensations, retries, timeouts, trigger) differs from the one stored for the
   * same name and version: the process refuses to start; bump the version.
   */
  DEFINITION_CHANGED: { retryable: false },
  /** An operation does not apply to the saga's current state (e.g. cancelling a completed saga). */
  INVALID_STATE: { retryable: false },
  /** `SagaHandle.result` waited its whole timeout; the saga itself goes on. */
  RESULT_TIMEOUT: { retryable: true },
  /** A test environment's trigger watchers did not start following their change streams in time. */
  WATCHER_NOT_READY: { retryable: true },
  /** MongoDB or Redis did not answer a call within its bound: unreachable, or a half-open connection. */
  CONNECTION_TIMEOUT: { retryable: true },
  /** Process configuration (environment variables, CLI options) is invalid. */
  CONFIG_INVALID: { retryable: false },
  /** An error that did not come from sagastream (a library or user code), when it must be named. */
  UNEXPECTED: { retryable: true },
} as const satisfies Record<string, { readonly retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
