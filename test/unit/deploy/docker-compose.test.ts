// docker-compose.yml cannot be run here (no Docker engine), so its promises are checked on the parsed file.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/definition/duration.js';

interface Service {
  image?: string;
  profiles?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  build?: unknown;
  stop_grace_period?: string;
  healthcheck?: { test?: string[] };
}

/** The worker's default grace for its steps in flight on SIGTERM (SagaRuntime's shutdownGraceMs). */
const WORKER_SHUTDOWN_GRACE_MS = 10_000;
const ROLES = ['watcher', 'worker', 'admin', 'demo'];

const text = await readFile(new URL('../../../docker-compose.yml', import.meta.url), 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const roles = ROLES.map((name) => [name, compose.services[name] ?? {}] as const);

describe('docker-compose.yml', () => {
  it('runs every role from one image that one service builds', () => {
    expect(new Set(roles.map(([, service]) => service.image))).toEqual(new Set(['sagastream:local']));
    expect(roles.filter(([, service]) => service.build !== undefined).map(([name]) => name)).toEqual([
      'admin',
    ]);
  });

  it("gives every role longer to stop than the worker's own shutdown grace", () => {
    for (const [, service] of roles) {
      expect(parseDuration(service.stop_grace_period ?? '0ms')).toBeGreaterThan(WORKER_SHUTDOWN_GRACE_MS);
    }
  });

  it('checks every long-running role on /readyz: the admin API, and the watchers and workers on their listener', () => {
    expect(compose.services.admin?.healthcheck?.test?.join(' ')).toContain('http://127.0.0.1:8080/readyz');
    for (const role of ['watcher', 'worker']) {
      const service = compose.services[role] as Service & { command?: string[] };
      expect(service.healthcheck?.test?.join(' '), role).toContain('http://127.0.0.1:9464/readyz');
      expect(service.command?.join(' '), role).toContain('--metrics-port 9464 --metrics-host 0.0.0.0');
    }
  });

  it('uses no key that needs Docker Engine 25 (healthcheck.start_interval)', () => {
    const checks = Object.values(compose.services).map((service) => service.healthcheck ?? {});
    expect(checks.filter((check) => 'start_interval' in check)).toEqual([]);
  });

  it('exports traces only when asked: Jaeger in the `tracing` profile, the roles off while the endpoint is unset', () => {
    const jaeger = compose.services.jaeger;
    expect(jaeger?.profiles).toEqual(['tracing']);
    expect(jaeger?.ports).toEqual(['127.0.0.1:16686:16686']);
    for (const [name, service] of roles) {
      expect(service.environment?.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('${OTEL_EXPORTER_OTLP_ENDPOINT:-}');
    }
    expect(text).toContain(
      'OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318 docker compose --profile tracing up',
    );
  });
});
