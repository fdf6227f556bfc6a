import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import type { DurationInput } from '../../../src/definition/duration.js';
import type { SagaDefinition } from '../../../src/definition/saga-definition.js';
import {
  definitionFingerprint,
  definitionShape,
  describeShapeChanges,
} from '../../../src/definition/definition-fingerprint.js';

const run = async () => Promise.resolve();
const undo = async () => Promise.resolve();

function orders(
  steps: { name: string; compensate?: boolean; timeout?: DurationInput; attempts?: number }[],
  filter: Record<string, unknown> = { status: 'paid' },
) {
  return defineSaga({
    name: 'orders',
    trigger: { collection: 'orders', filter },
    input: z.object({}),
    steps: steps.map(({ name, compensate, timeout, attempts }) => ({
      name,
      run,
      ...(compensate ? { compensate: undo } : {}),
      ...(timeout === undefined ? {} : { timeout }),
      ...(attempts === undefined ? {} : { retry: { attempts } }),
    })),
  });
}

const fingerprintOf = (definition: object) =>
  definitionFingerprint(definitionShape(definition as SagaDefinition));

describe('definition fingerprint', () => {
  const base = orders([{ name: 'charge', compensate: true }, { name: 'ship' }]);

  it('is stable for the same shape, whatever the step code does', () => {
    const same = defineSaga({
      name: 'orders',
      trigger: { collection: 'orders', filter: { status: 'paid' } },
      input: z.object({ other: z.string().optional() }),
      steps: [
        { name: 'charge', run: async () => Promise.resolve(1), compensate: async () => Promise.resolve() },
        { name: 'ship', run: async () => Promise.resolve(2) },
      ],
    });
    expect(fingerprintOf(same)).toBe(fingerprintOf(base));
    expect(fingerprintOf(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with step names and order, compensations, timeouts, retries and the trigger', () => {
    const variants = [
      orders([{ name: 'ship' }, { name: 'charge', compensate: true }]),
      orders([{ name: 'charge-card', compensate: true }, { name: 'ship' }]),
      orders([{ name: 'charge' }, { name: 'ship' }]),
      orders([{ name: 'charge', compensate: true, timeout: '5s' }, { name: 'ship' }]),
      orders([{ name: 'charge', compensate: true, attempts: 5 }, { name: 'ship' }]),
      orders([{ name: 'charge', compensate: true }, { name: 'ship' }], { status: 'new' }),
    ];
    const fingerprints = new Set([base, ...variants].map(fingerprintOf));
    expect(fingerprints.size).toBe(variants.length + 1);
  });

  it('says what changed', () => {
    const changed = orders(
      [{ name: 'charge', timeout: '5s', attempts: 5 }, { name: 'pack' }, { name: 'ship' }],
      { status: 'new' },
    );
    const changes = describeShapeChanges(definitionShape(base), definitionShape(changed));
    expect(changes).toEqual([
      'steps changed from [charge, ship] to [charge, pack, ship]',
      'step "charge": compensation removed',
      'step "charge": timeout changed from 30000ms to 5000ms',
      'step "charge": retry changed from 3 attempts, exponential from 1000ms (max 60000ms, jitter 0) to ' +
        '5 attempts, exponential from 1000ms (max 60000ms, jitter 0)',
      expect.stringMatching(/^trigger changed from \(default database\)\.orders on insert.* where .*"paid"/),
    ]);
  });
});

describe('definition fingerprint of wait steps', () => {
  function waiting(wait: { collection?: string; timeout?: DurationInput; signal?: string; filter?: string }) {
    return defineSaga({
      name: 'refunds',
      input: z.object({ orderId: z.string() }),
      steps: [
        { name: 'prepare', run },
        wait.signal
          ? { name: 'approval', signal: wait.signal, ...(wait.timeout ? { timeout: wait.timeout } : {}) }
          : {
              name: 'approval',
              collection: wait.collection ?? 'approvals',
              match: (ctx: { input: { orderId: string } }) => ({
                orderId: ctx.input.orderId,
                by: wait.filter,
              }),
              ...(wait.timeout ? { timeout: wait.timeout } : {}),
            },
      ],
    });
  }

  it('changes with what a wait waits on, not with its match code', () => {
    const base = waiting({});
    expect(fingerprintOf(waiting({ filter: 'someone else' }))).toBe(fingerprintOf(base));
    const variants = [
      waiting({ collection: 'grants' }),
      waiting({ timeout: '1h' }),
      waiting({ signal: 'approval' }),
    ];
    expect(new Set([base, ...variants].map(fingerprintOf)).size).toBe(variants.length + 1);
    expect(describeShapeChanges(definitionShape(base), definitionShape(variants[0]!))).toEqual([
      expect.stringMatching(/^step "approval": wait changed from .*"approvals".* to .*"grants"/),
    ]);
  });
});
