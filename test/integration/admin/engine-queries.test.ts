// Every query the engine, the trigger watcher, the recovery sweeper and the admin API send is served by an index:
// a runtime and an admin server run real flows through a recording proxy, and each recorded filter is explained.
import type { Document } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoUrl } from '../helpers.js';
import { startAdminFixture, TEST_TOKEN, type AdminFixture } from './admin-fixture.js';
import { CommandRecorder, type RecordedCommand } from './command-recorder.js';

/** One read the runtime made: what to explain, and where it came from. */
interface RecordedQuery {
  readonly collection: string;
  readonly explain: Document;
  readonly source: string;
}

/** The collections the engine owns; the trigger collection (`orders`) is the user's, and so are its indexes. */
const TRIGGER_COLLECTIONS = new Set(['orders']);

function isPlain(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The filters (with their sorts) a recorded command reads by, as explainable commands. */
function queriesOf(recorded: RecordedCommand): RecordedQuery[] {
  const { name, command } = recorded;
  const collection = String(command[name]);
  const source = `${name} ${JSON.stringify(command)}`;
  const single = (explain: Document): RecordedQuery[] => [{ collection, explain, source }];
  const filter = (field: string): Document => (isPlain(command[field]) ? command[field] : {});
  const sort = isPlain(command.sort) ? { sort: command.sort } : {};
  switch (name) {
    case 'find':
      return single({
        find: collection,
        filter: filter('filter'),
        ...sort,
      });
    case 'count':
      return single({ count: collection, query: filter('query') });
    case 'aggregate': {
      const pipeline = command.pipeline as Document[];
      if (pipeline.some((stage) => '$changeStream' in stage)) return [];
      return single({ aggregate: collection, pipeline, cursor: {} });
    }
    case 'findAndModify':
      return single({
        findAndModify: collection,
        query: filter('query'),
        ...sort,
        update: { $set: { probe: 1 } },
      });
    case 'update':
      return (command.updates as Document[]).map((statement) => ({
        collection,
        explain: { update: collection, updates: [{ q: statement.q as Document, u: { $set: { probe: 1 } } }] },
        source,
      }));
    case 'delete':
      return (command.deletes as Document[]).map((statement) => ({
        collection,
        explain: { delete: collection, deletes: [{ q: statement.q as Document, limit: 0 }] },
        source,
      }));
    case 'bulkWrite': {
      const namespaces = command.nsInfo as { ns: string }[];
      return (command.ops as Document[])
        .filter((op) => 'update' in op || 'delete' in op)
        .map((op) => {
          const ns = namespaces[Number('update' in op ? op.update : op.delete)]!.ns;
          const coll = ns.slice(ns.indexOf('.') + 1);
          return {
            collection: coll,
            explain: { update: coll, updates: [{ q: op.filter as Document, u: { $set: { probe: 1 } } }] },
            source: `bulkWrite op ${JSON.stringify(op)}`,
          };
        });
    }
    default:
      return [];
  }
}

/** The filter a query reads by (the leading $match of a pipeline). */
function filterOf(explain: Document): Document {
  if (Array.isArray(explain.pipeline)) {
    const first = (explain.pipeline as Document[])[0];
    return first && isPlain(first.$match) ? first.$match : {};
  }
  for (const field of ['filter', 'query']) if (isPlain(explain[field])) return explain[field];
  const statements = (explain.updates ?? explain.deletes) as Document[] | undefined;
  return statements?.[0]?.q as Document;
}

/** Every stage of a winning plan, outermost first. */
function stagesOf(plan: Document | undefined): string[] {
  const stages: string[] = [];
  for (let current = plan; current; current = current.inputStage as Document | undefined) {
    stages.push(String(current.stage));
  }
  return stages;
}

describe('the queries of the engine, the watcher, the sweeper and the admin API', () => {
  let recorder: CommandRecorder;
  let fixture: AdminFixture;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${fixture.url}${path}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });

  beforeAll(async () => {
    recorder = await CommandRecorder.start(mongoUrl());
    fixture = await startAdminFixture({
      token: TEST_TOKEN,
      mongodbUrl: recorder.url,
      sweeper: { interval: 200, leaseTtl: 2_000, stuckAfter: 2 },
    });
  });
  afterAll(async () => {
    await fixture?.close();
    await recorder?.close();
  });

  it('are all served by an index (explain shows no collection scan)', async () => {
    // The flows: a saga that completes, one that compensates, one that fails into a dead letter and is retried,
    // one cancelled while it runs; and the admin API's pages over them.
    const completed = await fixture.startOrder('ok');
    const compensated = await fixture.startOrder('fail');
    await fixture.waitForStatus(completed._id, 'completed');
    await fixture.waitForStatus(compensated._id, 'compensated');
    fixture.behaviour.compensationBroken = true;
    const failed = await fixture.startOrder('fail');
    await fixture.waitForStatus(failed._id, 'failed');
    fixture.behaviour.compensationBroken = false;
    const held = await fixture.startOrder('hold');
    await fixture.waitForStep(held._id, 'charge', 'running');
    expect((await call(`/api/sagas/${held._id}/cancel`, { method: 'POST' })).status).toBe(200);
    await fixture.waitForStatus(held._id, 'compensated');
    for (const path of [
      '/api/stats',
      '/api/versions',
      '/api/sagas',
      '/api/sagas?status=completed',
      '/api/sagas?saga=orders&limit=2',
      `/api/sagas?saga=orders&status=compensated&limit=1&after=${held._id}`,
      `/api/sagas/${completed._id}`,
      '/api/dead-letters',
      '/metrics',
    ]) {
      expect((await call(path)).status, path).toBe(200);
    }
    expect((await call(`/api/sagas/${failed._id}/retry`, { method: 'POST' })).status).toBe(200);
    await fixture.waitForStatus(failed._id, 'compensated');
    // The sweeper's queries: its pass over live sagas sorts them by last update.
    await expect
      .poll(() =>
        recorder.commands.some((recorded) => recorded.name === 'find' && isPlain(recorded.command.sort)),
      )
      .toBe(true);

    const database = fixture.db.databaseName;
    const queries = recorder.commands
      .filter((recorded) => recorded.db === database)
      .flatMap(queriesOf)
      .filter((query) => !TRIGGER_COLLECTIONS.has(query.collection));
    const shapes = new Map<string, RecordedQuery>();
    for (const query of queries) {
      // Reading a whole collection is what such a read asks for: no index could make it cheaper.
      const filter = filterOf(query.explain);
      if (Object.keys(filter).length === 0 && !('sort' in query.explain)) continue;
      shapes.set(JSON.stringify(query.explain), query);
    }
    expect(shapes.size, 'recorded queries to check').toBeGreaterThan(10);
    const collectionScans: string[] = [];
    for (const query of shapes.values()) {
      const explained = await fixture.db.command({ explain: query.explain, verbosity: 'queryPlanner' });
      const stages = stagesOf((explained.queryPlanner as Document).winningPlan as Document);
      if (stages.includes('COLLSCAN') || !stages.some((stage) => stage.endsWith('SCAN'))) {
        collectionScans.push(`${stages.join(' < ')}: ${query.source}`);
      }
    }
    expect(collectionScans).toEqual([]);
  });
});
