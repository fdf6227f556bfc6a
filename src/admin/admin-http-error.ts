// Errors the admin API answers with, and the mapping of everything else to `{ "error": { code, message } }`
// without stack traces: engine errors keep their code, fastify's client errors keep their status.
import { SagastreamError } from '../errors/index.js';
import { redactUrlsInText } from '../logging/logger.js';

/** Codes of the admin HTTP API's own refusals (engine errors answer with their SagastreamError code). */
export const ADMIN_ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  MUTATIONS_DISABLED: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_READY: 503,
  INTERNAL: 500,
} as const;

export type AdminErrorCode = keyof typeof ADMIN_ERROR_STATUS;

export class AdminHttpError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdminHttpError';
    this.statusCode = ADMIN_ERROR_STATUS[code];
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export interface ErrorResponse {
  statusCode: number;
  body: ErrorBody;
  /** Unexpected: log it with its stack (the response never carries one). */
  unexpected: boolean;
}

const SAGASTREAM_STATUS: Readonly<Record<string, number>> = {
  SAGA_NOT_FOUND: 404,
  INVALID_STATE: 409,
  // An operation (cancel, retry) on a saga of a version this admin process does not load: ask one that does.
  VERSION_NOT_LOADED: 409,
  INPUT_VALIDATION_FAILED: 422,
};

const FASTIFY_CLIENT_CODES: Readonly<Record<number, AdminErrorCode>> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

function body(code: string, message: string): ErrorBody {
  return { error: { code, message: redactUrlsInText(message) } };
}

export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof AdminHttpError) {
    return { statusCode: error.statusCode, body: body(error.code, error.message), unexpected: false };
  }
  if (error instanceof SagastreamError) {
    const statusCode = SAGASTREAM_STATUS[error.code];
    if (statusCode !== undefined) {
      return { statusCode, body: body(error.code, error.message), unexpected: false };
    }
  }
  // fastify's own client errors (body too large, malformed JSON, bad content type) carry a 4xx statusCode.
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const code = FASTIFY_CLIENT_CODES[statusCode] ?? 'BAD_REQUEST';
    const message = error instanceof Error ? error.message : 'bad request';
    return { statusCode, body: body(code, message), unexpected: false };
  }
  return {
    statusCode: 500,
    body: body('INTERNAL', 'The admin server failed to answer this request; the server log has the details.'),
    unexpected: true,
  };
}
