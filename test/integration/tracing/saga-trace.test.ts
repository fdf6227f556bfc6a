// One OpenTelemetry trace per saga, asserted on the spans the SDK's in-memory exporter received: a watcher runtime and
// a worker runtime, each with its own tracer provider and exporter (as two processes would have), joined by trace id.
import { Writable } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-node';
import type { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SagaRegistry, defineSaga } from '../../../src/definition/index.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import { SagaIdGenerator } from '../../../src/tracing/saga-id-generator.js';
import { parseTraceparent } from '../../../src/tracing/traceparent.js';
import { connectMongo } from '../helpers.js';
import {
  FAST_SWEEPER,
  FAST_WATCHER,
  FAST_WORKER,
  engineTest,
  sagaEndingIn,
  type EngineTest,
} from '../engine/engine-test-kit.js';

let client: MongoClient;
let test: EngineTest | undefined;

/** The watcher's spans. */
const watcherSpans = new InMemorySpanExporter();
const watcherProvider = new BasicTracerProvider({
  idGenerator: new SagaIdGenerator(),
  spanProcessors: [new SimpleSpanProcessor(watcherSpans)],
});
/** The worker's spans: its provider is the registered one, which the steps' own spans use too. */
const workerSpans = new InMemorySpanExporter();
const workerProvider = new NodeTracerProvider({
  idGenerator: new SagaIdGenerator(),
  spanProcessors: [new SimpleSpanProcessor(workerSpans)],
});

/** How often each saga's `charge` ran, to fail its first attempt only. */
const chargeRuns = new Map<string, number>();

const orderSaga = defineSaga({
  name: 'traced-order',
  trigger: { collection: 'orders', filter: { status: 'new' } },
  input: z.object({ _id: z.string(), status: z.literal('new') }),
  timeout: 60_000,
  compensation: { timeout: 2_000, retry: { attempts: 2, backoff: { type: 'fixed', delay: 50 } } },
  defaults: { timeout: 2_000, retry: { attempts: 2, backoff: { type: 'fixed', delay: 50 } } },
})
  .step({
    name: 'reserve',
    run: (ctx) => {
      ctx.span.setAttribute('app.order', ctx.input._id);
      // A span of the step's own code (as an instrumented HTTP call would start): the step's span is active.
      trace.getTracer('app').startSpan('reserve-stock-call').end();
      ctx.logger.info('reserving');
      return Promise.resolve({ reservationId: `res-${ctx.sagaId}` });
    },
    compensate: () => Promise.resolve(),
  })
  .step({
    name: 'charge',
    run: (ctx) => {
      const run = (chargeRuns.get(ctx.sagaId) ?? 0) + 1;
      chargeRuns.set(ctx.sagaId, run);
      if (run === 1) return Promise.reject(new Error('card network busy'));
      return Promise.resolve({ paymentId: `pay-${ctx.sagaId}` });
    },
    compensate: () => Promise.resolve(),
  })
  .step({
    name: 'ship',
    run: () => Promise.reject(new Error('no courier')),
  })
  .build();

/** reserve → wait for the payment → ship. */
const paymentSaga = defineSaga({ name: 'traced-payment', input: z.object({ orderId: z.string() }) })
  .step({ name: 'reserve', run: () => Promise.resolve({ reserved: true }) })
  .waitFor({
    name: 'payment-captured',
    collection: 'payments',
    match: (ctx) => ({ orderId: ctx.input.orderId, status: 'captured' }),
  })
  .step({ name: 'ship', run: () => Promise.resolve({ shipped: true }) })
  .build();

/** a → b, which fails; a's compensation fails the first time it runs, so the saga fails until an operator retries. */
const compensationRuns = new Map<string, number>();
const redriveSaga = defineSaga({
  name: 'traced-redrive',
  input: z.object({ orderId: z.string() }),
  compensation: { timeout: 2_000, retry: { attempts: 1 } },
  defaults: { timeout: 2_000, retry: { attempts: 1 } },
})
  .step({
    name: 'a',
    run: () => Promise.resolve({ done: true }),
    compensate: (ctx) => {
      const run = (compensationRuns.get(ctx.sagaId) ?? 0) + 1;
      compensationRuns.set(ctx.sagaId, run);
      return run === 1 ? Promise.reject(new Error('refund service down')) : Promise.resolve();
    },
  })
  .step({ name: 'b', run: () => Promise.reject(new Error('no stock')) })
  .build();

