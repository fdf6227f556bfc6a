// A worker SIGKILLed in the middle of a step: the attempt BullMQ runs again elsewhere joins the saga's trace, under
// its root, through the trace context stored with the saga and carried in the job.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { context, propagation, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SagaIdGenerator } from '../../../src/tracing/saga-id-generator.js';
import { parseTraceparent } from '../../../src/tracing/traceparent.js';
import { connectMongo, mongoUrl, redisUrl } from '../helpers.js';
import {
  FAST_WORKER,
  engineTest,
  order,
  runsOf,
  sagaEndingIn,
  sagaOf,
  type EngineTest,
} from '../engine/engine-test-kit.js';

const FIXTURE = fileURLToPath(new URL('../engine/fixtures/engine-process.ts', import.meta.url));

let client: MongoClient;
let test: EngineTest | undefined;
const children: ChildProcess[] = [];

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  idGenerator: new SagaIdGenerator(),
  spanProcessors: [new SimpleSpanProcessor(spans)],
});

beforeAll(async () => {
  client = await connectMongo();
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await test?.stop();
  test = undefined;
});

afterAll(async () => {
  await client.close();
  await tracerProvider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('trace after a crash', () => {
  it('the attempt re-run after its worker was SIGKILLed joins the same trace', async () => {
    test = engineTest(client, 'trace-crash');
    // This process watches (and so starts each saga's trace); the worker that dies is a process of its own.
    await test.start({ roles: ['watcher'], tracing: { tracerProvider } });
    const doomed = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      env: {
        ...process.env,
        MONGODB_URL: mongoUrl(),
        REDIS_URL: redisUrl(),
        TEST_DB: test.dbName,
        QUEUE_PREFIX: test.queuePrefix,
        HOLDER_ID: 'doomed-worker',
        ROLES: 'worker',
        STEP_TIMEOUT_MS: '2000',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(doomed);
    // The first run of `reserve` stalls (doing nothing yet) long enough to be killed in the middle of it.
    const doc = order({ reserve: { stall: 1, hangMs: 60_000 } });
    await test.orders.insertOne(doc);
    const started = await sagaOf(test.db, doc._id);
    await expect.poll(async () => (await runsOf(test!.db, started._id, 'reserve')).length).toBe(1);
    doomed.kill('SIGKILL');

    await test.start({ roles: ['worker'], worker: FAST_WORKER, tracing: { tracerProvider } });
    const saga = await sagaEndingIn(test.db, doc._id, ['completed']);
    const runs = await runsOf(test.db, saga._id, 'reserve');
    expect(runs.map((run) => [run.attempt, run.pid === doomed.pid])).toEqual([
      [1, true],
      [1, false],
    ]);
    const root = parseTraceparent(saga.trace?.traceparent)!;
    await expect.poll(() => spans.getFinishedSpans().some((span) => span.name === 'saga order')).toBe(true);
    const reserve = spans.getFinishedSpans().filter((span) => span.name === 'step reserve');
    expect(reserve).toHaveLength(1);
    expect(reserve[0]!.spanContext().traceId).toBe(root.traceId);
    expect(reserve[0]!.parentSpanContext?.spanId).toBe(root.spanId);
    expect(reserve[0]!.attributes).toMatchObject({
      'sagastream.saga.attempt': 1,
      'sagastream.saga.outcome': 'completed',
    });
  }, 60_000);
});
