// Type-level checks: tsc verifies these (test files are in tsconfig); vitest only runs the builders.
import { type Binary, Decimal128, ObjectId } from 'bson';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import type { SagaBuilder } from '../../../src/definition/saga-builder.js';
import type { SagaDefinition } from '../../../src/definition/saga-definition.js';
import type { CompensationContext, StepContext } from '../../../src/definition/step-context.js';

const input = z.object({
  _id: z.string(),
  total: z.string().transform(Number),
  email: z.email().optional(),
});
type Order = { _id: string; total: number; email?: string | undefined };

describe('defineSaga typing, builder form', () => {
  it('flows the input output type and earlier outputs into every step', () => {
    const definition = defineSaga({ name: 'order-fulfilment', trigger: { collection: 'orders' }, input })
      .step({
        name: 'process-payment',
        output: z.object({ paymentId: z.string(), at: z.iso.datetime().transform((text) => new Date(text)) }),
        run: async (ctx) => {
          expectTypeOf(ctx.input).toEqualTypeOf<Order>();
          expectTypeOf(ctx.outputs).toEqualTypeOf<object>();
          expectTypeOf(ctx.idempotencyKey).toBeString();
          expectTypeOf(ctx.attempt).toBeNumber();
          expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
          expectTypeOf(ctx.deadline).toEqualTypeOf<Date>();
          // run returns the schema's input type (a string), ctx.output gets its output type (a Date).
          return Promise.resolve({ paymentId: `p-${ctx.input._id}`, at: new Date().toISOString() });
        },
        compensate: async (ctx) => {
          expectTypeOf(ctx.output).toEqualTypeOf<{ paymentId: string; at: Date } | undefined>();
          expectTypeOf(ctx.reason).toBeString();
          return Promise.resolve();
        },
      })
      .step({
        name: 'reserve-stock',
        run: async (ctx) => {
          expectTypeOf(ctx.outputs['process-payment'].paymentId).toBeString();
          expectTypeOf(ctx.outputs['process-payment'].at).toEqualTypeOf<Date>();
          // @ts-expect-error: later steps are not in ctx.outputs yet
          void ctx.outputs.ship;
          return Promise.resolve({ reservationId: 7 });
        },
        compensate: async (ctx) => {
          expectTypeOf(ctx.output).toEqualTypeOf<{ reservationId: number } | undefined>();
          expectTypeOf(ctx.outputs['process-payment'].paymentId).toBeString();
          return Promise.resolve();
        },
      })
      .step({
        name: 'ship',
        run: async (ctx) => {
          expectTypeOf(ctx.outputs).toEqualTypeOf<{
            readonly 'process-payment': { paymentId: string; at: Date };
            readonly 'reserve-stock': { reservationId: number };
          }>();
          return Promise.resolve();
        },
      })
      .build();
    expectTypeOf(definition).toEqualTypeOf<SagaDefinition<Order>>();
  });

  it('refuses a run result that does not match the output schema', () => {
    const builder = defineSaga({ name: 'x', trigger: { collection: 'x' }, input });
    expectTypeOf(builder).toEqualTypeOf<SagaBuilder<typeof input>>();
    // @ts-expect-error: id must be a string
    builder.step({
      name: 'a',
      output: z.object({ id: z.string() }),
      run: async () => Promise.resolve({ id: 1 }),
    });
  });

  it('refuses bad durations and misspelt options at compile time', () => {
    const builder = defineSaga({ name: 'x', trigger: { collection: 'x' }, input, timeout: '5m' });
    // @ts-expect-error: '5 minutes' is not a duration
    builder.step({ name: 'a', timeout: '5 minutes', run: async () => Promise.resolve() });
    builder.step({ name: 'a', timeout: '1.5s', retry: { attempts: 2 }, run: async () => Promise.resolve() });
    // @ts-expect-error: 'delete' events have no document to start a saga from
    defineSaga({ name: 'x', trigger: { collection: 'x', on: ['delete'] }, input });
  });
});

