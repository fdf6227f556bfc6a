// The OpenTelemetry SDK of a CLI process, started when OTEL_EXPORTER_OTLP_ENDPOINT is set: traces only, exported over
// OTLP/HTTP as the standard OTEL_* variables say. The SDK packages are optional peers, imported only then.
import type * as NodeSdk from '@opentelemetry/sdk-node';
import { SagastreamError } from '../errors/index.js';
import { isModuleNotFound } from './load-saga-tracing.js';
import { SagaIdGenerator } from './saga-id-generator.js';

type Environment = Readonly<Record<string, string | undefined>>;

const SDK_PACKAGE = '@opentelemetry/sdk-node';
const EXPORTERS = {
  'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
  'http/json': '@opentelemetry/exporter-trace-otlp-http',
} as const;
type Protocol = keyof typeof EXPORTERS;

/** What the SDK start needs of the optional packages; tests give stand-ins that fail as missing ones do. */
export interface SdkModules {
  sdk(): Promise<typeof NodeSdk>;
  exporter(protocol: Protocol): Promise<{ OTLPTraceExporter: new () => NodeSdk.tracing.SpanExporter }>;
}

const installedModules: SdkModules = {
  sdk: () => import('@opentelemetry/sdk-node'),
  exporter: (protocol) =>
    protocol === 'http/json'
      ? import('@opentelemetry/exporter-trace-otlp-http')
      : import('@opentelemetry/exporter-trace-otlp-proto'),
};

export interface RunningSdk {
  /** Exports the spans still buffered, then stops; call before the process exits. */
  shutdown(): Promise<void>;
}

function endpointOf(env: Environment): string | undefined {
  return (
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined
  );
}

function protocolOf(env: Environment): Protocol {
  const protocol =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() ||
    'http/protobuf';
  if (protocol === 'http/protobuf' || protocol === 'http/json') return protocol;
  throw new SagastreamError(
    'CONFIG_INVALID',
    `OTEL_EXPORTER_OTLP_PROTOCOL is "${protocol}": sagastream exports traces over http/protobuf or http/json`,
  );
}

async function load<T>(
  specifier: string,
  missing: string[],
  importer: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await importer();
  } catch (error) {
    if (!isModuleNotFound(error, specifier)) throw error;
    missing.push(specifier);
    return undefined;
  }
}

/**
 * Starts the SDK when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; undefined when not.
 * The exporter reads the endpoint, headers and timeouts from the environment itself, the SDK OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, the sampler and the batch processor's settings.
 * @throws SagastreamError `CONFIG_INVALID`, in one line, naming the packages to install when one is missing.
 */
export async function startOtelSdk(
  env: Environment,
  modules: SdkModules = installedModules,
): Promise<RunningSdk | undefined> {
  if (endpointOf(env) === undefined) return undefined;
  const protocol = protocolOf(env);
  const missing: string[] = [];
  const sdk = await load(SDK_PACKAGE, missing, () => modules.sdk());
  const exporter = await load(EXPORTERS[protocol], missing, () => modules.exporter(protocol));
  if (!sdk || !exporter) {
    throw new SagastreamError(
      'CONFIG_INVALID',
      `OTEL_EXPORTER_OTLP_ENDPOINT is set, but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not ` +
        `installed: run npm install ${missing.join(' ')} (or unset OTEL_EXPORTER_OTLP_ENDPOINT)`,
    );
  }
  const running = new sdk.NodeSDK({
    traceExporter: new exporter.OTLPTraceExporter(),
    // Root spans recorded at a saga's end take the ids its trace already names (ARCHITECTURE.md).
    idGenerator: new SagaIdGenerator(),
    // Traces only: sagastream serves its metrics to Prometheus and writes its logs with pino.
    metricReaders: [],
    logRecordProcessors: [],
  });
  running.start();
  return { shutdown: () => running.shutdown() };
}