/** Log lines of the worker, as JSON objects. */
const workerLog: Record<string, unknown>[] = [];
const workerLogger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        workerLog.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  }),
);

beforeAll(async () => {
  workerProvider.register();
  client = await connectMongo();
});

afterEach(async () => {
  await test?.stop();
  test = undefined;
});

afterAll(async () => {
  await client.close();
  await Promise.all([watcherProvider.shutdown(), workerProvider.shutdown()]);
  // The API's registrations live on globalThis: leave none behind for the next test file in this worker.
  trace.disable();
  context.disable();
  propagation.disable();
});

function attributes(span: ReadableSpan): Record<string, unknown> {
  return span.attributes;
}

function spansOfTrace(exporter: InMemorySpanExporter, traceId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
}

async function startRoles(test: EngineTest, registry = new SagaRegistry([orderSaga])): Promise<void> {
  await test.start({
    registry,
    roles: ['watcher'],
    watcher: FAST_WATCHER,
    sweeper: FAST_SWEEPER,
    tracing: { tracerProvider: watcherProvider },
  });
  await test.start({ registry, roles: ['worker'], worker: FAST_WORKER, logger: workerLogger });
}

describe('one trace per saga', () => {
  it('a saga that retries a step and then compensates: one trace across the watcher and the worker', async () => {
    test = engineTest(client, 'trace-tree');
    await startRoles(test);
    const requestTrace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await test.orders.insertOne({ _id: 'order-1', status: 'new', traceparent: requestTrace } as never);
    const saga: SagaDocument = await sagaEndingIn(test.db, 'order-1', ['compensated']);

    const root = parseTraceparent(saga.trace?.traceparent);
    expect(root, 'the trace context stored with the saga').toBeDefined();
    const { traceId, spanId: rootId } = root!;
    expect(saga.trace?.link).toBe(requestTrace);

    // The root span is recorded by the process that ended the saga: here the worker, which ran the last compensation.
    await expect
      .poll(() => spansOfTrace(workerSpans, traceId).some((span) => span.name === 'saga traced-order'))
      .toBe(true);
    const watcher = spansOfTrace(watcherSpans, traceId);
    const worker = spansOfTrace(workerSpans, traceId);
    const rootSpan = worker.find((span) => span.name === 'saga traced-order')!;
    expect(rootSpan.spanContext().spanId).toBe(rootId);
    expect(rootSpan.parentSpanContext).toBeUndefined();
    expect(attributes(rootSpan)).toMatchObject({
      'sagastream.saga.id': saga._id,
      'sagastream.saga.name': 'traced-order',
      'sagastream.saga.version': 1,
      'sagastream.saga.key': 'order-1',
      'sagastream.saga.outcome': 'compensated',
    });
    // It starts with the saga, not when the process that recorded it took over.
    expect(rootSpan.startTime[0] * 1000 + rootSpan.startTime[1] / 1e6).toBeCloseTo(
      saga.createdAt.getTime(),
      -1,
    );
    expect(rootSpan.status.code).toBe(2);

    // The watcher: the trigger span, child of the root, linked to the request that wrote the order.
    expect(watcher.map((span) => span.name)).toEqual(['trigger']);
    const trigger = watcher[0]!;
    expect(trigger.parentSpanContext?.spanId).toBe(rootId);
    expect(trigger.links.map((link) => link.context.traceId)).toEqual(['0af7651916cd43dd8448eb211c80319c']);
    expect(trigger.links[0]!.context.spanId).toBe('b7ad6b7169203331');
    expect(rootSpan.links.map((link) => link.context.spanId)).toEqual(['b7ad6b7169203331']);

    // The worker: every attempt and compensation, children of the root, in the order they ran.
    const attempts = worker
      .filter((span) => span.parentSpanContext?.spanId === rootId)
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
      .map((span) => [
        span.name,
        attributes(span)['sagastream.saga.attempt'],
        attributes(span)['sagastream.saga.outcome'],
      ]);
    expect(attempts).toEqual([
      ['step reserve', 1, 'completed'],
      ['step charge', 1, 'retrying'],
      ['step charge', 2, 'completed'],
      ['step ship', 1, 'retrying'],
      ['step ship', 2, 'failed'],
      ['compensate charge', 1, 'compensated'],
      ['compensate reserve', 1, 'compensated'],
    ]);
    const failedCharge = worker.find(
      (span) => span.name === 'step charge' && attributes(span)['sagastream.saga.attempt'] === 1,
    )!;
    expect(attributes(failedCharge)).toMatchObject({
      'sagastream.saga.step': 'charge',
      'sagastream.step.retry_delay_ms': 50,
      'sagastream.step.timeout_ms': 2_000,
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'saga-traced-order',
    });
    expect(failedCharge.status).toMatchObject({ code: 2, message: 'card network busy' });
    // Every attempt names the BullMQ job it ran in (a compensation's own, a carried step's carrier).
    for (const span of worker.filter((item) => item.parentSpanContext?.spanId === rootId)) {
      expect(attributes(span)['messaging.message.id'], span.name).toEqual(expect.any(String));
    }

    // The step's own span nests under its attempt's span; ctx.span is that span.
    const reserve = worker.find((span) => span.name === 'step reserve')!;
    const own = worker.find((span) => span.name === 'reserve-stock-call')!;
    expect(own.parentSpanContext?.spanId).toBe(reserve.spanContext().spanId);
    expect(attributes(reserve)['app.order']).toBe('order-1');

    // Log lines written inside a step carry its span.
    const reserving = workerLog.find((line) => line.msg === 'reserving');
    expect(reserving).toMatchObject({ trace_id: traceId, span_id: reserve.spanContext().spanId });
    const retrying = workerLog.find(
      (line) => line.msg === 'step attempt failed; retrying' && line.step === 'charge',
    );
    expect(retrying).toMatchObject({ trace_id: traceId, span_id: failedCharge.spanContext().spanId });
  });

  it('a saga started from code links to the span active where it was started', async () => {
    test = engineTest(client, 'trace-client');
    await startRoles(test);
    const sagas = await test.client(new SagaRegistry([orderSaga]));
    let requestSpanId = '';
    const started = await trace.getTracer('app').startActiveSpan('POST /orders', async (span) => {
      requestSpanId = span.spanContext().spanId;
      try {
        return await sagas.start('traced-order', { _id: 'order-2', status: 'new' });
      } finally {
        span.end();
      }
    });
    const saga = await sagaEndingIn(test.db, await sagaKey(test, started.id), ['compensated']);
    expect(parseTraceparent(saga.trace?.link)?.spanId).toBe(requestSpanId);
    const root = parseTraceparent(saga.trace?.traceparent)!;
    await expect
      .poll(() => spansOfTrace(workerSpans, root.traceId).some((span) => span.name === 'saga traced-order'))
      .toBe(true);
    const rootSpan = spansOfTrace(workerSpans, root.traceId).find(
      (span) => span.name === 'saga traced-order',
    )!;
    expect(rootSpan.spanContext().spanId).toBe(root.spanId);
    expect(rootSpan.links.map((link) => link.context.spanId)).toEqual([requestSpanId]);
    // Its first step joined the same trace through the job that carried it.
    expect(spansOfTrace(workerSpans, root.traceId).map((span) => span.name)).toContain('step reserve');
  });

  it('a wait step gets a wait span from its start to the document that ended it', async () => {
    test = engineTest(client, 'trace-wait');
    const registry = new SagaRegistry([paymentSaga]);
    await startRoles(test, registry);
    const sagas = await test.client(registry);
    const started = await sagas.start('traced-payment', { orderId: 'o-3' });
    await expect
      .poll(
        async () =>
          (await test!.db.collection<SagaDocument>('sagas').findOne({ _id: started.id }))?.steps[1]?.status,
      )
      .toBe('waiting');
    // Its deadline timer carries the trace, as every job queued for the saga does.
    const waiting = await test.db.collection<SagaDocument>('sagas').findOne({ _id: started.id });
    const deadline = await test.runtimes[1]!.queues.timers.getJob(`${started.id}.deadline.g0`);
    expect(deadline?.data).toMatchObject({ kind: 'deadline', trace: waiting!.trace!.traceparent });
    await test.db.collection('payments').insertOne({ orderId: 'o-3', status: 'captured' });
    const saga = await sagaEndingIn(test.db, await sagaKey(test, started.id), ['completed']);
    const root = parseTraceparent(saga.trace?.traceparent)!;
    await expect
      .poll(() => spansOfTrace(workerSpans, root.traceId).some((span) => span.name === 'saga traced-payment'))
      .toBe(true);
    const spans = [...spansOfTrace(watcherSpans, root.traceId), ...spansOfTrace(workerSpans, root.traceId)];
    const wait = spans.find((span) => span.name === 'wait payment-captured');
    expect(wait?.parentSpanContext?.spanId).toBe(root.spanId);
    expect(attributes(wait!)['sagastream.saga.outcome']).toBe('matched');
    const waitStart = wait!.startTime[0] * 1000 + wait!.startTime[1] / 1e6;
    expect(waitStart).toBeCloseTo(saga.steps[1]!.attemptStartedAt!.getTime(), -1);
    expect(spans.map((span) => span.name).sort()).toEqual([
      'saga traced-payment',
      'step reserve',
      'step ship',
      'wait payment-captured',
    ]);
  });

  it('a redriven saga: its dead letter names the trace, and its new generation is a span under the root', async () => {
    test = engineTest(client, 'trace-redrive');
    // With a triggered saga: the test kit's watcher is ready once a trigger's change stream is open.
    const registry = new SagaRegistry([orderSaga, redriveSaga]);
    await startRoles(test, registry);
    const sagas = await test.client(registry);
    const started = await sagas.start('traced-redrive', { orderId: 'o-4' });
    const failed = await sagaEndingIn(test.db, await sagaKey(test, started.id), ['failed']);
    const root = parseTraceparent(failed.trace?.traceparent)!;
    const queues = test.runtimes[1]!.queues;
    await expect
      .poll(async () => (await queues.deadLetters.getJob(`${started.id}.dl.g0`))?.data.trace)
      .toBe(failed.trace!.traceparent);
    await expect
      .poll(() => spansOfTrace(workerSpans, root.traceId).some((span) => span.name === 'saga traced-redrive'))
      .toBe(true);

    const redriven = await sagas.retry(started.id);
    const generation = parseTraceparent(redriven.trace?.traceparent)!;
    expect(generation.traceId).toBe(root.traceId);
    expect(generation.spanId).not.toBe(root.spanId);
    expect(redriven.trace?.root).toBe(failed.trace!.traceparent);
    const ended = await sagaEndingIn(test.db, redriven.key, ['compensated']);
    await expect
      .poll(() =>
        spansOfTrace(workerSpans, root.traceId).some(
          (span) => span.name === 'saga traced-redrive (redrive 1)',
        ),
      )
      .toBe(true);

    const spans = [...spansOfTrace(watcherSpans, root.traceId), ...spansOfTrace(workerSpans, root.traceId)];
    // The root once (at the first end, failed); the redrive's span under it, with the saga's new outcome.
    const roots = spans.filter((span) => span.name === 'saga traced-redrive');
    expect(roots).toHaveLength(1);
    expect(roots[0]!.spanContext().spanId).toBe(root.spanId);
    expect(attributes(roots[0]!)['sagastream.saga.outcome']).toBe('failed');
    const redrive = spans.find((span) => span.name === 'saga traced-redrive (redrive 1)')!;
    expect(redrive.spanContext().spanId).toBe(generation.spanId);
    expect(redrive.parentSpanContext?.spanId).toBe(root.spanId);
    expect(attributes(redrive)['sagastream.saga.outcome']).toBe('compensated');
    expect(attributes(redrive)['sagastream.saga.generation']).toBe(1);
    const redriveStart = redrive.startTime[0] * 1000 + redrive.startTime[1] / 1e6;
    expect(redriveStart).toBeCloseTo(ended.trace!.since!.getTime(), -1);
    // Each compensation of `a`: the failed one before the retry under the root, the one after under the redrive.
    const compensations = spans
      .filter((span) => span.name === 'compensate a')
      .map((span) => [attributes(span)['sagastream.saga.outcome'], span.parentSpanContext?.spanId]);
    expect(compensations).toEqual(
      expect.arrayContaining([
        ['compensation-failed', root.spanId],
        ['compensated', generation.spanId],
      ]),
    );
    expect(compensations).toHaveLength(2);
  });
});

/** The key of a saga started from code (a random one). */
async function sagaKey(test: EngineTest, sagaId: string): Promise<string> {
  const saga = await test.db.collection<SagaDocument>('sagas').findOne({ _id: sagaId });
  return saga!.key;
}
