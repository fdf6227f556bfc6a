import * as api from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { describe, expect, it, vi } from 'vitest';
import { loadSagaTracing } from '../../../src/tracing/load-saga-tracing.js';
import { OtelSagaTracing } from '../../../src/tracing/otel-saga-tracing.js';
import { SagaIdGenerator, withPinnedIds } from '../../../src/tracing/saga-id-generator.js';
import { noSagaTracing, type TracedSaga } from '../../../src/tracing/saga-tracing.js';
import { tracingOptionsSchema } from '../../../src/tracing/tracing-options.js';
import { parseTraceparent } from '../../../src/tracing/traceparent.js';
import { silentLogger } from '../../../src/logging/saga-logger.js';

function provider(withSagaIds: boolean): { provider: BasicTracerProvider; spans: InMemorySpanExporter } {
  const spans = new InMemorySpanExporter();
  return {
    spans,
    provider: new BasicTracerProvider({
      ...(withSagaIds ? { idGenerator: new SagaIdGenerator() } : {}),
      spanProcessors: [new SimpleSpanProcessor(spans)],
    }),
  };
}

function saga(overrides: Partial<TracedSaga> = {}): TracedSaga {
  return {
    _id: 'saga-1',
    saga: 'order',
    version: 2,
    key: 'order-1',
    generation: 0,
    createdAt: new Date(Date.now() - 5_000),
    status: 'running',
    ...overrides,
  };
}

const notFound = (specifier: string) =>
  Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/x.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });

describe('SagaIdGenerator', () => {
  it('gives random valid ids, and the pinned ones to the one span started inside withPinnedIds', () => {
    const ids = new SagaIdGenerator();
    expect(ids.generateTraceId()).toMatch(/^[0-9a-f]{32}$/);
    expect(ids.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
    expect(ids.generateSpanId()).not.toBe(ids.generateSpanId());
    const pinned = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };
    const [first, second] = withPinnedIds(pinned, () => [ids.generateSpanId(), ids.generateSpanId()]);
    expect(first).toBe(pinned.spanId);
    expect(second).not.toBe(pinned.spanId);
    expect(withPinnedIds(pinned, () => ids.generateTraceId())).toBe(pinned.traceId);
    expect(ids.generateTraceId()).not.toBe(pinned.traceId);
  });
});

describe('loadSagaTracing', () => {
  const options = tracingOptionsSchema.parse({});

  it('without @opentelemetry/api installed, traces nothing and does not fail', async () => {
    const tracing = await loadSagaTracing(options, silentLogger, () =>
      Promise.reject(notFound('@opentelemetry/api')),
    );
    expect(tracing).toBe(noSagaTracing);
    expect(tracing.sagaStarting(saga()).context).toBeUndefined();
  });

  it('a broken installation (the API found, something it needs not) is not mistaken for a missing one', async () => {
    await expect(
      loadSagaTracing(options, silentLogger, () => Promise.reject(notFound('some-dependency'))),
    ).rejects.toThrow('some-dependency');
  });

  it('does not even import the API when tracing is disabled', async () => {
    const importer = vi.fn(() => Promise.resolve(api));
    const tracing = await loadSagaTracing(
      tracingOptionsSchema.parse({ enabled: false }),
      silentLogger,
      importer,
    );
    expect(tracing).toBe(noSagaTracing);
    expect(importer).not.toHaveBeenCalled();
  });

  it('with the API installed, traces through it', async () => {
    expect((await loadSagaTracing(options, silentLogger)).enabled).toBe(true);
  });
});

describe('OtelSagaTracing', () => {
  it('without an SDK, stores no trace', () => {
    const tracing = new OtelSagaTracing(api, { traceparentField: 'traceparent' });
    expect(tracing.sagaStarting(saga()).context).toBeUndefined();
  });

  it('a saga rejected at its start ends its root span at once, in the process that started it', () => {
    const { provider: tracerProvider, spans } = provider(true);
    const tracing = new OtelSagaTracing(api, { traceparentField: 'tp', tracerProvider });
    const rejected = saga({ status: 'rejected', reason: 'invalid-input' });
    const started = tracing.sagaStarting(rejected, {
      document: { tp: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      ns: { db: 'shop', coll: 'orders' },
      operationType: 'insert',
      receivedAt: new Date(),
    });
    expect(started.context?.link).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    started.stored(rejected);
    const root = parseTraceparent(started.context?.traceparent)!;
    const finished = spans.getFinishedSpans();
    expect(finished.map((span) => span.name).sort()).toEqual(['saga order', 'trigger']);
    const rootSpan = finished.find((span) => span.name === 'saga order')!;
    expect(rootSpan.spanContext().spanId).toBe(root.spanId);
    expect(rootSpan.attributes['sagastream.saga.outcome']).toBe('rejected');
    expect(rootSpan.attributes['sagastream.saga.version']).toBe(2);
    const trigger = finished.find((span) => span.name === 'trigger')!;
    expect(trigger.attributes).toMatchObject({ 'db.collection.name': 'orders', 'db.namespace': 'shop' });
  });

  it('an SDK without SagaIdGenerator: the saga span becomes a child of its stored root, with one warning', () => {
    const { provider: tracerProvider, spans } = provider(false);
    const warn = vi.fn();
    const tracing = new OtelSagaTracing(api, { traceparentField: 'traceparent', tracerProvider, warn });
    const stored = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    tracing.sagaEnded(saga({ trace: { traceparent: stored } }), 'completed');
    tracing.sagaEnded(saga({ trace: { traceparent: stored } }), 'completed');
    const recorded = spans.getFinishedSpans();
    expect(recorded).toHaveLength(2);
    for (const span of recorded) {
      expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
      expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    }
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('records nothing for a saga whose trace was not sampled, or that has not ended', () => {
    const { provider: tracerProvider, spans } = provider(true);
    const tracing = new OtelSagaTracing(api, { traceparentField: 'traceparent', tracerProvider });
    tracing.sagaEnded(
      saga({ trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' } }),
      'completed',
    );
    tracing.sagaEnded(
      saga({ trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }),
    );
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});
