// Stages that map each document to one ($project, $addFields, $set, $unset) give back the exact BSON type of a
// number they pass through unchanged: mingo sees the stage's input as a copy with Longs and whole doubles as JS
// numbers, so without this a Long read by `{$project: {a: 1}}` would come back as an int32.
import type { Iterator } from 'mingo/lazy';
import type { Options } from 'mingo/types';
import { resolve } from 'mingo/util';
import { bsonTag, isPlainDocument } from './bson-type-name.js';
import { numericValue } from './bson-numbers.js';
import type { Document } from './document.js';
import { TYPED_SOURCE } from './typed-arithmetic.js';

type StageFn = (collection: Iterator, expression: unknown, options: Options) => Iterator;

/** The stages whose output document i comes from input document i, with fields at the same paths. */
export const ONE_TO_ONE_STAGES = ['$project', '$addFields', '$set', '$unset'] as const;

/**
 * Wraps a one-to-one stage: mingo pulls input documents one at a time and emits each one's output before pulling
 * the next, so the source of the input last pulled is the source of the output being emitted.
 */
export function retypingStage(stage: StageFn): StageFn {
  return (collection, expression, options) => {
    let source: Document | undefined;
    const tracked = collection.map((doc: Document) => {
      source = (doc as Record<symbol, unknown>)[TYPED_SOURCE] as Document | undefined;
      return doc;
    });
    const spec = isPlainDocument(expression) ? expression : undefined;
    return stage(tracked, expression, options).map((out: Document) =>
      source === undefined ? out : restoreTypes(out, source, spec, source),
    );
  };
}

/** A field path operand (`'$orig'`, `'$a.b'`), as the path it reads; not a `$$variable`. */
function fieldPathOf(spec: unknown): string | undefined {
  return typeof spec === 'string' && spec.length > 1 && spec.startsWith('$') && !spec.startsWith('$$')
    ? spec.slice(1)
    : undefined;
}

/** A nested document of output fields (`{a: {b: '$x'}}`), not an expression operator. */
function isFieldsSpec(spec: unknown): spec is Document {
  if (!isPlainDocument(spec)) return false;
  const [first] = Object.keys(spec);
  return first !== undefined && !first.startsWith('$');
}

const TYPED_NUMBERS = new Set(['Long', 'Double']);

/**
 * Puts back the typed value where `out` holds the plain number the copy made of it: at the same path, or, for a
 * field the stage's `spec` computes from a field path (`{renamed: '$orig'}`), at that path of the `root` source.
 */
function restoreTypes(out: Document, source: unknown, spec: Document | undefined, root: Document): Document {
  for (const key of Object.keys(out)) {
    const value: unknown = out[key];
    const fieldSpec: unknown = spec?.[key];
    const path = fieldPathOf(fieldSpec);
    const sameKey: unknown = isPlainDocument(source) ? source[key] : undefined;
    let restored: unknown;
    if (path !== undefined) restored = restoredValue(value, resolve(root, path));
    else if (isFieldsSpec(fieldSpec) && isPlainDocument(value)) {
      restored = restoreTypes(value, sameKey, fieldSpec, root);
    } else restored = restoredValue(value, sameKey);
    if (restored !== value) out[key] = restored;
  }
  return out;
}

function restoredValue(value: unknown, original: unknown): unknown {
  if (typeof value === 'number') {
    return typeof original === 'object' &&
      original !== null &&
      TYPED_NUMBERS.has(bsonTag(original) ?? '') &&
      numericValue(original) === value
      ? original
      : value;
  }
  if (Array.isArray(value) && Array.isArray(original) && value.length === original.length) {
    for (let index = 0; index < value.length; index++) {
      value[index] = restoredValue(value[index], original[index]);
    }
    return value;
  }
  if (isPlainDocument(value) && isPlainDocument(original)) {
    return restoreTypes(value, original, undefined, original);
  }
  return value;
}
