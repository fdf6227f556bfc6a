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

/** ComputeOptions for `options`, with `$$NOW` fixed from now on. */
export function computeOptionsFor(options: Partial<Options>): ComputeOptions {
  let captured: ComputeOptions | undefined;
  const capture = (collection: Iterator, _expression: unknown, computeOptions: Options): Iterator => {
    captured = computeOptions as ComputeOptions;
    return collection;
  };
  // A stage only this Aggregator knows: mingo hands every stage the ComputeOptions it built from `options`.
  const context = Context.from(Context.init({ pipeline: { [CAPTURE_STAGE]: capture } }), options.context!);
  new Aggregator([{ [CAPTURE_STAGE]: 1 }], { ...options, context }).run([]);
  if (captured === undefined) throw new Error('mingo did not run the capture stage');
  void captured.now;
  return captured;
}

/** A copy with the same options and locals, whose `update` leaves `options` alone (mingo's ComputeOptions.init). */
export function copyComputeOptions(options: ComputeOptions): ComputeOptions {
  return (options.constructor as unknown as { init(from: ComputeOptions): ComputeOptions }).init(options);
}
