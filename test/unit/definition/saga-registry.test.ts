import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import { SagaRegistry } from '../../../src/definition/saga-registry.js';
import { SagastreamError } from '../../../src/errors/sagastream-error.js';

function saga(name: string) {
  return defineSaga({
    name,
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
      /^Saga names must be unique, but "orders", "refunds" are defined more than once/,
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
});
