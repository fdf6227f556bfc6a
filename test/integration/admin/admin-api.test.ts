// The admin HTTP API against a real runtime: tokens, validation, pagination, operations, readiness, metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sagaIdFor } from '../../../src/model/saga-id.js';
import { legacySagaId } from '../../legacy-saga-id.js';
import { compareDeadLetterIds } from '../../../src/queue/queue-names.js';
import { TEST_TOKEN, startAdminFixture, type AdminFixture } from './admin-fixture.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';

interface ErrorBody {
  error: { code: string; message: string };
}

interface SagaDetailBody {
  steps: {
    name: string;
    status: string;
    attempts: number;
    nextAttemptAt: string | null;
    compensation: { status: string; nextAttemptAt: string | null } | null;
  }[];
  timeline: {
    step: string;
    attempt: number;
    outcome: string;
    startApproximate: boolean;
    endedAt: string | null;
  }[];
}

interface DeadLetterPageBody {
  items: { id: string; sagaId: string; kind: string }[];
  next: string | null;
}

function expectErrorShape(body: unknown, code: string): void {
  expect(body).toEqual({ error: { code, message: expect.any(String) as string } });
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at |node_modules|mongodb:\/\/|redis:\/\//);
}

describe('admin API with a token', () => {
  let fixture: AdminFixture;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${fixture.url}${path}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });

  beforeAll(async () => {
    fixture = await startAdminFixture({ token: TEST_TOKEN });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('answers /healthz and /readyz without a token', async () => {
    const health = await fetch(`${fixture.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${fixture.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as {
      status: string;
      mongodb: { ok: boolean };
      redis: { ok: boolean };
      watchers: { saga: string; state: string; leaseHolder: string | null; lagSeconds: number | null }[];
    };
    expect(body.status).toBe('ready');
    expect(body.mongodb.ok && body.redis.ok).toBe(true);
    expect(body.watchers).toEqual([
      expect.objectContaining({
        saga: 'orders',
        state: 'active',
        leaseHolder: fixture.runtime.trigger?.holderId,
      }),
    ]);
  });

  it('serves the dashboard icon without a token', async () => {
    const response = await fetch(`${fixture.url}/favicon.ico`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await response.text()).toMatch(/^<svg [^>]*>.*<\/svg>$/);
  });

  it('refuses a missing or wrong token with 401 and accepts the right one', async () => {
    const missing = await fetch(`${fixture.url}/api/stats`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectErrorShape(await missing.json(), 'UNAUTHORIZED');

    const wrong = await fetch(`${fixture.url}/api/stats`, {
      headers: { authorization: 'Bearer nope-not-it' },
    });
    expect(wrong.status).toBe(401);
    const wrongBody = (await wrong.json()) as ErrorBody;
    expectErrorShape(wrongBody, 'UNAUTHORIZED');
    expect(wrongBody.error.message).not.toContain(TEST_TOKEN);

    for (const path of ['/api/sagas', '/api/dead-letters', '/metrics', '/api/events']) {
      expect((await fetch(`${fixture.url}${path}`)).status).toBe(401);
    }
    const mutation = await fetch(`${fixture.url}/api/sagas/${sagaIdFor('orders', 'nobody')}/cancel`, {
      method: 'POST',
    });
    expect(mutation.status).toBe(401);

    const right = await call('/api/stats');
    expect(right.status).toBe(200);
  });

  it('accepts the token as a query parameter on the event stream only', async () => {
    const onStats = await fetch(`${fixture.url}/api/stats?token=${TEST_TOKEN}`);
    expect(onStats.status).toBe(401);
    const controller = new AbortController();
    const events = await fetch(`${fixture.url}/api/events?token=${TEST_TOKEN}`, {
      signal: controller.signal,
    });
    expect(events.status).toBe(200);
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = events.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value as Uint8Array)).toContain('event: hello');
    controller.abort();
    await reader.cancel().catch(() => undefined);
  });

  it('answers 400 for malformed ids and 404 for unknown ones', async () => {
    const malformed = await call('/api/sagas/not-a-saga-id');
    expect(malformed.status).toBe(400);
    expectErrorShape(await malformed.json(), 'BAD_REQUEST');
    // Both id forms are ids: the derived one and the random one of earlier versions.
    for (const id of [sagaIdFor('orders', 'no-such-key'), legacySagaId()]) {
      const unknown = await call(`/api/sagas/${id}`);
      expect(unknown.status, id).toBe(404);
      expectErrorShape(await unknown.json(), 'NOT_FOUND');
      expect((await call(`/api/dead-letters/${id}.dl.g0`, { method: 'DELETE' })).status, id).toBe(404);
    }

    expect((await call('/api/sagas/x%00y/cancel', { method: 'POST' })).status).toBe(400);
    const unknownCancel = await call(`/api/sagas/${sagaIdFor('orders', 'no-such-key')}/cancel`, {
      method: 'POST',
    });
    expect(unknownCancel.status).toBe(404);
    expectErrorShape(await unknownCancel.json(), 'SAGA_NOT_FOUND');

    expect((await call('/api/dead-letters/../../etc/retry', { method: 'POST' })).status).toBe(404);
    expect((await call('/api/dead-letters/nope/retry', { method: 'POST' })).status).toBe(400);
    const route = await call('/api/nothing-here');
    expect(route.status).toBe(404);
    expectErrorShape(await route.json(), 'NOT_FOUND');
  });

  it('validates query parameters', async () => {
    for (const query of ['limit=0', 'limit=1000', 'limit=abc', 'status=sleeping', 'after=zzz', 'color=red']) {
      const response = await call(`/api/sagas?${query}`);
      expect(response.status, query).toBe(400);
      expectErrorShape(await response.json(), 'BAD_REQUEST');
    }
  });

  it('refuses oversized bodies with 413', async () => {
    const saga = await fixture.startOrder('ok');
    const response = await call(`/api/sagas/${saga._id}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(64 * 1024) }),
    });
    expect(response.status).toBe(413);
    expectErrorShape(await response.json(), 'PAYLOAD_TOO_LARGE');
  });

  it('lists sagas newest first with cursor pagination and filters', async () => {
    const started = [];
    for (let index = 0; index < 5; index++) started.push(await fixture.startOrder('ok'));
    for (const saga of started) await fixture.waitForStatus(saga._id, 'completed');
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const response = await call(`/api/sagas?limit=2&saga=orders${after ? `&after=${after}` : ''}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as {
        items: { id: string; saga: string; status: string; key: string; step: string | null }[];
        next: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.id));
      after = page.next;
    } while (after !== null);
    // Newest first: by creation time, then by id (ids are derived from keys, so they tell no age).
    const created = new Map(
      (await fixture.runtime.store.collection.find({ _id: { $in: seen } }).toArray()).map((saga) => [
        saga._id,
        saga.createdAt.getTime(),
      ]),
    );
    const newestFirst = [...seen].sort(
      (a, b) => created.get(b)! - created.get(a)! || (a < b ? 1 : a > b ? -1 : 0),
    );
    expect(seen).toEqual(newestFirst);
    expect(new Set(seen).size).toBe(seen.length);
    for (const saga of started) expect(seen).toContain(saga._id);

    const completed = (await (await call('/api/sagas?status=completed&limit=200')).json()) as {
      items: { status: string }[];
    };
    expect(completed.items.length).toBeGreaterThanOrEqual(5);
    expect(completed.items.every((item) => item.status === 'completed')).toBe(true);
    // A cursor whose saga is gone (expired, removed) cannot place the next page: 400, not a wrong page.
    const gone = started[0]!;
    await fixture.runtime.store.collection.deleteOne({ _id: gone._id });
    const lost = await call(`/api/sagas?limit=2&after=${gone._id}`);
    expect(lost.status).toBe(400);
    expectErrorShape(await lost.json(), 'BAD_REQUEST');
  });

  it('shows a saga with its steps, history and timeline', async () => {
    const saga = await fixture.startOrder('ok');
    await fixture.waitForStatus(saga._id, 'completed');
    const detail = (await (await call(`/api/sagas/${saga._id}`)).json()) as {
      id: string;
      status: string;
      input: { mode: string };
      steps: { name: string; status: string; attempts: number; output: unknown }[];
      history: { type: string }[];
      timeline: { step: string; phase: string; outcome: string; startedAt: string; endedAt: string }[];
    };
    expect(detail).toMatchObject({ id: saga._id, status: 'completed', input: { mode: 'ok' } });
    expect(detail.steps.map((step) => [step.name, step.status, step.attempts])).toEqual([
      ['reserve', 'completed', 1],
      ['charge', 'completed', 1],
    ]);
    expect(detail.steps[1]?.output).toEqual({ charged: 42 });
    expect(detail.history.map((event) => event.type)).toEqual([
      'saga-started',
      'step-completed',
      'saga-completed',
    ]);
    expect(detail.timeline.map((segment) => [segment.step, segment.phase, segment.outcome])).toEqual([
      ['reserve', 'forward', 'completed'],
      ['charge', 'forward', 'completed'],
    ]);
  });

  it('shows the step a saga has scheduled as queued while its job waits, and running once a worker took it', async () => {
    const queue = fixture.runtime.queues.stepQueue('orders');
    const shown = async (id: string) => {
      const detail = (await (await call(`/api/sagas/${id}`)).json()) as SagaDetailBody;
      const running = detail.timeline.find((segment) => segment.outcome === 'running');
      return [detail.steps.map((step) => step.status), running?.step ?? null];
    };
    await queue.pause();
    let saga: SagaDocument;
    try {
      saga = await fixture.startOrder('hold');
      await expect.poll(() => shown(saga._id)).toEqual([['queued', 'pending'], null]);
    } finally {
      await queue.resume();
    }
    // charge holds: nothing stored says it began, its active job does.
    await expect
      .poll(() => shown(saga._id), { timeout: 20_000 })
      .toEqual([['completed', 'running'], 'charge']);
    expect((await fixture.runtime.store.get(saga._id))?.steps[1]?.status).toBe('scheduled');
    await call(`/api/sagas/${saga._id}/cancel`, { method: 'POST' });
    await fixture.waitForStatus(saga._id, 'compensated');
  });

  it('cancels a running saga, and refuses to cancel it again', async () => {
    const saga = await fixture.startOrder('hold');
    await fixture.waitForStep(saga._id, 'charge', 'running');
    const cancel = await call(`/api/sagas/${saga._id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    const compensated = await fixture.waitForStatus(saga._id, 'compensated');
    expect(compensated.reason).toBe('cancelled');
    const again = await call(`/api/sagas/${saga._id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
    expectErrorShape(await again.json(), 'INVALID_STATE');

    // The attempt the cancel cut off shows as cancelled (it is stored like a timeout: its effect may exist).
    const charge = async () => {
      const detail = (await (await call(`/api/sagas/${saga._id}`)).json()) as SagaDetailBody;
      const segment = detail.timeline.find((item) => item.step === 'charge');
      return [detail.steps[1]?.status, segment?.outcome, segment?.endedAt === null];
    };
    await expect.poll(charge, { timeout: 20_000 }).toEqual(['cancelled', 'cancelled', false]);
  });

  it('shows a step that failed for good without a next attempt, and marks approximate attempt starts', async () => {
    fixture.behaviour.compensationBroken = false;
    const saga = await fixture.startOrder('error');
    await fixture.waitForStatus(saga._id, 'compensated');
    const detail = (await (await call(`/api/sagas/${saga._id}`)).json()) as SagaDetailBody;
    expect(detail.steps[1]).toMatchObject({
      name: 'charge',
      status: 'failed',
      attempts: 3,
      nextAttemptAt: null,
    });
    expect(detail.steps[0]?.compensation).toMatchObject({ status: 'completed', nextAttemptAt: null });
    const charge = detail.timeline.filter((segment) => segment.step === 'charge');
    // Only the first and the latest attempt's start are stored: the middle one is drawn from the first's end.
    expect(charge.map((segment) => [segment.attempt, segment.outcome, segment.startApproximate])).toEqual([
      [1, 'failed', false],
      [2, 'failed', true],
      [3, 'failed', false],
    ]);
  });

  it('retries a failed saga and manages its dead letters', async () => {
    fixture.behaviour.compensationBroken = true;
    const first = await fixture.startOrder('fail');
    const second = await fixture.startOrder('fail');
    await fixture.waitForStatus(first._id, 'failed');
    await fixture.waitForStatus(second._id, 'failed');

    const listed = async () =>
      ((await (await call('/api/dead-letters')).json()) as { items: { id: string; sagaId: string }[] }).items;
    await expect
      .poll(async () => (await listed()).map((item) => item.sagaId), {
        message: 'dead letters for both sagas',
      })
      .toEqual(expect.arrayContaining([first._id, second._id]));
    const entries = await listed();
    const stats = (await (await call('/api/stats')).json()) as { deadLetters: number };
    expect(stats.deadLetters).toBeGreaterThanOrEqual(2);

    fixture.behaviour.compensationBroken = false;
    const retried = await call(`/api/sagas/${first._id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(200);
    await fixture.waitForStatus(first._id, 'compensated');

    const secondEntry = entries.find((item) => item.sagaId === second._id)!;
    const discarded = await call(`/api/dead-letters/${secondEntry.id}`, { method: 'DELETE' });
    expect(discarded.status).toBe(204);
    const remaining = await listed();
    expect(remaining.some((item) => item.sagaId === first._id || item.sagaId === second._id)).toBe(false);
    expect((await call(`/api/dead-letters/${secondEntry.id}/retry`, { method: 'POST' })).status).toBe(404);
    const notFailed = await call(`/api/sagas/${first._id}/retry`, { method: 'POST' });
    expect(notFailed.status).toBe(409);
  });

  it('starts a saga from code with POST /api/sagas: 201 new, 200 for a key that has one, 400 for a bad input', async () => {
    const start = (body: unknown) =>
      call('/api/sagas', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const input = { _id: 'api-1', status: 'new', mode: 'ok' };
    const created = await start({ saga: 'orders', input, key: 'api-key-1' });
    expect(created.status).toBe(201);
    const first = (await created.json()) as { id: string; saga: string; key: string; status: string };
    expect(first).toMatchObject({ saga: 'orders', key: 'api-key-1', status: 'running' });
    expect(first.id).toMatch(/^sg/);
    const again = await start({ saga: 'orders', input: { ...input, mode: 'fail' }, key: 'api-key-1' });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: first.id, key: 'api-key-1' });
    await fixture.waitForStatus(first.id, 'completed');

    const invalid = await start({ saga: 'orders', input: { ...input, mode: 'sideways' }, key: 'api-key-2' });
    expect(invalid.status).toBe(400);
    const refused = (await invalid.json()) as { error: { code: string; issues: { path: string }[] } };
    expect(refused.error.code).toBe('INPUT_VALIDATION_FAILED');
    expect(refused.error.issues.map((issue) => issue.path)).toEqual(['mode']);
    expect(await fixture.runtime.store.findByKey('orders', 'api-key-2')).toBeNull();
    expect((await start({ saga: 'no-such-saga', input })).status).toBe(404);
    expect((await start({ saga: 'orders', input, bogus: 1 })).status).toBe(400);
    const anonymous = await fetch(`${fixture.url}/api/sagas`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ saga: 'orders', input }),
    });
    expect(anonymous.status).toBe(401);
  });

  it('reports stats and Prometheus metrics', async () => {
    const saga = await fixture.startOrder('ok');
    await fixture.waitForStatus(saga._id, 'completed');
    const stats = (await (await call('/api/stats')).json()) as {
      sagas: { saga: string; counts: Record<string, number> }[];
      totals: Record<string, number>;
      queues: { queue: string; waiting: number }[];
      completionsPerMinute: number;
      watchers: { saga: string; lagSeconds: number | null }[];
    };
    expect(stats.sagas[0]?.saga).toBe('orders');
    expect(stats.sagas[0]?.counts.completed).toBeGreaterThanOrEqual(1);
    expect(stats.completionsPerMinute).toBeGreaterThanOrEqual(1);
    expect(stats.queues.map((queue) => queue.queue)).toEqual(['saga-orders', 'saga-kits', 'saga-timers']);
    expect(stats.watchers[0]?.saga).toBe('orders');

    const text = await (await call('/metrics')).text();
    expect(text).toMatch(/sagastream_sagas\{saga="orders",status="completed"\} [1-9]/);
    expect(text).toMatch(/sagastream_queue_jobs\{queue="saga-orders",state="waiting"\} \d/);
    expect(text).toMatch(/sagastream_dead_letters \d/);
    expect(text).toContain('process_cpu_user_seconds_total');
    // Counters are the workers' and watchers' own (see admin-metrics.test.ts); this runtime was given no sink.
    expect(text).not.toMatch(/^sagastream_sagas_completed_total\{/m);
  });
});

