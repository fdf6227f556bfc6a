// Loads @opentelemetry/api, an optional peer dependency, only if it is installed: without it sagastream runs with
// `noSagaTracing`, which costs nothing.
import type { TracerProvider } from '@opentelemetry/api';
import type { SagaLogger } from '../logging/saga-logger.js';
import { OtelSagaTracing, type OpenTelemetryApi } from './otel-saga-tracing.js';
import { noSagaTracing, type SagaTracing } from './saga-tracing.js';
import type { ResolvedTracingOptions } from './tracing-options.js';

/** How the API module is imported; tests give one that fails as a missing package does. */
export type ApiImporter = () => Promise<OpenTelemetryApi>;

const importApi: ApiImporter = () => import('@opentelemetry/api');

/** Whether `error` says the module (not something it imports in turn) could not be resolved. */
export function isModuleNotFound(error: unknown, specifier: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(specifier)
  );
}

export async function loadSagaTracing(
  options: ResolvedTracingOptions,
  logger: SagaLogger,
  importer: ApiImporter = importApi,
): Promise<SagaTracing> {
  if (!options.enabled) return noSagaTracing;
  let api: OpenTelemetryApi;
  try {
    api = await importer();
  } catch (error) {
    if (isModuleNotFound(error, '@opentelemetry/api')) return noSagaTracing;
    throw error;
  }
  return new OtelSagaTracing(api, {
    traceparentField: options.traceparentField,
    ...(options.tracerProvider ? { tracerProvider: options.tracerProvider as TracerProvider } : {}),
    warn: (message) => logger.warn(message),
  });
}
