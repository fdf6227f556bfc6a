// The typed way to list steps: each `.step()` adds its output type to what later steps see in `ctx.outputs`.
import type { z } from 'zod';
import { resolveSagaDefinition, type SagaDefinition, type SagaOptionsSpec } from './saga-definition.js';
import type { StepSpecWithoutSchema, StepSpecWithSchema } from './step-definition.js';
import { ParallelBuilder } from './parallel-group.js';
import type { Stored } from './stored-value.js';
import type { SignalOutput, SignalWaitSpec, WaitOutput, WaitSpec } from './wait-definition.js';

/** Flattens `{ a: A } & { b: B }` into `{ a: A; b: B }` for readable hovers and errors. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Outputs of the steps added so far, by name, as later steps read them back from MongoDB. */
export type AddOutput<TOutputs, TName extends string, TOutput> = Simplify<
  TOutputs & { readonly [K in TName]: Stored<TOutput> }
>;

/**
 * Returned by `defineSaga(options)` when `steps` is left out. Immutable: `.step()` returns a new builder.
 * Finish with `.build()`, which validates everything and returns the `SagaDefinition`.
 */
export class SagaBuilder<TSchema extends z.ZodType, TOutputs extends object = object, TServices = unknown> {
  readonly #options: SagaOptionsSpec<TSchema, TServices>;
  readonly #steps: readonly unknown[];

  constructor(options: SagaOptionsSpec<TSchema, TServices>, steps: readonly unknown[] = []) {
    this.#options = options;
    this.#steps = steps;
  }

  /** Adds a step whose `output` schema validates and types its result. */
  step<const TName extends string, TStepSchema extends z.ZodType>(
    spec: StepSpecWithSchema<TName, z.output<TSchema>, TOutputs, TStepSchema, TServices>,
  ): SagaBuilder<TSchema, AddOutput<TOutputs, TName, z.output<TStepSchema>>, TServices>;
  /** Adds a step typed by what its `run` resolves to. */
  step<const TName extends string, TResult>(
    spec: StepSpecWithoutSchema<TName, z.output<TSchema>, TOutputs, TResult, TServices>,
  ): SagaBuilder<TSchema, AddOutput<TOutputs, TName, TResult>, TServices>;
  step(spec: unknown): SagaBuilder<TSchema, object, TServices> {
    return new SagaBuilder(this.#options, [...this.#steps, spec]);
  }

  /**
   * Adds a step that waits for a document of `collection` matching `match(ctx)` to be inserted, updated or
   * replaced (or to exist when the wait begins); the document, validated by `output`, is the step's output.
   */
  waitFor<
    const TName extends string,
    TOut extends z.ZodType | undefined = undefined,
    TOnTimeout extends 'compensate' | 'continue' = 'compensate',
  >(
    spec: WaitSpec<TName, z.output<TSchema>, TOutputs, TOut, TOnTimeout, TServices>,
  ): SagaBuilder<TSchema, AddOutput<TOutputs, TName, WaitOutput<TOut, TOnTimeout>>, TServices>;
  /** Adds a step that waits for signal `signal` sent to the saga; the signal's data is the step's output. */
  waitFor<
    const TName extends string,
    TOut extends z.ZodType | undefined = undefined,
    TOnTimeout extends 'compensate' | 'continue' = 'compensate',
  >(
    spec: SignalWaitSpec<TName, z.output<TSchema>, TOutputs, TOut, TOnTimeout, TServices>,
  ): SagaBuilder<TSchema, AddOutput<TOutputs, TName, SignalOutput<TOut, TOnTimeout>>, TServices>;
  waitFor(spec: unknown): SagaBuilder<TSchema, object, TServices> {
    return new SagaBuilder(this.#options, [...this.#steps, spec]);
  }

  /**
   * Adds a parallel group: its members run at the same time, each as its own job with its own timeout and retries,
   * and the saga moves on once all of them succeeded. Members see the outputs of the steps before the group; the
   * steps after it see every member's.
   */
  parallel<const TGroup extends string, TAdded extends object>(
    name: TGroup,
    members: (
      group: ParallelBuilder<z.output<TSchema>, TOutputs, object, TServices>,
    ) => ParallelBuilder<z.output<TSchema>, TOutputs, TAdded, TServices>,
  ): SagaBuilder<TSchema, Simplify<TOutputs & TAdded>, TServices> {
    const group = members(new ParallelBuilder());
    return new SagaBuilder(this.#options, [...this.#steps, { parallel: name, steps: group.members }]);
  }

  /**
   * Validates the saga and its steps and returns the definition to register.
   * @throws SagastreamError `INVALID_DEFINITION` listing every problem.
   */
  build(): SagaDefinition<z.output<TSchema>> {
    return resolveSagaDefinition<z.output<TSchema>>(this.#options, this.#steps);
  }
}
