import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import { parseSagaInput } from '../../../src/definition/parse-saga-input.js';
import { parseStepOutput } from '../../../src/definition/parse-step-output.js';
import { idempotencyKeyFor } from '../../../src/definition/step-context.js';
import { isRetryable } from '../../../src/errors/is-retryable.js';
import { ValidationError } from '../../../src/errors/validation-error.js';

const definition = defineSaga({
  name: 'orders',
  trigger: { collection: 'orders' },
  input: z.object({
    _id: z.string(),
    total: z.number().positive(),
    items: z.array(z.object({ qty: z.number() })),
  }),
  steps: [
    {
      name: 'charge',
      output: z.object({ paymentId: z.string() }),
      run: async () => Promise.resolve({ paymentId: 'p' }),
    },
    { name: 'ship', run: async () => Promise.resolve(42) },
  ],
});

describe('parseSagaInput', () => {
  it('returns the parsed document', async () => {
    const document = { _id: 'o1', total: 10, items: [{ qty: 1 }], extra: true };
    await expect(parseSagaInput(definition, document)).resolves.toEqual({
      _id: 'o1',
      total: 10,
      items: [{ qty: 1 }],
    });
  });

  it('throws a non-retryable ValidationError listing the issues', async () => {
    const error = await parseSagaInput(definition, { _id: 'o1', total: -1, items: [{ qty: 'x' }] }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const validationError = error as ValidationError;
    expect(validationError.code).toBe('INPUT_VALIDATION_FAILED');
    expect(isRetryable(validationError)).toBe(false);
    expect(validationError.issues.map((issue) => issue.path)).toEqual(['total', 'items.0.qty']);
    expect(validationError.message).toMatch(
      /^The input does not match the input schema of saga "orders": total: /,
    );
  });
});

describe('parseStepOutput', () => {
  it('validates against the step schema, or passes the value through without one', async () => {
    const [charge, ship] = definition.steps;
    if (charge === undefined || ship === undefined) throw new Error('steps missing');
    await expect(parseStepOutput(charge, { paymentId: 'p', extra: 1 })).resolves.toEqual({ paymentId: 'p' });
    await expect(parseStepOutput(ship, 'anything')).resolves.toBe('anything');
    const error = (await parseStepOutput(charge, { paymentId: 1 }, 'saga-1').catch(
      (caught: unknown) => caught,
    )) as ValidationError;
    expect(error.code).toBe('OUTPUT_VALIDATION_FAILED');
    expect(error.sagaId).toBe('saga-1');
    expect(error.step).toBe('charge');
    expect(error.message).toMatch(
      /^Step "charge" returned a value that does not match its output schema: paymentId: /,
    );
  });
});

describe('idempotencyKeyFor', () => {
  it('is stable per saga, step and phase', () => {
    expect(idempotencyKeyFor('s1', 'charge', 'forward')).toBe('s1:charge');
    expect(idempotencyKeyFor('s1', 'charge', 'compensate')).toBe('s1:charge:compensate');
  });
});
