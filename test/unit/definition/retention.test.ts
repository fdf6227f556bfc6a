// Retention settings: the values a definition, SagaRuntime or SAGA_RETENTION accept, how they are shown, which one a
// saga gets, and that a definition's retention is not part of its version's shape.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import { definitionFingerprint, definitionShape } from '../../../src/definition/definition-fingerprint.js';
import {
  DEFAULT_RETENTION_MS,
  describeRetentions,
  expiryAfter,
  formatRetention,
  parseRetention,
  RetentionPolicy,
  type RetentionInput,
} from '../../../src/definition/retention.js';
import { SagastreamError } from '../../../src/errors/sagastream-error.js';

const DAY = 86_400_000;

function ordersSaga(retention?: RetentionInput, version = 1) {
  return defineSaga({
    name: 'orders',
    version,
    trigger: { collection: 'orders' },
    input: z.object({}),
    ...(retention === undefined ? {} : { retention }),
    steps: [
      { name: 'charge', run: async () => Promise.resolve(), compensate: async () => Promise.resolve() },
    ],
  });
}

function errorOf(run: () => unknown): SagastreamError {
  try {
    run();
  } catch (error) {
    if (error instanceof SagastreamError) return error;
    throw error;
  }
  throw new Error('expected a SagastreamError');
}

describe('parseRetention', () => {
  it('accepts days, hours, minutes, seconds, milliseconds and off', () => {
    expect(parseRetention('7d')).toBe(7 * DAY);
    expect(parseRetention('12h')).toBe(12 * 3_600_000);
    expect(parseRetention('5m')).toBe(300_000);
    expect(parseRetention(' 30s ')).toBe(30_000);
    expect(parseRetention(90_000)).toBe(90_000);
    expect(parseRetention('off')).toBe('off');
  });

  it('refuses anything else with an error that names the value', () => {
    for (const [value, shown] of [
      ['7x', '"7x"'],
      ['never', '"never"'],
      ['0s', '"0s"'],
      ['500ms', '"500ms"'],
      ['-1d', '"-1d"'],
      ['OFF', '"OFF"'],
      [true, 'true'],
    ] as const) {
      const error = errorOf(() => parseRetention(value, 'SAGA_RETENTION'));
      expect(error.code).toBe('INVALID_DURATION');
      expect(error.message).toBe(
        "Invalid SAGA_RETENTION: expected a duration of at least 1s like '30d', '12h', '5m' or '30s', or " +
          `'off', got ${shown}.`,
      );
    }
  });
});

describe('formatRetention and describeRetentions', () => {
  it('shows the largest unit that divides the retention', () => {
    expect(formatRetention(DEFAULT_RETENTION_MS)).toBe('30d');
    expect(formatRetention(36 * 3_600_000)).toBe('36h');
    expect(formatRetention(90_000)).toBe('90s');
    expect(formatRetention(1_500)).toBe('1500ms');
    expect(formatRetention('off')).toBe('off');
  });

  it('names the sagas that set their own, with the version only where versions differ', () => {
    expect(describeRetentions(DEFAULT_RETENTION_MS, [ordersSaga()])).toBe('30d');
    const audit = { name: 'audit', version: 1, retention: 'off' as const };
    expect(describeRetentions(7 * DAY, [ordersSaga('1d'), ordersSaga('1d', 2), audit])).toBe(
      '7d (orders: 1d, audit: off)',
    );
    expect(describeRetentions(7 * DAY, [ordersSaga('1d'), ordersSaga('12h', 2)])).toBe(
      '7d (orders v1: 1d, orders v2: 12h)',
    );
    // A version without its own retention has the process's.
    expect(describeRetentions(7 * DAY, [ordersSaga('1d'), ordersSaga(undefined, 2)])).toBe(
      '7d (orders v1: 1d, orders v2: 7d)',
    );
  });
});

describe('retention in a definition', () => {
  it('is resolved to milliseconds or off, and left undefined when not set', () => {
    expect(ordersSaga('7d').retention).toBe(7 * DAY);
    expect(ordersSaga('off').retention).toBe('off');
    expect(ordersSaga().retention).toBeUndefined();
  });

  it('refuses a bad value with an INVALID_DEFINITION error that names it', () => {
    const error = errorOf(() => ordersSaga('2 weeks' as RetentionInput));
    expect(error.code).toBe('INVALID_DEFINITION');
    expect(error.message).toContain(
      "retention: expected a duration of at least 1s like '30d', '12h', '5m' or '30s', or 'off', got \"2 weeks\"",
    );
  });

  it("is not part of the version's fingerprint: changing it needs no new version", () => {
    const fingerprintOf = (retention?: RetentionInput) =>
      definitionFingerprint(definitionShape(ordersSaga(retention)));
    expect(fingerprintOf('7d')).toBe(fingerprintOf());
    expect(fingerprintOf('off')).toBe(fingerprintOf());
  });
});

describe('RetentionPolicy', () => {
  const definitions = [ordersSaga('7d'), ordersSaga('off', 2), ordersSaga(undefined, 3)];
  const policy = new RetentionPolicy(12 * 3_600_000, (saga, version) =>
    definitions.find((definition) => definition.name === saga && definition.version === version),
  );
  const endedAt = new Date('2030-01-01T00:00:00Z');

  it("uses a definition's own retention over the process default", () => {
    expect(policy.expiresAt({ saga: 'orders', version: 1 }, endedAt)).toEqual(
      new Date(endedAt.getTime() + 7 * DAY),
    );
    // A document stored before versions existed has none: version 1.
    expect(policy.of({ saga: 'orders' })).toBe(7 * DAY);
    expect(policy.expiresAt({ saga: 'orders', version: 2 }, endedAt)).toBeUndefined();
  });

  it('falls back to the process default for a definition without one or a version not loaded', () => {
    expect(policy.of({ saga: 'orders', version: 3 })).toBe(12 * 3_600_000);
    expect(policy.of({ saga: 'orders', version: 9 })).toBe(12 * 3_600_000);
    expect(new RetentionPolicy().of({ saga: 'any' })).toBe(30 * DAY);
    expect(expiryAfter('off', endedAt)).toBeUndefined();
  });
});
