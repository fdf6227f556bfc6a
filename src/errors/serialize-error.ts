// Turns anything thrown into a small, stable record for the saga document and dead-letter entries.
import { isRetryable } from './is-retryable.js';
import { SagastreamError } from './sagastream-error.js';

export interface SerializedError {
  readonly message: string;
  /** A `SagastreamError` code, a `TerminalError`'s own code, a library's string code (`ECONNRESET`), else `UNEXPECTED`. */
  readonly code: string;
  readonly name: string;
  readonly retryable: boolean;
  /** Only with `includeStack: true`; truncated like the message. */
  readonly stack?: string;
}

export interface SerializeErrorOptions {
  /** Stacks are large and may reveal paths; off unless asked for. */
  readonly includeStack?: boolean;
  /** Longer messages are cut to this many characters (default 4096) so an error cannot bloat a document. */
  readonly maxLength?: number;
}

export const DEFAULT_MAX_ERROR_LENGTH = 4096;

export function serializeError(error: unknown, options: SerializeErrorOptions = {}): SerializedError {
  const maxLength = options.maxLength ?? DEFAULT_MAX_ERROR_LENGTH;
  const retryable = isRetryable(error);
  if (!(error instanceof Error)) {
    return {
      message: truncate(describeThrownValue(error), maxLength),
      code: 'UNEXPECTED',
      name: 'NonError',
      retryable,
    };
  }
  const serialized: SerializedError = {
    message: truncate(error.message, maxLength),
    code: codeOf(error),
    name: error.name,
    retryable,
  };
  if (options.includeStack === true && error.stack !== undefined) {
    return { ...serialized, stack: truncate(error.stack, maxLength) };
  }
  return serialized;
}

function codeOf(error: Error): string {
  if (error instanceof SagastreamError) return error.code;
  // MongoDB server errors carry a numeric `code` and a readable `codeName`; Node errors a string `code`.
  const { code, codeName } = error as { code?: unknown; codeName?: unknown };
  if (typeof codeName === 'string' && codeName !== '') return codeName;
  if (typeof code === 'string' && code !== '') return code;
  if (typeof code === 'number') return String(code);
  return 'UNEXPECTED';
}

function describeThrownValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function truncate(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const marker = `… [truncated ${text.length - maxLength} characters]`;
  let end = Math.max(0, maxLength - marker.length);
  // Do not split a surrogate pair: half an emoji is not valid UTF-8 for MongoDB's driver.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + marker;
}
