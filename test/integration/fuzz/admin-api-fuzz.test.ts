// Admin API fuzzing: seeded random methods, paths, ids, query strings, headers and bodies. Every answer must be
// a 2xx/3xx for requests that make sense and a 4xx otherwise, never a 5xx, and the server must keep answering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { SeededRandom } from '../../chaos/seeded-random.js';
import { startAdminFixture, TEST_TOKEN, type AdminFixture } from '../admin/admin-fixture.js';

const REQUESTS = 1_500;
const CONCURRENCY = 8;
const random = new SeededRandom(20_261_122);

const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'];
const ODD = [
  '',
  ' ',
  '..',
  '%2e%2e',
  '%00',
  '%',
  '%zz',
  '%F0%9F%92%A5',
  '💥',
  '\u202E',
  'null',
  'undefined',
  '-1',
  '0',
  '1e309',
  'NaN',
  '[]',
  '{}',
  '$where',
  '__proto__',
  'constructor',
  "'; DROP TABLE sagas; --",
  '<script>alert(1)</script>',
  'sg000000000000000000000',
  'sgzzzzzzzzz000000000000',
];

/** Any code point but a lone surrogate, which a URL cannot carry. */
function codePoint(): number {
  const point = random.int(1, 0x10ffff);
  return point >= 0xd800 && point <= 0xdfff ? 0xfffd : point;
}

function oddText(): string {
  const roll = random.next();
  if (roll < 0.6) return random.pick(ODD);
  if (roll < 0.8) return encodeURIComponent(String.fromCodePoint(codePoint()).repeat(random.int(1, 30)));
  if (roll < 0.95) return 'a'.repeat(random.int(100, 3_000));
  return 'b'.repeat(random.int(6_000, 12_000));
}

function idFor(real: SagaDocument): string {
  const choices = [
    () => real._id,
    () => `${real._id}.dl.g0`,
    () => `${real._id}.dl.g${random.int(-3, 99_999_999_999)}`,
    () => real._id.toUpperCase(),
    () => `${real._id}${oddText()}`,
    oddText,
  ];
  return random.pick(choices)();
}

function pathFor(real: SagaDocument): string {
  const id = idFor(real);
  const templates = [
    '/',
    '/healthz',
    '/readyz',
    '/metrics',
    '/api/stats',
    '/api/sagas',
    `/api/sagas/${id}`,
    `/api/sagas/${id}/cancel`,
    `/api/sagas/${id}/retry`,
    '/api/dead-letters',
    `/api/dead-letters/${id}`,
    `/api/dead-letters/${id}/retry`,
    `/api/${oddText()}`,
    `/${oddText()}/${oddText()}`,
    `/api/sagas/${id}/${oddText()}`,
    '/api//sagas',
    '/API/SAGAS',
    `/api/sagas/${id}?`,
  ];
  return random.pick(templates);
}

