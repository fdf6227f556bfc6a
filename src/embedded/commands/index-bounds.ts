// find's index-shaped options on a hinted index: `min`/`max` bounds (inclusive/exclusive, as an index scan reads
// them) and `returnKey`'s key documents.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { compareValues } from '../query/index.js';
import { valuesAtPath } from '../storage/document-paths.js';
import type { IndexSpec } from '../storage/oplog-entry.js';
import type { ResolvedHint } from './index-hint.js';

export interface IndexBounds {
  spec: IndexSpec;
  min: Document | undefined;
  max: Document | undefined;
}

/**
 * A document's key in an index, as `returnKey` shows it: each key-pattern field (dotted names kept) with the
 * document's value there, null when missing. An array field gives its first element's key.
 */
export function indexKeyOf(doc: Document, spec: IndexSpec): Document {
  const key: Document = {};
  for (const field of Object.keys(spec.key)) key[field] = valuesAtPath(doc, field)[0] ?? null;
  return key;
}

/** Index order of two keys of `spec`: field by field, a descending field reversed. */
export function compareIndexKeys(a: Document, b: Document, spec: IndexSpec): number {
  for (const [field, direction] of Object.entries(spec.key)) {
    const order = compareValues(a[field], b[field]);
    if (order !== 0) return compareValues(direction, 0) < 0 ? -order : order;
  }
  return 0;
}

/**
 * Checks min/max as mongod's planner does (query_planner.cpp): both need a hinted index (51173), must name exactly
 * its key-pattern fields in order (51174), and min must sort before max (51175). Undefined without min and max.
 */
export function parseIndexBounds(
  min: Document | undefined,
  max: Document | undefined,
  hint: ResolvedHint | undefined,
): IndexBounds | undefined {
  const bounds = [min, max].filter(
    (bound): bound is Document => bound !== undefined && Object.keys(bound).length > 0,
  );
  if (bounds.length === 0) return undefined;
  if (hint?.kind !== 'index') {
    throw new MongoCommandError(
      'Location51173',
      'When using min()/max() a hint of which index to use must be provided',
    );
  }
  const { spec } = hint;
  const fields = Object.keys(spec.key);
  for (const bound of bounds) {
    const boundFields = Object.keys(bound);
    if (boundFields.length !== fields.length || boundFields.some((field, at) => field !== fields[at])) {
      throw new MongoCommandError('Location51174', 'The index chosen is not compatible with min/max');
    }
  }
  if (min && max && bounds.length === 2 && compareIndexKeys(min, max, spec) >= 0) {
    throw new MongoCommandError('Location51175', 'max() must be greater than min()');
  }
  return {
    spec,
    min: min && Object.keys(min).length > 0 ? min : undefined,
    max: max && Object.keys(max).length > 0 ? max : undefined,
  };
}

/** Whether a document's key lies in [min, max). */
export function withinIndexBounds(doc: Document, bounds: IndexBounds): boolean {
  const key = indexKeyOf(doc, bounds.spec);
  if (bounds.min && compareIndexKeys(key, bounds.min, bounds.spec) < 0) return false;
  if (bounds.max && compareIndexKeys(key, bounds.max, bounds.spec) >= 0) return false;
  return true;
}
