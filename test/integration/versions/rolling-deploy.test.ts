// Versioned sagas across a rolling deploy, with real `sagastream` processes (the CLI) on the harness's MongoDB and
// Redis: sagas run to the end on the version they started on, jobs of a version reach only workers that load it,
// a changed shape under the same version refuses to start, and a redriven v1 dead letter runs on v1.
import { fileURLToPath } from 'node:url';
import type { Db, MongoClient, ObjectId } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../helpers.js';
import { killLeftovers, roleEnvironment, runCli, startCli, type CliProcess } from '../e2e/cli-process.js';
import { V1_STEPS, V2_STEPS, type RunRecord } from './fixtures/versioned-sagas.js';

const SAGAS = fileURLToPath(new URL('./fixtures/versioned-sagas.ts', import.meta.url));
const ADMIN_TOKEN = 'versions-test-admin-token';

interface SagaRow {
  _id: string;
  version?: number;
  status: string;
  generation: number;
  steps: { name: string }[];
}

let client: MongoClient;

beforeAll(async () => {
  client = await connectMongo();
});

afterEach(() => killLeftovers());

afterAll(async () => {
  killLeftovers();
  await client?.close();
});

/** A database and queue prefix of the test's own, running the versioned fixture sagas. */
function deployment(name: string) {
  const env = { ...roleEnvironment(name), SAGAS, ADMIN_TOKEN };
  const db: Db = client.db(env.MONGODB_DB);
  const processes: CliProcess[] = [];
  const start = async (args: string[], versions: string): Promise<{ cli: CliProcess; line: string }> => {
    const cli = startCli(args, { ...env, SAGA_VERSIONS: versions });
    processes.push(cli);
    return { cli, line: await cli.waitForLine(/ ready: /) };
  };
  return {
    env,
    db,
    start,
    async admin(versions: string): Promise<string> {
      const { line } = await start(['admin'], versions);
      return /admin API (http:\/\/\S+)/.exec(line)?.[1] ?? '';
    },
    async insert(shipment: Record<string, unknown> = {}): Promise<ObjectId> {
      return (await db.collection('shipments').insertOne({ ...shipment })).insertedId;
    },
    async sagaOf(id: ObjectId): Promise<SagaRow | null> {
      return db.collection<SagaRow>('sagas').findOne({ 'trigger.documentKey._id': id });
    },
    /** The saga of `id` once it reached `status`. */
    async sagaReaching(id: ObjectId, status: string): Promise<SagaRow> {
      let saga: SagaRow | null = null;
      await expect
        .poll(async () => (saga = await this.sagaOf(id))?.status, {
          timeout: 60_000,
          interval: 200,
          message: `the saga of ${id.toHexString()} to be ${status}`,
        })
        .toBe(status);
      return saga!;
    },
    runs(sagaId: string): Promise<RunRecord[]> {
      return db.collection<RunRecord>('runs').find({ sagaId }).sort({ at: 1, _id: 1 }).toArray();
    },
    open(name: 'hold' | 'repair'): Promise<unknown> {
      return db
        .collection<{ _id: string; open: boolean }>('switches')
        .updateOne({ _id: name }, { $set: { open: true } }, { upsert: true });
    },
    async stopAll(): Promise<void> {
      await Promise.all(processes.map((process) => process.stop()));
    },
  };
}

/** A GET of the admin API with the token (every route but /healthz and /readyz needs it when one is set). */
function adminGet(url: string): Promise<Response> {
  return fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
}

const forwardSteps = (runs: RunRecord[]) =>
  runs.filter((run) => run.phase === 'forward').map((run) => run.step);
const compensated = (runs: RunRecord[]) =>
  runs.filter((run) => run.phase === 'compensate').map((run) => run.step);

