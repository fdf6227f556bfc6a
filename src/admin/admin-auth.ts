// Bearer-token checks for the admin API. Tokens are compared as SHA-256 digests with timingSafeEqual, so the
// comparison takes the same time whatever the supplied token's length or content.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AdminHttpError } from './admin-http-error.js';

/**
 * Answer without a token even when one is configured: liveness/readiness probes, the static page shell and its
 * icon (browsers fetch it without the token).
 */
const PUBLIC_ROUTES = new Set(['/healthz', '/readyz', '/', '/favicon.ico']);
/** EventSource cannot set headers, so the event stream also accepts `?token=`. */
const QUERY_TOKEN_ROUTES = new Set(['/api/events']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function tokensMatch(expected: string, supplied: string): boolean {
  return timingSafeEqual(digest(expected), digest(supplied));
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function queryToken(request: FastifyRequest): string | undefined {
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

export const MUTATIONS_DISABLED_MESSAGE =
  'Changing sagas through the admin API is disabled because no admin token is configured. ' +
  'Set ADMIN_TOKEN (at least 16 characters) for the process that serves the admin API, restart it, ' +
  'and send the token as "Authorization: Bearer <token>".';

/**
 * Throws when the request may not proceed: 403 for a mutation while no token is configured, 401 for a
 * missing or wrong token. `route` is the matched route pattern (undefined for unknown routes).
 */
export function authorize(
  request: FastifyRequest,
  route: string | undefined,
  token: string | undefined,
): void {
  const mutation = !SAFE_METHODS.has(request.method);
  if (token === undefined) {
    if (mutation) throw new AdminHttpError('MUTATIONS_DISABLED', MUTATIONS_DISABLED_MESSAGE);
    return;
  }
  if (route !== undefined && PUBLIC_ROUTES.has(route) && !mutation) return;
  const supplied =
    bearerToken(request) ??
    (route !== undefined && QUERY_TOKEN_ROUTES.has(route) ? queryToken(request) : undefined);
  if (supplied === undefined) {
    throw new AdminHttpError(
      'UNAUTHORIZED',
      'This admin API needs a token: send "Authorization: Bearer <ADMIN_TOKEN>".',
    );
  }
  if (!tokensMatch(token, supplied)) {
    throw new AdminHttpError('UNAUTHORIZED', 'The admin token is wrong; use the ADMIN_TOKEN of the server.');
  }
}

/** The request URL without a `token` query parameter, for logs. */
export function redactTokenInUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[Redacted]');
}
