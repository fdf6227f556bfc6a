// Parallel groups: steps that run at the same time, each as its own job with its own timeout and retries. The saga
// moves past the group once every member succeeded; when one fails for good, the members that succeeded or may have
// acted are compensated concurrently, then the steps before the group in reverse order (engine/ARCHITECTURE.md).
// In the resolved definition the members are ordinary consecutive steps that carry their `group`.
import type { z } from 'zod';
import type { AddOutput } from './saga-builder.js';
import type { StepSpecWithoutSchema, StepSpecWithSchema } from './step-definition.js';
import { isWaitSpec } from './wait-definition.js';
import { NAME_RULE, NAME_SHAPE } from './zod-schema-check.js';

/** Where a member's group sits in the saga: its name, its first member's index and how many members it has. */
export interface StepGroup {
  readonly name: string;
  readonly first: number;
  readonly size: number;
}

/** A group as written in the `steps: [...]` array form: `{ parallel: 'prepare', steps: [...] }`. */
export interface ParallelSpec<TStep> {
  readonly parallel: string;
  readonly steps: readonly TStep[];
}

export function isParallelSpec(spec: unknown): spec is { parallel: unknown; steps?: unknown } {
  return typeof spec === 'object' && spec !== null && 'parallel' in spec;
}

/**
 * Collects a group's members for `SagaBuilder.parallel`. Members see the outputs of the steps before the group
 * (`TOutputs`), not each other's: they run at the same time.
 */
export class ParallelBuilder<
  TInput,
  TOutputs extends object,
  TAdded extends object = object,
  TServices = unknown,
> {
  /** @internal The member specs, in order. */
  readonly members: readonly unknown[];

  constructor(members: readonly unknown[] = []) {
    this.members = members;
  }

  /** Adds a member whose `output` schema validates and types its result. */
  step<const TName extends string, TStepSchema extends z.ZodType>(
    spec: StepSpecWithSchema<TName, TInput, TOutputs, TStepSchema, TServices>,
  ): ParallelBuilder<TInput, TOutputs, AddOutput<TAdded, TName, z.output<TStepSchema>>, TServices>;
  /** Adds a member typed by what its `run` resolves to. */
  step<const TName extends string, TResult>(
    spec: StepSpecWithoutSchema<TName, TInput, TOutputs, TResult, TServices>,
  ): ParallelBuilder<TInput, TOutputs, AddOutput<TAdded, TName, TResult>, TServices>;
  step(spec: unknown): ParallelBuilder<TInput, TOutputs, object, TServices> {
    return new ParallelBuilder([...this.members, spec]);
  }
}

/** One entry of the flattened step list: a step spec and, for a group's member, its group. */
export interface FlatStep {
  readonly spec: unknown;
  readonly group?: StepGroup;
}

/**
 * Flattens groups into their members, in order, and lists what is wrong with a group itself: its name, an empty
 * or malformed member list, a wait step or a group among its members.
 */
export function flattenSteps(steps: readonly unknown[]): { flat: FlatStep[]; problems: string[] } {
  const flat: FlatStep[] = [];
  const problems: string[] = [];
  steps.forEach((spec, position) => {
    if (!isParallelSpec(spec)) {
      flat.push({ spec });
      return;
    }
    const name = spec.parallel;
    const label =
      typeof name === 'string' && name !== ''
        ? `parallel group "${name}"`
        : `steps[${position}] (a parallel group)`;
    if (typeof name !== 'string' || !NAME_SHAPE.test(name))
      problems.push(`${label}: name must be ${NAME_RULE}`);
    const members = spec.steps;
    if (!Array.isArray(members) || members.length === 0) {
      problems.push(`${label}: steps must be a non-empty array of steps`);
      return;
    }
    const tasks = members.filter((member: unknown, index) => {
      if (isParallelSpec(member))
        problems.push(`${label}: steps[${index}] is a parallel group; groups do not nest`);
      else if (isWaitSpec(member)) {
        problems.push(`${label}: steps[${index}] is a wait step; a parallel group runs task steps only`);
      } else return true;
      return false;
    });
    const group: StepGroup = {
      name: typeof name === 'string' ? name : '',
      first: flat.length,
      size: tasks.length,
    };
    for (const member of tasks) flat.push({ spec: member, group });
  });
  return { flat, problems };
}