describe('defineSaga typing, array form', () => {
  it('types ctx.input exactly and ctx.outputs as a partial record of the step names', () => {
    const definition = defineSaga({
      name: 'order-fulfilment',
      trigger: { collection: 'orders', key: (document) => String(document.orderNumber) },
      input,
      steps: [
        {
          name: 'charge',
          run: async (ctx) => {
            expectTypeOf(ctx.input).toEqualTypeOf<Order>();
            return Promise.resolve({ paymentId: 'p' });
          },
        },
        {
          name: 'ship',
          run: async (ctx) => {
            expectTypeOf(ctx.outputs).toEqualTypeOf<Partial<Readonly<Record<'charge' | 'ship', unknown>>>>();
            // @ts-expect-error: no step is called "chrage"
            void ctx.outputs.chrage;
            return Promise.resolve();
          },
          compensate: async (ctx) => {
            expectTypeOf(ctx).toExtend<
              CompensationContext<Order, Partial<Record<'charge' | 'ship', unknown>>, unknown>
            >();
            return Promise.resolve();
          },
        },
      ],
    });
    expectTypeOf(definition).toEqualTypeOf<SagaDefinition<Order>>();
  });

  it('is assignable to the erased engine types', () => {
    expectTypeOf<SagaDefinition<Order>>().toExtend<SagaDefinition>();
    expectTypeOf<StepContext<Order, { a: number }>>().toExtend<StepContext>();
  });
});

describe('defineSaga typing, services', () => {
  interface Payments {
    charge(amount: number): Promise<string>;
  }

  it('types ctx.services by the declaration in both forms, and leaves it unknown without one', () => {
    defineSaga({
      name: 'charge',
      trigger: { collection: 'orders' },
      input,
      services: {} as { payments: Payments },
    })
      .step({
        name: 'charge-card',
        run: async (ctx) => {
          expectTypeOf(ctx.services).toEqualTypeOf<{ payments: Payments }>();
          return { chargeId: await ctx.services.payments.charge(ctx.input.total) };
        },
        compensate: async (ctx) => {
          expectTypeOf(ctx.services.payments).toEqualTypeOf<Payments>();
          return Promise.resolve();
        },
      })
      .build();
    defineSaga({
      name: 'charge',
      trigger: { collection: 'orders' },
      input,
      services: {} as { payments: Payments },
      steps: [
        {
          name: 'charge-card',
          run: async (ctx) => {
            expectTypeOf(ctx.services).toEqualTypeOf<{ payments: Payments }>();
            // @ts-expect-error: the declaration names no `shipping` service
            void ctx.services.shipping;
            return Promise.resolve();
          },
        },
      ],
    });
    defineSaga({ name: 'plain', trigger: { collection: 'orders' }, input }).step({
      name: 'only',
      run: async (ctx) => {
        expectTypeOf(ctx.services).toEqualTypeOf<unknown>();
        return Promise.resolve();
      },
    });
  });
});

describe('defineSaga typing, outputs as MongoDB returns them', () => {
  it('types earlier outputs and ctx.output after the round trip: undefined is null, BSON types are kept', () => {
    defineSaga({ name: 'stored', trigger: { collection: 'orders' }, input })
      .step({
        name: 'record',
        run: async () =>
          Promise.resolve({
            note: undefined as string | undefined,
            at: new Date(),
            id: new ObjectId(),
            amount: Decimal128.fromString('1.50'),
            raw: new Uint8Array([1]),
            lines: [{ sku: 'a', gift: undefined as boolean | undefined }],
          }),
        compensate: async (ctx) => {
          expectTypeOf(ctx.output?.note).toEqualTypeOf<string | null | undefined>();
          return Promise.resolve();
        },
      })
      .step({
        name: 'read',
        run: async (ctx) => {
          const stored = ctx.outputs.record;
          expectTypeOf(stored.note).toEqualTypeOf<string | null>();
          expectTypeOf(stored.at).toEqualTypeOf<Date>();
          expectTypeOf(stored.id).toEqualTypeOf<ObjectId>();
          expectTypeOf(stored.amount).toEqualTypeOf<Decimal128>();
          expectTypeOf(stored.raw).toEqualTypeOf<Binary>();
          expectTypeOf(stored.lines).toEqualTypeOf<{ sku: string; gift: boolean | null }[]>();
          return Promise.resolve();
        },
      })
      .build();
  });
});
