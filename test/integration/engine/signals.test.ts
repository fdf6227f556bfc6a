// Signals: `.waitFor({ signal })` steps ended by data sent from code (`handle.signal`), the admin API
// (`POST /api/sagas/:id/signals/:name`) or the CLI (`sagastream signal`); a signal sent before the saga reaches
// its step is kept and taken when it does.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startAdminServer } from '../../../src/admin/index.js';
import { main } from '../../../src/cli/main.js';
import { SagaRegistry, SagastreamError, defineSaga, type SagaDefinition } from '../../../src/index.js';
import { mongoAndCleanups } from '../helpers.js';
import { FAST_WORKER, engineTest, sagasCollection, testLogger } from './engine-test-kit.js';

const { mongo, onCleanup } = mongoAndCleanups();
const POLL = { timeout: 20_000, interval: 50 };
const TOKEN = 'signals-test-token-0123456789';

/** prepare (slow when asked) → wait for `approval` → apply with who approved. */
function approvalSaga(name: string): SagaDefinition {
  return defineSaga({ name, input: z.object({ refund: z.number(), prepareMs: z.number().default(0) }) })
    .step({
      name: 'prepare',
      run: async (ctx) => {
        await new Promise((resolve) => setTimeout(resolve, ctx.input.prepareMs));
        return { prepared: true };
      },
    })
    .waitFor({
      name: 'approval',
      signal: 'approval',
      timeout: '1h',
      output: z.object({ approvedBy: z.string() }),
    })
    .step({
      name: 'apply',
      run: (ctx) => Promise.resolve({ appliedFor: ctx.outputs.approval.approvedBy }),
    })
    .build();
}

async function started(name: string) {
  const saga = approvalSaga(name);
  const test = engineTest(mongo(), name);
  onCleanup(() => test.stop());
  const registry = new SagaRegistry([saga]);
  const runtime = await test.start({ registry, worker: FAST_WORKER });
  const client = await test.client(registry);
  const stepStatus = (id: string) => async () =>
    (await sagasCollection(test.db).findOne({ _id: id }))?.steps[1]?.status;
  return { saga, test, runtime, client, registry, stepStatus };
}

describe('signals', () => {
  it('end a wait for them with their data, sent from code', async () => {
    const { saga, client, test, stepStatus } = await started('signal-code');
    const handle = await client.start(saga.name, { refund: 10 });
    await expect.poll(stepStatus(handle.id), POLL).toBe('waiting');

    await handle.signal('approval', { approvedBy: 'ada' });

    const result = await handle.result({ timeout: '20s' });
    expect(result.status).toBe('completed');
    expect(result.outputs).toMatchObject({ approval: { approvedBy: 'ada' }, apply: { appliedFor: 'ada' } });
    expect((await sagasCollection(test.db).findOne({ _id: handle.id }))!.waiting).toBeUndefined();
  });

  it('are kept when sent before the saga reaches the step, and taken when it does', async () => {
    const { saga, client, stepStatus } = await started('signal-early');
    const handle = await client.start(saga.name, { refund: 10, prepareMs: 1_000 });
    // Sent while `prepare` still runs: nothing waits for it yet.
    expect(await stepStatus(handle.id)()).not.toBe('waiting');
    await handle.signal('approval', { approvedBy: 'grace' });

    const result = await handle.result({ timeout: '20s' });
    expect(result.status).toBe('completed');
    expect(result.outputs).toMatchObject({ apply: { appliedFor: 'grace' } });
  });

  it('fail the step, and compensate, when their data does not match the output schema', async () => {
    const { saga, client, stepStatus, test } = await started('signal-bad-data');
    const handle = await client.start(saga.name, { refund: 10 });
    await expect.poll(stepStatus(handle.id), POLL).toBe('waiting');

    await handle.signal('approval', { approvedBy: 42 });

    expect((await handle.result({ timeout: '20s' })).status).toBe('compensated');
    const doc = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(doc.steps[1]).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_VALIDATION_FAILED' } });
  });

  it('are refused for a signal the saga never waits for, and for a saga that ended', async () => {
    const { saga, client, stepStatus } = await started('signal-refused');
    const handle = await client.start(saga.name, { refund: 10 });
    await expect.poll(stepStatus(handle.id), POLL).toBe('waiting');

    const unknown = await handle.signal('approve', {}).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(SagastreamError);
    expect(unknown).toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringContaining('approval') as string,
    });
    await handle.signal('approval', { approvedBy: 'ada' });
    await handle.result({ timeout: '20s' });
    await expect(handle.signal('approval', { approvedBy: 'ada' })).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
  });

  it('are sent through the admin API (with the token) and the CLI', async () => {
    const { saga, client, runtime, registry, stepStatus, test } = await started('signal-admin');
    const admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      backend: runtime,
      registry,
      logger: testLogger('signal-admin'),
    });
    onCleanup(() => admin.close());
    const first = await client.start(saga.name, { refund: 1 });
    const second = await client.start(saga.name, { refund: 2 });
    await expect.poll(stepStatus(first.id), POLL).toBe('waiting');
    await expect.poll(stepStatus(second.id), POLL).toBe('waiting');
    const path = `/api/sagas/${first.id}/signals/approval`;
    const body = JSON.stringify({ data: { approvedBy: 'api' } });
    const headers = { 'content-type': 'application/json' };

    const anonymous = await fetch(`${admin.url}${path}`, { method: 'POST', headers, body });
    expect(anonymous.status).toBe(401);
    const sent = await fetch(`${admin.url}${path}`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${TOKEN}` },
      body,
    });
    expect(sent.status).toBe(202);
    expect(await sent.json()).toMatchObject({ sagaId: first.id, signal: 'approval' });
    expect((await first.result({ timeout: '20s' })).outputs).toMatchObject({ apply: { appliedFor: 'api' } });

    const out: string[] = [];
    const context = {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => out.push(text) },
      env: { ADMIN_URL: admin.url, ADMIN_TOKEN: TOKEN },
    } as unknown as Parameters<typeof main>[1];
    const code = await main(['signal', second.id, 'approval', '--data', '{"approvedBy":"cli"}'], context);
    expect(out.join('')).toContain(`signal approval sent to saga ${second.id}`);
    expect(code).toBe(0);
    expect((await second.result({ timeout: '20s' })).outputs).toMatchObject({ apply: { appliedFor: 'cli' } });
    const badJson = await main(['signal', second.id, 'approval', '--data', '{nope'], context);
    expect(badJson).toBe(2);
    expect(await test.db.collection('signals').countDocuments({})).toBe(2);
  });
});
