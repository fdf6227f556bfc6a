// The entry point of the saga DSL.
import type { z } from 'zod';
import { SagaBuilder } from './saga-builder.js';
import { resolveSagaDefinition, type SagaDefinition, type SagaOptionsSpec } from './saga-definition.js';
import type { ParallelSpec } from './parallel-group.js';
import type { LooseStepSpec } from './step-definition.js';
import type { SignalWaitSpec, WaitSpec } from './wait-definition.js';

/**
 * `ctx.outputs` in the array form: keyed by the saga's step names (a typo is a type error), values `unknown`
 * and possibly missing. Use the `.step()` builder for exact output types.
 */
export type LooseOutputs<TStepName extends string> = Partial<Readonly<Record<TStepName, unknown>>>;

export interface SagaSpecWithSteps<
  TSchema extends z.ZodType,
  TStepName extends string,
  TServices = unknown,
> extends SagaOptionsSpec<TSchema, TServices> {
  /**
   * Run in order; completed steps are compensated in reverse order. A step with `collection` and `match` waits;
   * `{ parallel: 'name', steps: [...] }` runs its steps at the same time (SagaBuilder.parallel).
   */
  readonly steps: readonly (
    | LooseStepSpec<TStepName, z.output<TSchema>, LooseOutputs<TStepName>, TServices>
    | ParallelSpec<LooseStepSpec<TStepName, z.output<TSchema>, LooseOutputs<TStepName>, TServices>>
    | SignalWaitSpec<
        TStepName,
        z.output<TSchema>,
        LooseOutputs<TStepName>,
        z.ZodType | undefined,
        'compensate' | 'continue',
        TServices
      >
    | WaitSpec<
        TStepName,
        z.output<TSchema>,
        LooseOutputs<TStepName>,
        z.ZodType | undefined,
        'compensate' | 'continue',
        TServices
      >
  )[];
}

/**
 * Defines a saga. Without `steps`, returns a builder whose `.step()` calls type `ctx.outputs` exactly:
 *
 * ```ts
 * export const orderFulfilment = defineSaga({
 *   name: 'order-fulfilment',
 *   trigger: { collection: 'orders', filter: { status: 'paid' } },
 *   input: z.object({ _id: z.string(), total: z.number() }),
 * })
 *   .step({
 *     name: 'charge-card',
 *     output: z.object({ paymentId: z.string() }),
 *     run: async (ctx) => payments.charge(ctx.input.total, { idempotencyKey: ctx.idempotencyKey }),
 *     compensate: async (ctx) => { if (ctx.output) await payments.refund(ctx.output.paymentId); },
 *   })
 *   .step({ name: 'ship', run: async (ctx) => shipping.create(ctx.outputs['charge-card'].paymentId) })
 *   .build();
 * ```
 *
 * With `steps: [...]`, returns the `SagaDefinition` directly; `ctx.outputs` is then `LooseOutputs`.
 * @throws SagastreamError `INVALID_DEFINITION` (from `.build()` or, with `steps`, at once) listing every problem.
 */
export function defineSaga<TSchema extends z.ZodType, const TStepName extends string, TServices = unknown>(
  spec: SagaSpecWithSteps<TSchema, TStepName, TServices>,
): SagaDefinition<z.output<TSchema>>;
export function defineSaga<TSchema extends z.ZodType, TServices = unknown>(
  spec: SagaOptionsSpec<TSchema, TServices>,
): SagaBuilder<TSchema, object, TServices>;
export function defineSaga<TSchema extends z.ZodType, TServices = unknown>(
  spec: SagaOptionsSpec<TSchema, TServices> & { readonly steps?: readonly unknown[] },
): SagaDefinition<z.output<TSchema>> | SagaBuilder<TSchema, object, TServices> {
  if (spec.steps === undefined) return new SagaBuilder(spec);
  return resolveSagaDefinition<z.output<TSchema>>(spec, Array.isArray(spec.steps) ? spec.steps : []);
}
