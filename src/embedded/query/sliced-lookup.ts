// `$lookup` by `localField`/`foreignField` in slices: mingo's stage indexes the whole joined collection each time it
// starts, so it cannot be fed a chunk at a time; this builds that index once, a slice at a time, and joins each
// document as mingo's stage does (same index, same matching, same output).
import { HashMap, ensureArray, flatten, isArray, resolve } from 'mingo/util';
import { isPlainDocument } from './bson-type-name.js';
import type { Document } from './document.js';
import type { PipelineBudget } from './pipeline-budget.js';
import { pipelineCopy } from './run-pipeline.js';

interface FieldLookup {
  from: string;
  localField: string;
  foreignField: string;
  as: string;
}

/** A `$lookup` joining a named collection by fields with no sub-pipeline, else undefined (mingo's stage runs it). */
function fieldLookupOf(spec: unknown): FieldLookup | undefined {
  if (!isPlainDocument(spec)) return undefined;
  const { from, localField, foreignField, as, pipeline } = spec;
  if (typeof from !== 'string' || typeof as !== 'string') return undefined;
  if (typeof localField !== 'string' || localField === '') return undefined;
  if (typeof foreignField !== 'string' || foreignField === '') return undefined;
  if (pipeline !== undefined && !(Array.isArray(pipeline) && pipeline.length === 0)) return undefined;
  return { from, localField, foreignField, as };
}

/** mingo's `$lookup` of `spec` over `docs` (its copies), or undefined when the spec is not a field lookup. */
export async function lookupInSlices(
  docs: readonly Document[],
  spec: unknown,
  resolveCollection: ((name: string) => Document[]) | undefined,
  budget: PipelineBudget,
): Promise<Document[] | undefined> {
  const lookup = fieldLookupOf(spec);
  const joined = lookup && resolveCollection?.(lookup.from);
  if (!lookup || !isArray(joined)) return undefined;
  const index = HashMap.init<unknown, Document[]>();
  for (const doc of joined) {
    for (const value of ensureArray(resolve(doc, lookup.foreignField) ?? null)) {
      const matches = index.get(value);
      if (matches) matches.push(doc);
      else index.set(value, [doc]);
    }
    if (budget.due()) await budget.pause();
  }
  const out = new Array<Document>(docs.length);
  for (let at = 0; at < docs.length; at++) {
    const copy = pipelineCopy(docs[at]!, undefined);
    const local: unknown = resolve(copy, lookup.localField) ?? null;
    const matches = isArray(local)
      ? Array.from(new Set(flatten(local.map((value) => index.get(value)))))
      : (index.get(local) ?? []);
    out[at] = { ...copy, [lookup.as]: matches };
    if (budget.due()) await budget.pause();
  }
  return out;
}