function queryString(): string {
  const names = ['limit', 'after', 'status', 'saga', 'token', 'cursor', oddText(), 'limit[]', 'status[$ne]'];
  const values = [
    () => String(random.int(-5, 1_000_000)),
    () => random.pick(['running', 'completed', 'failed', 'rejected', 'compensating', 'nope']),
    oddText,
    () => '1.5',
    () => '',
  ];
  const count = random.int(0, 4);
  const parts: string[] = [];
  for (let index = 0; index < count; index += 1) {
    parts.push(`${encodeURIComponent(random.pick(names))}=${random.pick(values)()}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function body(): { body?: string; contentType?: string } {
  const roll = random.next();
  if (roll < 0.3) return {};
  if (roll < 0.5)
    return {
      body: JSON.stringify({ reason: oddText(), force: random.next() < 0.5 }),
      contentType: 'application/json',
    };
  if (roll < 0.6) return { body: '{"reason": "unterminated', contentType: 'application/json' };
  if (roll < 0.7) return { body: JSON.stringify([1, { a: [null] }]), contentType: 'application/json' };
  if (roll < 0.75) return { body: 'x'.repeat(2 * 1024 * 1024), contentType: 'application/json' };
  if (roll < 0.85)
    return {
      body: oddText(),
      contentType: random.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/xml']),
    };
  if (roll < 0.9) return { body: '{"__proto__": {"admin": true}}', contentType: 'application/json' };
  return { body: 'null', contentType: 'application/json; charset=utf-16' };
}

function headers(contentType: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  const auth = random.next();
  if (auth < 0.5) result.authorization = `Bearer ${TEST_TOKEN}`;
  else if (auth < 0.7)
    result.authorization = random.pick([
      'Bearer',
      'Bearer ',
      'Basic Zm9vOmJhcg==',
      `Bearer ${encodeURIComponent(oddText())}`,
    ]);
  if (contentType !== undefined) result['content-type'] = contentType;
  if (random.next() < 0.1)
    result.accept = random.pick([
      'text/event-stream',
      '*/*',
      'application/xml',
      encodeURIComponent(oddText()),
    ]);
  return result;
}

interface Answer {
  method: string;
  path: string;
  status: number;
}

/** A JSON readiness report (`{ ready, failing, … }`), the only body a 503 of /readyz may carry. */
function isReadinessReport(body: unknown): body is string {
  if (typeof body !== 'string') return false;
  try {
    const report = JSON.parse(body) as { ready?: unknown; failing?: unknown };
    return report.ready === false && Array.isArray(report.failing) && report.failing.length > 0;
  } catch {
    return false;
  }
}

describe('admin API fuzzing', () => {
  let fixture: AdminFixture;
  let sagas: SagaDocument[];

  beforeAll(async () => {
    fixture = await startAdminFixture({ token: TEST_TOKEN });
    fixture.behaviour.compensationBroken = true;
    const ok = await fixture.startOrder('ok');
    const failing = await fixture.startOrder('fail');
    await fixture.waitForStatus(failing._id, 'failed');
    const holding = await fixture.startOrder('hold');
    sagas = [ok, failing, holding];
  }, 60_000);

  afterAll(async () => {
    await fixture.close();
  });

  it(`answers ${REQUESTS} fuzzed requests with 2xx-4xx only and keeps answering`, async () => {
    const requests = Array.from({ length: REQUESTS }, () => {
      const method = random.pick(METHODS);
      const path = `${pathFor(random.pick(sagas))}${queryString()}`;
      const { body: text, contentType } = body();
      const withBody = method !== 'GET' && method !== 'HEAD' && text !== undefined;
      return {
        method,
        path,
        init: {
          method,
          headers: headers(withBody ? contentType : undefined),
          ...(withBody && { body: text }),
        },
      };
    });
    const fivexx: Answer[] = [];
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const request = requests[next++];
        if (request === undefined) return;
        let url: string;
        try {
          // Appended, not resolved: `//x` must stay a path, not become a host.
          url = new URL(`${fixture.url.replace(/\/$/, '')}${request.path}`).toString();
        } catch {
          continue; // a path fetch cannot even express
        }
        try {
          const response = await fetch(url, { ...request.init, signal: AbortSignal.timeout(10_000) });
          // /api/events streams forever: the status line is the answer.
          const body = url.includes('/api/events') ? await response.body?.cancel() : await response.text();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          // Under this load a readiness ping may miss its 2 s budget: a 503 naming the part is /readyz's answer.
          const readiness = new URL(url).pathname === '/readyz';
          if (response.status === 503 && readiness && isReadinessReport(body)) continue;
          if (response.status >= 500)
            fivexx.push({
              method: request.method,
              path: request.path.slice(0, 200),
              status: response.status,
            });
        } catch (error) {
          failures.push(`${request.method} ${request.path.slice(0, 200)}: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(fivexx.slice(0, 20)).toEqual([]);
    expect(failures.slice(0, 20)).toEqual([]);
    expect([...statuses.keys()].some((status) => status >= 200 && status < 300)).toBe(true);
    expect([...statuses.keys()].some((status) => status >= 400 && status < 500)).toBe(true);
    const health = await fetch(new URL('/healthz', fixture.url));
    expect(health.status).toBe(200);
    await expect.poll(async () => (await fetch(new URL('/readyz', fixture.url))).status).toBe(200);
    const list = await fetch(new URL('/api/sagas', fixture.url), {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(list.status).toBe(200);
  }, 60_000);
});
