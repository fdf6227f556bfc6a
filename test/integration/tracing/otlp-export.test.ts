// The CLI's OpenTelemetry SDK, end to end: a watcher and a worker process (the real `sagastream` command) export
// their spans over OTLP/HTTP JSON to a receiver this test runs; one saga's spans from both join in one trace.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceparent } from '../../../src/tracing/traceparent.js';
import { connectMongo } from '../helpers.js';
import {
  exampleOrder,
  killLeftovers,
  roleEnvironment,
  startCli,
  type CliProcess,
} from '../e2e/cli-process.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: OtlpValue }[];
  links?: { traceId: string; spanId: string }[];
}

interface OtlpRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

interface ReceivedSpan extends OtlpSpan {
  service: string;
}

/** The order's field carrying the traceparent of the request that wrote it (SAGASTREAM_TRACEPARENT_FIELD). */
const REQUEST_TRACE_FIELD = 'request_trace';
const REQUEST_TRACE = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

const received: ReceivedSpan[] = [];
let receiver: Server;
let endpoint: string;
let client: MongoClient;
let db: Db;
const roles: CliProcess[] = [];

function attribute(span: OtlpSpan, key: string): string | number | undefined {
  const value = span.attributes?.find((item) => item.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
}

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url === '/v1/traces') {
        const { resourceSpans } = JSON.parse(body) as OtlpRequest;
        for (const { resource, scopeSpans } of resourceSpans) {
          const service = resource.attributes.find((item) => item.key === 'service.name')?.value.stringValue;
          for (const { spans } of scopeSpans)
            received.push(...spans.map((span) => ({ ...span, service: service ?? '' })));
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const env = roleEnvironment('otlp');
  client = await connectMongo();
  db = client.db(env.MONGODB_DB);
  const otel = {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Export each batch within a tenth of a second, not the default five.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  roles.push(
    startCli(['watcher'], {
      ...env,
      ...otel,
      OTEL_SERVICE_NAME: 'orders-watcher',
      SAGASTREAM_TRACEPARENT_FIELD: REQUEST_TRACE_FIELD,
    }),
    startCli(['worker'], { ...env, ...otel, OTEL_SERVICE_NAME: 'orders-worker' }),
  );
  await Promise.all(roles.map((role) => role.waitForLine(/ ready: /)));
}, 90_000);

afterAll(async () => {
  await Promise.all(roles.map((role) => role.stop()));
  killLeftovers();
  await client?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('OTLP export from the CLI', { timeout: 120_000 }, () => {
  it("one saga's spans from the watcher and the worker process form one trace", async () => {
    const { insertedId } = await db.collection('orders').insertOne({
      ...exampleOrder(),
      [REQUEST_TRACE_FIELD]: `00-${REQUEST_TRACE.traceId}-${REQUEST_TRACE.spanId}-01`,
    });
    let saga = null as { status: string; trace?: { traceparent: string } } | null;
    await expect
      .poll(
        async () =>
          (saga = await db
            .collection<{ status: string; trace?: { traceparent: string } }>('sagas')
            .findOne({ 'trigger.documentKey._id': insertedId }))?.status,
        { timeout: 60_000, interval: 250 },
      )
      .toBe('completed');
    const root = parseTraceparent(saga!.trace?.traceparent);
    expect(root).toBeDefined();
    const ofTrace = () => received.filter((span) => span.traceId === root!.traceId);
    await expect
      .poll(() => ofTrace().some((span) => span.name === 'saga order-fulfillment'), { timeout: 30_000 })
      .toBe(true);
    const spans = ofTrace();
    const rootSpan = spans.find((span) => span.name === 'saga order-fulfillment')!;
    expect(rootSpan).toMatchObject({ spanId: root!.spanId, service: 'orders-worker' });
    expect(rootSpan.parentSpanId ?? '').toBe('');
    expect(attribute(rootSpan, 'sagastream.saga.outcome')).toBe('completed');

    const trigger = spans.find((span) => span.name === 'trigger')!;
    expect(trigger).toMatchObject({ service: 'orders-watcher', parentSpanId: root!.spanId });
    // The watcher read the request's traceparent from the field SAGASTREAM_TRACEPARENT_FIELD names.
    expect(trigger.links).toEqual([expect.objectContaining(REQUEST_TRACE)]);
    expect(rootSpan.links).toEqual([expect.objectContaining(REQUEST_TRACE)]);
    const steps = spans
      .filter((span) => span.name.startsWith('step '))
      .map((span) => [
        span.name,
        span.service,
        span.parentSpanId,
        attribute(span, 'sagastream.saga.outcome'),
      ]);
    expect(steps).toEqual(
      ['process-payment', 'reserve-inventory', 'calculate-shipping', 'send-confirmation'].map((step) => [
        `step ${step}`,
        'orders-worker',
        root!.spanId,
        'completed',
      ]),
    );
  });
});
