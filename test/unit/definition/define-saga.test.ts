import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import { SagaBuilder } from '../../../src/definition/saga-builder.js';
import { requireTrigger } from '../../../src/definition/saga-definition.js';
import { SagastreamError } from '../../../src/errors/sagastream-error.js';

const input = z.object({ _id: z.string(), total: z.number() });
const trigger = { collection: 'orders' };
const run = async () => Promise.resolve({ ok: true });

function definitionErrorOf(define: () => unknown): SagastreamError {
  try {
    define();
  } catch (error) {
    if (error instanceof SagastreamError) return error;
    throw error;
  }
  throw new Error('expected a SagastreamError');
}

/** Defines a saga from untyped JSON-ish values, as a JavaScript user could. */
function defineLoosely(spec: Record<string, unknown>): unknown {
  return (defineSaga as (spec: unknown) => unknown)({ name: 'orders', trigger, input, ...spec });
}

describe('defineSaga defaults', () => {
  it('fills every default', () => {
    const definition = defineSaga({
      name: 'order-fulfilment',
      trigger,
      input,
      steps: [{ name: 'charge', run }],
    });
    expect(definition).toMatchObject({
      name: 'order-fulfilment',
      version: 1,
      trigger: { collection: 'orders', database: undefined, on: ['insert'], filter: {} },
      timeoutMs: 300_000,
      compensation: {
        timeoutMs: 60_000,
        retry: {
          attempts: 3,
          backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000, jitter: 0 },
        },
      },
    });
    expect(definition.input).toBe(input);
    expect(definition.steps).toHaveLength(1);
    expect(definition.steps[0]).toEqual({
      name: 'charge',
      index: 0,
      run,
      timeoutMs: 30_000,
      retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000, jitter: 0 } },
    });
    expect(Object.isFrozen(definition)).toBe(true);
    expect(Object.isFrozen(definition.steps)).toBe(true);
  });

  it('resolves saga, compensation, default and step settings', () => {
    const output = z.object({ id: z.string() });
    const compensate = async () => Promise.resolve();
    const definition = defineSaga({
      name: 'orders',
      version: 3,
      trigger: {
        collection: 'orders',
        database: 'shop',
        on: ['insert', 'update', 'insert'],
        filter: { status: 'paid' },
      },
      input,
      timeout: '1h',
      compensation: { timeout: '2m', retry: { attempts: 10, backoff: { type: 'fixed', delay: '5s' } } },
      defaults: { timeout: '10s', retry: { attempts: 4, backoff: { delay: '500ms', jitter: 0.2 } } },
      steps: [
        { name: 'a', run },
        { name: 'b', run, compensate, output, timeout: 1500, retry: { attempts: 1 } },
        { name: 'c', run, retry: { backoff: { type: 'fixed', delay: '3s' } } },
      ],
    });
    expect(definition.version).toBe(3);
    expect(definition.trigger).toMatchObject({
      database: 'shop',
      on: ['insert', 'update'],
      filter: { status: 'paid' },
    });
    expect(definition.timeoutMs).toBe(3_600_000);
    expect(definition.compensation).toEqual({
      timeoutMs: 120_000,
      retry: { attempts: 10, backoff: { type: 'fixed', delayMs: 5000, maxDelayMs: 60_000, jitter: 0 } },
    });
    const [a, b, c] = definition.steps;
    expect(a).toMatchObject({ index: 0, timeoutMs: 10_000 });
    expect(a?.retry).toEqual({
      attempts: 4,
      backoff: { type: 'exponential', delayMs: 500, maxDelayMs: 60_000, jitter: 0.2 },
    });
    expect(b).toMatchObject({ index: 1, timeoutMs: 1500, compensate, output, retry: { attempts: 1 } });
    expect(b?.retry.backoff.delayMs).toBe(500);
    expect(c?.retry).toEqual({
      attempts: 4,
      backoff: { type: 'fixed', delayMs: 3000, maxDelayMs: 60_000, jitter: 0.2 },
    });
  });

  it('gives the same definition from the builder and from the array', () => {
    const fromArray = defineSaga({
      name: 'orders',
      trigger,
      input,
      steps: [
        { name: 'a', run },
        { name: 'b', run },
      ],
    });
    const builder = defineSaga({ name: 'orders', trigger, input });
    expect(builder).toBeInstanceOf(SagaBuilder);
    const fromBuilder = builder.step({ name: 'a', run }).step({ name: 'b', run }).build();
    // Functions are built per definition; both must be there.
    const comparable = ({ trigger, ...rest }: typeof fromArray) => {
      const { key, legacyKey, ...fields } = requireTrigger({ ...rest, trigger }).trigger;
      return { ...rest, trigger: { ...fields, key: typeof key, legacyKey: typeof legacyKey } };
    };
    expect(comparable(fromBuilder)).toEqual(comparable(fromArray));
  });

  it('keeps builders immutable, so a base can be branched', () => {
    const base = defineSaga({ name: 'orders', trigger, input }).step({ name: 'a', run });
    const withB = base.step({ name: 'b', run }).build();
    const withC = base.step({ name: 'c', run }).build();
    expect(withB.steps.map((step) => step.name)).toEqual(['a', 'b']);
    expect(withC.steps.map((step) => step.name)).toEqual(['a', 'c']);
  });

  it('copies the filter so later changes to the object do not leak in', () => {
    const filter: Record<string, unknown> = { status: 'paid' };
    const definition = defineSaga({
      name: 'orders',
      trigger: { collection: 'orders', filter },
      input,
      steps: [{ name: 'a', run }],
    });
    filter.status = 'refunded';
    expect(definition.trigger?.filter).toEqual({ status: 'paid' });
  });
});

