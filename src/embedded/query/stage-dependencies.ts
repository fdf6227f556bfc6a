// The top-level fields a stage reads, when it builds new documents from them alone ($group, $bucket, an inclusion
// $project...): its input copies then hold only those fields (mongod's dependency analysis), instead of whole ~1 KB
// documents copied for a count.
import type { Document } from './document.js';
import { isPlainDocument } from './bson-type-name.js';

/** Stages whose output documents are made only of what their expressions read. */
const REBUILDING_STAGES = new Set(['$group', '$count', '$bucket', '$bucketAuto', '$sortByCount']);

/** Expression operators that read a field named by a plain string (not a `$path`), or the whole document. */
const WHOLE_DOCUMENT_OPERATORS = new Set(['$getField', '$setField', '$unsetField', '$function']);

/** The top-level fields `stage` reads, or undefined when it may read anything (or pass documents through). */
export function fieldsReadBy(stage: Document): string[] | undefined {
  const names = Object.keys(stage);
  const name = names[0];
  if (names.length === 1 && name === '$project') return fieldsProjected(stage.$project);
  if (names.length !== 1 || name === undefined || !REBUILDING_STAGES.has(name)) return undefined;
  // $count's argument is the output field's name, not an expression: it reads nothing.
  if (name === '$count') return [];
  const fields = new Set<string>();
  return collectFields(stage[name], fields) ? [...fields] : undefined;
}

/**
 * An inclusion `$project` builds its output from `_id`, the fields it keeps and those its expressions read; an
 * exclusion one (a field set to 0 or false, also nested, or `_id` alone) passes the rest through: undefined.
 */
function fieldsProjected(spec: unknown): string[] | undefined {
  if (!isPlainDocument(spec)) return undefined;
  const fields = new Set<string>(['_id']);
  // `{_id: 0}` alone excludes: every other field passes through.
  const onlyExcludesId = Object.keys(spec).every(
    (path) => path === '_id' && (spec._id === 0 || spec._id === false),
  );
  return !onlyExcludesId && projectedFields(spec, true, fields) ? [...fields] : undefined;
}

function projectedFields(spec: Document, top: boolean, fields: Set<string>): boolean {
  for (const [path, value] of Object.entries(spec)) {
    if (value === 0 || value === false) {
      if (top && path === '_id') continue;
      return false;
    }
    if (top) fields.add(path.split('.')[0] ?? path);
    if (value === 1 || value === true) continue;
    if (isPlainDocument(value) && Object.keys(value).some((key) => !key.startsWith('$'))) {
      // A nested projection ({a: {b: 1, c: '$x'}}): the same rules inside it.
      if (!projectedFields(value, false, fields)) return false;
    } else if (typeof value === 'string' || isPlainDocument(value)) {
      if (!collectFields(value, fields)) return false;
    } else return false;
  }
  return true;
}

/** Adds the fields `value` reads to `fields`; false when it reads the whole document. */
function collectFields(value: unknown, fields: Set<string>): boolean {
  if (typeof value === 'string') {
    if (value.startsWith('$$')) return !/^\$\$(ROOT|CURRENT)(\.|$)/.test(value);
    if (value.startsWith('$')) {
      const field = value.slice(1).split('.')[0] ?? '';
      if (field === '' || field === '__proto__') return false;
      fields.add(field);
    }
    return true;
  }
  if (Array.isArray(value)) return value.every((element) => collectFields(element, fields));
  if (!isPlainDocument(value)) return true;
  for (const [key, inner] of Object.entries(value)) {
    if (WHOLE_DOCUMENT_OPERATORS.has(key)) return false;
    if (key === '$literal') continue;
    if (!collectFields(inner, fields)) return false;
  }
  return true;
}

/** A shallow document holding only `fields` of `doc` (the values are shared; the caller copies them). */
export function pickFields(doc: Document, fields: readonly string[]): Document {
  const picked: Document = {};
  for (const field of fields) if (Object.hasOwn(doc, field)) picked[field] = doc[field];
  return picked;
}