describe('admin API without a token', () => {
  let fixture: AdminFixture;

  beforeAll(async () => {
    fixture = await startAdminFixture();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('serves reads but refuses every mutation with 403 explaining how to enable them', async () => {
    expect((await fetch(`${fixture.url}/api/stats`)).status).toBe(200);
    const saga = await fixture.startOrder('hold');
    for (const [method, path] of [
      ['POST', `/api/sagas/${saga._id}/cancel`],
      ['POST', `/api/sagas/${saga._id}/retry`],
      ['POST', `/api/dead-letters/${saga._id}.dl.g0/retry`],
      ['DELETE', `/api/dead-letters/${saga._id}.dl.g0`],
      ['POST', '/api/sagas'],
    ] as const) {
      const response = await fetch(`${fixture.url}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(403);
      const body = (await response.json()) as ErrorBody;
      expectErrorShape(body, 'MUTATIONS_DISABLED');
      expect(body.error.message).toContain('ADMIN_TOKEN');
    }
    expect((await fixture.runtime.store.get(saga._id))?.status).toBe('running');
  });

  it('serves the dashboard page with a strict content security policy', async () => {
    const response = await fetch(`${fixture.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(
      /default-src 'none'; script-src 'sha256-/,
    );
    const html = await response.text();
    // Nothing loads from elsewhere: no script sources, and the one link (the icon) is a data: URL.
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect([...html.matchAll(/<link[^>]+href="([^"]*)"/g)].map((match) => match[1]?.slice(0, 19))).toEqual([
      'data:image/svg+xml,',
    ]);
  });
});

describe('dead letters through the admin API', () => {
  let fixture: AdminFixture;
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${fixture.url}${path}`, { ...init, headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  const page = async (query: string) => {
    const response = await call(`/api/dead-letters${query}`);
    expect(response.status, query).toBe(200);
    return (await response.json()) as DeadLetterPageBody;
  };
  const deadLetterCount = async () =>
    ((await (await call('/api/stats')).json()) as { deadLetters: number }).deadLetters;

  beforeAll(async () => {
    // No worker of its own: the stuck saga below needs its jobs to fail in a breaking worker first.
    fixture = await startAdminFixture({
      token: TEST_TOKEN,
      worker: false,
      sweeper: { interval: 300, leaseTtl: 2_000, stuckAfter: 2 },
    });
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('pages through more than 100 dead letters, in saga id order', async () => {
    // Orders without a valid `mode` are rejected on arrival: one dead letter each.
    const count = 112;
    await fixture.db
      .collection<{ _id: string; status: string }>('orders')
      .insertMany(Array.from({ length: count }, (_, index) => ({ _id: `bad-${index}`, status: 'new' })));
    await expect.poll(deadLetterCount, { timeout: 20_000 }).toBe(count);

    const first = await page('');
    expect(first.items).toHaveLength(100);
    expect(first.next).toBe(first.items[99]?.id);
    const second = await page(`?after=${first.next}`);
    expect(second.items).toHaveLength(count - 100);
    expect(second.next).toBeNull();
    const ids = [...first.items, ...second.items].map((item) => item.id);
    expect(new Set(ids).size).toBe(count);
    expect(ids).toEqual([...ids].sort(compareDeadLetterIds));
    expect(first.items.every((item) => item.kind === 'rejected')).toBe(true);

    const small: string[] = [];
    let after: string | null = null;
    const sizes: number[] = [];
    do {
      const next: DeadLetterPageBody = await page(`?limit=50${after === null ? '' : `&after=${after}`}`);
      sizes.push(next.items.length);
      small.push(...next.items.map((item) => item.id));
      after = next.next;
    } while (after !== null);
    expect(sizes).toEqual([50, 50, 12]);
    expect(small).toEqual(ids);

    // The cursor is an id, not an offset: removing the entry it names (or any before it) shifts nothing.
    expect((await call(`/api/dead-letters/${first.next}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`/api/dead-letters/${ids[0]}`, { method: 'DELETE' })).status).toBe(204);
    expect((await page(`?after=${first.next}`)).items.map((item) => item.id)).toEqual(ids.slice(100));

    for (const query of [
      'limit=0',
      'limit=1001',
      'after=nope',
      `after=${sagaIdFor('orders', 'x')}`,
      'offset=3',
    ]) {
      const response = await call(`/api/dead-letters?${query}`);
      expect(response.status, query).toBe(400);
      expectErrorShape(await response.json(), 'BAD_REQUEST');
    }
  });

  // Slow on a busy machine: the breaking worker fails the job in BullMQ, then the sweeper retries it three times.
  it(
    'retries the dead letter of a stuck saga: the saga is released and finishes',
    { timeout: 90_000 },
    async () => {
      const breaker = fixture.startBreakingWorker();
      const saga = await fixture.startOrder('ok');
      const stuckId = `${saga._id}.stuck.g0`;
      const stuckEntries = async () =>
        (await page('?limit=1000')).items.filter((item) => item.sagaId === saga._id);
      await expect
        .poll(stuckEntries, { timeout: 45_000 })
        .toEqual([expect.objectContaining({ id: stuckId, kind: 'stuck' })]);
      await breaker.close();
      expect((await fixture.runtime.store.get(saga._id))?.stuck?.deadLetteredAt).toBeDefined();

      const retried = await call(`/api/dead-letters/${stuckId}/retry`, { method: 'POST' });
      expect(retried.status).toBe(200);
      expect(await retried.json()).toMatchObject({ id: saga._id, status: 'running' });
      expect(await stuckEntries()).toEqual([]);
      expect((await fixture.runtime.store.get(saga._id))?.stuck).toBeUndefined();

      // Its job is queued again: a worker now runs the saga to the end.
      await fixture.startWorker();
      await fixture.waitForStatus(saga._id, 'completed');
      expect((await call(`/api/dead-letters/${stuckId}/retry`, { method: 'POST' })).status).toBe(404);
    },
  );
});
