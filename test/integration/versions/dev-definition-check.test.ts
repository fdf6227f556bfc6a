// `sagastream dev` as a process on the harness's MongoDB and Redis: a saga version whose steps changed without a
// version bump is refused with --check-definitions, and accepted (its edit recorded) without, so editing a saga
// during development stays smooth.
import { fileURLToPath } from 'node:url';
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFINITIONS_COLLECTION } from '../../../src/store/definition-store.js';
import { connectMongo } from '../helpers.js';
import { killLeftovers, roleEnvironment, startCli } from '../e2e/cli-process.js';
import { V1_STEPS } from './fixtures/versioned-sagas.js';

const SAGAS = fileURLToPath(new URL('./fixtures/versioned-sagas.ts', import.meta.url));

let client: MongoClient;

beforeAll(async () => {
  client = await connectMongo();
});

afterEach(() => killLeftovers());

afterAll(async () => {
  killLeftovers();
  await client?.close();
});

interface ShapeRecord {
  version: number;
  shape: { steps: { name: string }[] };
}

describe('sagastream dev and changed saga shapes', { timeout: 120_000 }, () => {
  it('dev --check-definitions refuses a v1 whose steps changed; dev without it starts and records the edit', async () => {
    const env = { ...roleEnvironment('dev-definitions'), SAGAS, SAGA_VERSIONS: '1' };
    const definitions = client.db(env.MONGODB_DB).collection<ShapeRecord>(DEFINITIONS_COLLECTION);
    const recordedSteps = async () =>
      (await definitions.findOne({ version: 1 }))?.shape.steps.map((step) => step.name);

    // A worker runs v1 as first defined: its shape is recorded.
    const worker = startCli(['worker'], env);
    await worker.waitForLine(/ ready: /);
    expect(await worker.stop()).toBe(0);
    expect(await recordedSteps()).toEqual([...V1_STEPS]);

    // v1 renames `notify` without a version bump. Asked to check, dev refuses as every other command does.
    const changed = { ...env, SAGA_V1_CHANGED: '1' };
    const refused = startCli(['dev', '--check-definitions', '--admin-port', '0'], changed);
    const started = refused.waitForLine(/^sagastream dev stack ready: /).then(
      () => 'started',
      () => 'exited',
    );
    expect(await Promise.race([refused.exited, started])).toBe(1);
    expect(refused.stderr()).toContain('Refusing to start: ');
    expect(refused.stderr()).toContain('saga "shipment" v1 changed shape since it was first run');
    expect(refused.stderr()).toContain(
      'steps changed from [reserve, hold, notify] to [reserve, hold, notify-customer]',
    );
    expect(await recordedSteps()).toEqual([...V1_STEPS]);

    // By default dev does not check: it starts on the edited saga, and the edit becomes v1's recorded shape.
    const dev = startCli(['dev', '--admin-port', '0'], changed);
    await dev.waitForLine(/^sagastream dev stack ready: /);
    expect(dev.stderr()).not.toContain('changed shape');
    expect(await recordedSteps()).toEqual(['reserve', 'hold', 'notify-customer']);
    expect(await dev.stop()).toBe(0);
  });
});