describe('defineSaga validation', () => {
  it('refuses a saga without steps', () => {
    const error = definitionErrorOf(() => defineSaga({ name: 'orders', trigger, input }).build());
    expect(error.code).toBe('INVALID_DEFINITION');
    expect(error.message).toBe(
      'Invalid definition of saga "orders" (1 problem); fix it where defineSaga is called:\n' +
        '  - steps: a saga needs at least one step; add them with .step({ name, run }) or steps: [...]',
    );
    expect(
      definitionErrorOf(() => defineSaga({ name: 'orders', trigger, input, steps: [] })).message,
    ).toMatch(/at least one step/);
  });

  it('refuses duplicate step names, naming both positions', () => {
    const error = definitionErrorOf(() =>
      defineSaga({ name: 'orders', trigger, input })
        .step({ name: 'charge', run })
        .step({ name: 'charge', run })
        .build(),
    );
    expect(error.message).toContain(
      'step "charge": the name is already used by steps[0]; step names must be unique',
    );
  });

  it('lists every problem at once, naming the saga and each step', () => {
    const error = definitionErrorOf(() =>
      defineLoosely({
        version: 0,
        timeout: 'forever',
        compensation: { timeout: 0, retry: { attempts: 0 } },
        defaults: { retry: { backoff: { delay: '10s', maxDelay: '1s' } } },
        steps: [
          { name: 'charge', run: 'not a function', timeout: 'abc' },
          { name: 'reserve', run, compensate: 42, retry: { attempts: 0 } },
          { name: 'bad name!', run },
          { run },
          { name: 'ship', run, compenstae: run },
          { name: 'notify', run, output: { parse: () => 1 } },
        ],
      }),
    );
    const problems = error.message
      .split('\n')
      .slice(1)
      .map((line) => line.replace(/^ {2}- /, ''));
    expect(error.message).toMatch(/^Invalid definition of saga "orders" \(\d+ problems\)/);
    expect(problems).toEqual(
      expect.arrayContaining([
        'version: version must be at least 1',
        "timeout: expected a duration like '30s', '5m' or a number of milliseconds, got \"forever\"",
        'compensation.timeout: must be longer than 0 (a timeout of 0 would fail every attempt at once)',
        'compensation.retry.attempts: attempts must be at least 1 (1 means no retries)',
        'defaults.retry.backoff.maxDelay (1000 ms) is shorter than backoff.delay (10000 ms); raise maxDelay or lower delay',
        'step "charge" run: run must be a function',
        'step "charge" timeout: expected a duration like \'30s\', \'5m\' or a number of milliseconds, got "abc"',
        'step "reserve" compensate: compensate must be a function',
        'step "reserve" retry.attempts: attempts must be at least 1 (1 means no retries)',
        'step "bad name!" name: name must be 1-64 letters, digits, "-" or "_", starting with a letter (like order-fulfilment)',
        'steps[3] name: name must be a string',
        'step "ship": Unrecognized key: "compenstae"',
        'step "notify" output: output must be a zod schema, like z.object({ ... })',
      ]),
    );
    expect(problems).toHaveLength(13);
  });

  it('names an unnamed saga generically and checks the saga name', () => {
    const error = definitionErrorOf(() => defineLoosely({ name: 'has space', steps: [{ name: 'a', run }] }));
    expect(error.message).toMatch(/^Invalid definition of saga "has space"/);
    expect(error.message).toContain('name: name must be 1-64 letters');
    expect(
      definitionErrorOf(() => defineLoosely({ name: undefined, steps: [{ name: 'a', run }] })).message,
    ).toMatch(/^Invalid definition of a saga/);
  });

  it('refuses an input that is not a zod schema', () => {
    const error = definitionErrorOf(() =>
      defineLoosely({ input: { type: 'object' }, steps: [{ name: 'a', run }] }),
    );
    expect(error.message).toContain('input: input must be a zod schema');
  });

  it('checks the trigger', () => {
    const problemsOf = (triggerSpec: unknown) =>
      definitionErrorOf(() => defineLoosely({ trigger: triggerSpec, steps: [{ name: 'a', run }] }))
        .message.split('\n')
        .slice(1);
    expect(problemsOf({ collection: '' })).toEqual(['  - trigger.collection: collection cannot be empty']);
    expect(problemsOf({ collection: 'or$ders' })).toEqual([
      '  - trigger.collection: collection name cannot contain "$" or a NUL character',
    ]);
    expect(problemsOf({ collection: 'system.views' })).toEqual([
      '  - trigger.collection: system.* collections cannot be watched',
    ]);
    expect(problemsOf({ collection: 42 })).toEqual([
      '  - trigger.collection: collection must be a string naming the collection to watch',
    ]);
    expect(problemsOf({ collection: 'orders', database: 'my.db' })[0]).toMatch(
      /trigger.database: database must be/,
    );
    expect(problemsOf({ collection: 'orders', on: [] })).toEqual([
      "  - trigger.on: on needs at least one of 'insert', 'update', 'replace'",
    ]);
    expect(problemsOf({ collection: 'orders', on: ['delete'] })).toEqual([
      "  - trigger.on.0: on lists 'insert', 'update' or 'replace'",
    ]);
    expect(problemsOf({ collection: 'orders', key: '_id' })).toEqual([
      '  - trigger.key: key must be a function (document) => string',
    ]);
    expect(problemsOf({ collection: 'orders', filter: [] })).toEqual([
      "  - trigger.filter must be a MongoDB query object like { status: 'paid' }, got an array",
    ]);
    expect(problemsOf({ collection: 'orders', filter: { $where: 'x', status: { $foo: 1 } } })).toEqual([
      '  - trigger.filter.$where: $where is not supported in a trigger filter (JavaScript is not allowed in a change stream $match)',
      '  - trigger.filter.status.$foo: $foo is not a known query operator',
    ]);
  });
});