describe('versioned sagas in a rolling deploy', { timeout: 240_000 }, () => {
  it('finish v1 sagas on v1 (steps and compensations) after the fleet moved to v1+v2; new sagas run v2; a v1 dead letter redriven then runs on v1', async () => {
    const deploy = deployment('versions-rolling');
    const adminUrl = await deploy.admin('1,2');
    const oldWatcher = await deploy.start(['watcher'], '1');
    const oldWorkers = await Promise.all([deploy.start(['worker'], '1'), deploy.start(['worker'], '1')]);

    // Three v1 sagas paused at `hold`: one to complete, one to compensate, one whose compensation fails.
    const completing = await deploy.insert();
    const compensating = await deploy.insert({ failAt: 'notify' });
    const deadLettered = await deploy.insert({ failAt: 'notify', failReserveCompensation: true });
    const v1Sagas = [completing, compensating, deadLettered];
    await expect
      .poll(async () => {
        const sagas = await Promise.all(v1Sagas.map((id) => deploy.sagaOf(id)));
        return sagas.map((saga) => saga && [saga.version, saga.steps[1]?.name, saga.status]);
      })
      .toEqual(v1Sagas.map(() => [1, 'hold', 'running']));
    await expect
      .poll(async () => {
        const sagas = await Promise.all(v1Sagas.map((id) => deploy.sagaOf(id)));
        const runs = await Promise.all(sagas.map((saga) => deploy.runs(saga?._id ?? '')));
        return runs.map(forwardSteps);
      })
      .toEqual(v1Sagas.map(() => ['reserve']));

    // The deploy: a worker and a watcher with v1 and v2 start, then the v1-only processes stop.
    const newWorker = await deploy.start(['worker'], '1,2');
    await deploy.start(['watcher'], '1,2');
    expect(await Promise.all([oldWatcher, ...oldWorkers].map(({ cli }) => cli.stop()))).toEqual([0, 0, 0]);

    const fresh = await deploy.insert();
    await expect.poll(async () => (await deploy.sagaOf(fresh))?.version).toBe(2);
    await deploy.open('hold');

    const done = await deploy.sagaReaching(completing, 'completed');
    const doneRuns = await deploy.runs(done._id);
    expect(forwardSteps(doneRuns)).toEqual([...V1_STEPS]);
    expect(doneRuns.every((run) => run.version === 1)).toBe(true);
    // Past `reserve` it ran on the new worker, the only one left.
    expect(doneRuns.slice(1).every((run) => run.pid === newWorker.cli.pid)).toBe(true);

    const undone = await deploy.sagaReaching(compensating, 'compensated');
    const undoneRuns = await deploy.runs(undone._id);
    // The step that failed did not act: what completed before it is undone, most recent first.
    expect(compensated(undoneRuns)).toEqual(['hold', 'reserve']);
    expect(undoneRuns.every((run) => run.version === 1)).toBe(true);

    const v2 = await deploy.sagaReaching(fresh, 'completed');
    const v2Runs = await deploy.runs(v2._id);
    expect(forwardSteps(v2Runs)).toEqual([...V2_STEPS]);
    expect(v2Runs.every((run) => run.version === 2)).toBe(true);

    // The v1 saga whose `reserve` compensation failed is a dead letter; once repaired, redriving it runs v1 again.
    const failed = await deploy.sagaReaching(deadLettered, 'failed');
    await deploy.open('repair');
    const retried = await fetch(`${adminUrl}/api/dead-letters/${failed._id}.dl.g0/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(retried.status, await retried.clone().text()).toBe(200);
    const redriven = await deploy.sagaReaching(deadLettered, 'compensated');
    expect(redriven.version).toBe(1);
    const redrivenRuns = await deploy.runs(redriven._id);
    expect(compensated(redrivenRuns)).toEqual(['hold', 'reserve', 'reserve']);
    expect(redrivenRuns.every((run) => run.version === 1)).toBe(true);

    // `sagastream versions`: nothing in flight any more, so v1 can be retired; v2 is the current one.
    const listed = await runCli(['versions', '--url', adminUrl, '--json'], { ADMIN_TOKEN });
    expect(listed.code, listed.stderr).toBe(0);
    const { versions } = JSON.parse(listed.stdout) as {
      versions: { saga: string; version: number; inFlight: number; retirable: boolean }[];
    };
    expect(
      versions.map(({ saga, version, inFlight, retirable }) => [saga, version, inFlight, retirable]),
    ).toEqual([
      ['shipment', 1, 0, true],
      ['shipment', 2, 0, false],
    ]);
    const table = await runCli(['versions', '--url', adminUrl], { ADMIN_TOKEN });
    expect(table.stdout).toMatch(/^shipment\s+v1\s+0\s.*retirable$/m);

    // Changing v1's steps without bumping the version: the process refuses to start, saying what changed.
    const refused = await runCli(['worker'], { ...deploy.env, SAGA_VERSIONS: '1,2', SAGA_V1_CHANGED: '1' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('saga "shipment" v1 changed shape since it was first run');
    expect(refused.stderr).toContain(
      'steps changed from [reserve, hold, notify] to [reserve, hold, notify-customer]',
    );
    expect(refused.stderr).toContain('define the change as version 2 (bump `version`)');
    await deploy.stopAll();
  });

  it('leave a v2 job to a worker that loads v2: a v1-only worker never runs it, and it completes once a v2 worker starts', async () => {
    const deploy = deployment('versions-routing');
    const adminUrl = await deploy.admin('1,2');
    await deploy.open('hold');
    await deploy.start(['watcher'], '1,2');
    const id = await deploy.insert();
    await expect.poll(async () => (await deploy.sagaOf(id))?.version).toBe(2);

    // A v1-only worker started now warns that v2 has a saga in flight it does not load, and says so in /readyz
    // while staying ready.
    const { cli: v1Worker, line } = await deploy.start(['worker', '--metrics-port', '0'], '1');
    expect(v1Worker.stderr()).toMatch(
      /1 saga\(s\) of shipment v2 are in flight, but this process does not load v2/,
    );
    const origin = new URL(/; metrics (\S+)$/.exec(line)?.[1] ?? '').origin;
    const readiness = await fetch(`${origin}/readyz`);
    const report = (await readiness.json()) as {
      versions: { waiting: { version: number; count: number; message: string }[]; notLoaded: unknown[] };
    };
    expect(readiness.status).toBe(200);
    expect(report.versions.notLoaded).toEqual([{ saga: 'shipment', version: 2, inFlight: 1 }]);
    expect(report.versions.waiting).toEqual([
      {
        saga: 'shipment',
        version: 2,
        count: 1,
        message: '1 saga(s) of shipment waiting for version 2: no running worker loads it',
      },
    ]);

    // With the v1 worker up and listening, the saga waits for version 2, its job untaken on v2's queue.
    const stats = (await (await adminGet(`${adminUrl}/api/stats`)).json()) as {
      waitingForVersion: { version: number; count: number }[];
      queues: { queue: string; waiting: number }[];
    };
    expect(stats.waitingForVersion).toMatchObject([{ version: 2, count: 1 }]);
    expect(stats.queues.find((queue) => queue.queue === 'saga-shipment.v2')?.waiting).toBe(1);
    const metrics = await (await adminGet(`${adminUrl}/metrics`)).text();
    expect(metrics).toContain('sagastream_sagas_waiting_for_version{saga="shipment",version="2"} 1');
    expect(metrics).toContain('sagastream_sagas_in_flight{saga="shipment",version="2"} 1');
    const saga = await deploy.sagaOf(id);
    expect(saga?.status).toBe('running');
    expect(await deploy.runs(saga?._id ?? '')).toEqual([]);

    const { cli: v2Worker } = await deploy.start(['worker'], '2');
    const done = await deploy.sagaReaching(id, 'completed');
    const runs = await deploy.runs(done._id);
    expect(forwardSteps(runs)).toEqual([...V2_STEPS]);
    expect(runs.every((run) => run.version === 2 && run.pid === v2Worker.pid)).toBe(true);
    await expect
      .poll(
        async () =>
          ((await (await adminGet(`${adminUrl}/api/stats`)).json()) as { waitingForVersion: [] })
            .waitingForVersion,
      )
      .toEqual([]);
    await deploy.stopAll();
  });
});
