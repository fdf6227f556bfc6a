import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import { SagaRegistry } from '../../../src/definition/saga-registry.js';
import { SagastreamError } from '../../../src/errors/sagastream-error.js';

function saga(name: string, version?: number) {
  return defineSaga({
    name,
    ...(version === undefined ? {} : { version }),
    trigger: { collection: name },
    input: z.object({}),
    steps: [{ name: 'only', run: async () => Promise.resolve() }],
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

describe('SagaRegistry', () => {
  const orders = saga('orders');
  const refunds = saga('refunds');
  const invoices = saga('invoices');
  const registry = new SagaRegistry([orders, refunds, invoices]);

  it('finds definitions by name and lists them in order', () => {
    expect(registry.get('refunds')).toBe(refunds);
    expect(registry.has('orders')).toBe(true);
    expect(registry.has('nope')).toBe(false);
    expect(registry.list()).toEqual([orders, refunds, invoices]);
    expect(registry.names).toEqual(['orders', 'refunds', 'invoices']);
  });

  it('names the known sagas when one is missing', () => {
    const error = errorOf(() => registry.get('ordres'));
    expect(error.code).toBe('SAGA_NOT_FOUND');
    expect(error.message).toBe(
      'No saga named "ordres" is registered; known sagas: orders, refunds, invoices. ' +
        'Check the name, or add its definition to this process.',
    );
    expect(errorOf(() => new SagaRegistry([]).get('x')).message).toContain('known sagas: (none)');
  });

  it('refuses duplicate names', () => {
    const error = errorOf(() => new SagaRegistry([orders, saga('orders'), refunds, saga('refunds')]));
    expect(error.code).toBe('INVALID_DEFINITION');
    expect(error.message).toMatch(
      /^Saga names must be unique per version, but "orders" v1, "refunds" v1 are defined more than once/,
    );
  });

  it('selects a subset for worker --sagas', () => {
    expect(registry.select(['invoices', ' orders ', 'orders']).names).toEqual(['orders', 'invoices']);
    expect(registry.select()).toBe(registry);
    expect(registry.select([])).toBe(registry);
    expect(registry.select(['', ' '])).toBe(registry);
    const error = errorOf(() => registry.select(['orders', 'a', 'b']));
    expect(error.code).toBe('SAGA_NOT_FOUND');
    expect(error.message).toBe('Unknown sagas "a", "b"; known sagas: orders, refunds, invoices.');
  });

  describe('versions', () => {
    const v1 = saga('orders');
    const v3 = saga('orders', 3);
    const v2 = saga('orders', 2);
    const versioned = new SagaRegistry([v1, v3, refunds, v2]);

    it('holds several versions of a name; new sagas start on the highest', () => {
      expect(versioned.get('orders')).toBe(v3);
      expect(versioned.list()).toEqual([v3, refunds]);
      expect(versioned.all()).toEqual([v3, v2, v1, refunds]);
      expect(versioned.versionsOf('orders')).toEqual([3, 2, 1]);
      expect(versioned.versionsOf('nope')).toEqual([]);
      expect(versioned.names).toEqual(['orders', 'refunds']);
    });

    it('finds the exact version a stored saga runs on (none recorded: version 1)', () => {
      expect(versioned.get('orders', 2)).toBe(v2);
      expect(versioned.find('orders', 1)).toBe(v1);
      expect(versioned.find('orders', 4)).toBeUndefined();
      expect(versioned.forSaga({ saga: 'orders', version: 2 })).toBe(v2);
      expect(versioned.forSaga({ saga: 'orders' })).toBe(v1);
    });

    it('names the loaded versions when one is missing', () => {
      const error = errorOf(() => new SagaRegistry([v2, v3]).get('orders', 1));
      expect(error.code).toBe('VERSION_NOT_LOADED');
      expect(error.message).toMatch(/^Saga "orders" v1 is not loaded in this process \(it loads v3, v2\)/);
    });

    it('keeps every version of a selected saga', () => {
      expect(versioned.select(['orders']).all()).toEqual([v3, v2, v1]);
    });
  });
});
