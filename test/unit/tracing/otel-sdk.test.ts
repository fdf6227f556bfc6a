import { describe, expect, it, vi } from 'vitest';
import { startOtelSdk, type SdkModules } from '../../../src/tracing/otel-sdk.js';

const notFound = (specifier: string) =>
  Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/node_modules/sagastream`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });

/** Modules that must never be asked for. */
const askedFor = vi.fn(() => Promise.reject(new Error('not expected')));
const untouched: SdkModules = { sdk: askedFor, exporter: askedFor };

describe('startOtelSdk', () => {
  it('does nothing without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    expect(await startOtelSdk({ OTEL_SERVICE_NAME: 'x' }, untouched)).toBeUndefined();
    expect(askedFor).not.toHaveBeenCalled();
  });

  it('names, in one line, every package to install when the SDK or the exporter is missing', async () => {
    const missingBoth: SdkModules = {
      sdk: () => Promise.reject(notFound('@opentelemetry/sdk-node')),
      exporter: () => Promise.reject(notFound('@opentelemetry/exporter-trace-otlp-proto')),
    };
    const error = await startOtelSdk(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' },
      missingBoth,
    ).then(
      () => undefined,
      (caught: unknown) => caught as Error & { code: string },
    );
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(error?.message).toBe(
      'OTEL_EXPORTER_OTLP_ENDPOINT is set, but @opentelemetry/sdk-node and @opentelemetry/exporter-trace-otlp-proto ' +
        'are not installed: run npm install @opentelemetry/sdk-node @opentelemetry/exporter-trace-otlp-proto ' +
        '(or unset OTEL_EXPORTER_OTLP_ENDPOINT)',
    );
    expect(error?.message).not.toContain('\n');
  });

  it('asks for the JSON exporter under http/json', async () => {
    const modules: SdkModules = {
      sdk: () => import('@opentelemetry/sdk-node'),
      exporter: () => Promise.reject(notFound('@opentelemetry/exporter-trace-otlp-http')),
    };
    await expect(
      startOtelSdk(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
        modules,
      ),
    ).rejects.toThrow(
      'but @opentelemetry/exporter-trace-otlp-http is not installed: run npm install @opentelemetry/exporter-trace-otlp-http',
    );
  });

  it('refuses a protocol it cannot export with (grpc)', async () => {
    await expect(
      startOtelSdk(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
        untouched,
      ),
    ).rejects.toThrow(
      'OTEL_EXPORTER_OTLP_PROTOCOL is "grpc": sagastream exports traces over http/protobuf or http/json',
    );
  });
});
