// mingo's ComputeOptions (options plus locals: $$ROOT, a group's id, the timestamp $$NOW reads), which its public
// entry points do not export: a sliced pipeline needs one per command so that every chunk it hands to mingo sees
// the same $$NOW, and its $group gives mingo's accumulators the group id, as mingo's own $group does.
import { Aggregator } from 'mingo/aggregator';
import { Context } from 'mingo/core';
import type { Iterator } from 'mingo/lazy';
import type { Options } from 'mingo/types';

export interface ComputeOptions extends Options {
  /** The command's `$$NOW`: fixed the first time it is read, kept by every copy. */
  readonly now: Date;
  /** Sets locals in place (mingo's $group sets `{root: null, groupId}` before evaluating a group's accumulators). */
  update(locals: { root?: unknown; groupId?: unknown }): ComputeOptions;
}

const CAPTURE_STAGE = '$_captureComputeOptions';

/** Each context with the capture stage added, built once: the Aggregator below copies it (its own, per command). */
const captureContexts = new WeakMap<Context, Context>();

/** ComputeOptions for `options` (whose context is copied, as mingo's Aggregator does), with `$$NOW` fixed. */
export function computeOptionsFor(options: Partial<Options>): ComputeOptions {
  let captured: ComputeOptions | undefined;
  const capture = (collection: Iterator, _expression: unknown, computeOptions: Options): Iterator => {
    captured = computeOptions as ComputeOptions;
    return collection;
  };
  const base = options.context!;
  let context = captureContexts.get(base);
  if (context === undefined) {
    // A stage only this context knows, which hands on the ComputeOptions mingo built from `options`.
    context = Context.from(Context.init({ pipeline: { [CAPTURE_STAGE]: captureStage } }), base);
    captureContexts.set(base, context);
  }
  capturing = capture;
  try {
    new Aggregator([{ [CAPTURE_STAGE]: 1 }], { ...options, context }).run([]);
  } finally {
    capturing = undefined;
  }
  if (captured === undefined) throw new Error('mingo did not run the capture stage');
  void captured.now;
  return captured;
}

type StageFn = (collection: Iterator, expression: unknown, options: Options) => Iterator;

/** The capture of the computeOptionsFor call under way (calls never overlap: they are synchronous). */
let capturing: StageFn | undefined;

const captureStage: StageFn = (collection, expression, options) =>
  capturing ? capturing(collection, expression, options) : collection;

/** A copy with the same options and locals, whose `update` leaves `options` alone (mingo's ComputeOptions.init). */
export function copyComputeOptions(options: ComputeOptions): ComputeOptions {
  return (options.constructor as unknown as { init(from: ComputeOptions): ComputeOptions }).init(options);
}
