// The default saga key of a trigger document: its `_id` as text, one key per distinct BSON `_id` value.
import { EJSON } from 'bson';
import { ValidationError } from '../errors/validation-error.js';

/** A document from the trigger collection, before the saga's input schema has checked it. */
export type TriggerDocument = { readonly [field: string]: unknown };

/** Prefixes of the typed key forms; a string `_id` that starts with one is itself prefixed with `string:`. */
const TYPE_PREFIXES = ['string:', 'number:', 'date:', 'bool:', 'uuid:'] as const;
const OBJECT_ID_FORM = /^[0-9a-f]{24}$/;

/**
 * The default trigger key: the document's `_id` as readable text, different for every distinct `_id`:
 * - an ObjectId: its 24 hex digits (`65a1f0c2e4b0a1b2c3d4e5f6`);
 * - a string: itself (`order-17`), or `string:` + itself when it could be read as another form (24 hex
 *   digits, a leading `{`, or one of the prefixes below);
 * - a number (int, double, long): `number:` + its decimal form (`number:17`);
 * - a date: `date:` + its ISO form; a boolean: `bool:true` / `bool:false`;
 * - a UUID: `uuid:` + its dashed hex form;
 * - anything else (decimals, other binaries, embedded documents): its canonical Extended JSON,
 *   which starts with `{`.
 * MongoDB treats 1, 1.0 and NumberLong(1) as the same `_id`, and so does the key.
 */
export function defaultTriggerKey(document: TriggerDocument): string {
  return keyOfId(requireId(document));
}

/**
 * The key the first versions gave the same document, when it differs from today's: sagas stored under it must
 * still count as this document's saga. `undefined` when both forms are the same (ObjectIds, most strings,
 * everything in Extended JSON form).
 */
export function legacyTriggerKey(document: TriggerDocument): string | undefined {
  const id = requireId(document);
  const legacy = legacyKeyOfId(id);
  return legacy === keyOfId(id) ? undefined : legacy;
}

function requireId(document: TriggerDocument): unknown {
  const id = document._id;
  if (id === undefined || id === null) {
    throw new ValidationError(
      'INPUT_VALIDATION_FAILED',
      'The trigger document has no _id, so no saga key can be derived; give the trigger a key function.',
      [{ path: '_id', message: 'required' }],
    );
  }
  return id;
}

function keyOfId(id: unknown): string {
  if (typeof id === 'string') return isUntypedString(id) ? id : `string:${id}`;
  if (typeof id === 'number') return `number:${Object.is(id, -0) ? 0 : id}`;
  if (typeof id === 'bigint') return `number:${id}`;
  if (typeof id === 'boolean') return `bool:${id}`;
  if (id instanceof Date && !Number.isNaN(id.getTime())) return `date:${id.toISOString()}`;
  switch (bsonTypeOf(id)) {
    case 'ObjectId':
      return (id as { toHexString(): string }).toHexString();
    case 'Binary':
      if (isUuid(id)) return `uuid:${id.toHexString(true)}`;
      return EJSON.stringify(id, { relaxed: false });
    case 'Long':
    case 'Int32':
    case 'Double':
      // Deserialized without promotion: the same number, so the same key as the plain form.
      return `number:${String(id)}`;
    default:
      return EJSON.stringify(id, { relaxed: false });
  }
}

/** Whether a string `_id` can stand for itself without being read as an ObjectId, a prefix or Extended JSON. */
function isUntypedString(id: string): boolean {
  return !OBJECT_ID_FORM.test(id) && !id.startsWith('{') && !TYPE_PREFIXES.some((p) => id.startsWith(p));
}

function bsonTypeOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const bsontype = (value as { _bsontype?: unknown })._bsontype;
  return typeof bsontype === 'string' ? bsontype : undefined;
}

function isUuid(value: unknown): value is { toHexString(includeDashes: boolean): string } {
  const binary = value as { sub_type?: unknown; toHexString?: unknown };
  return binary.sub_type === 4 && typeof binary.toHexString === 'function';
}

/** The first versions' form, which gave `1` and `'1'`, or an ObjectId and its hex string, the same key. */
function legacyKeyOfId(id: unknown): string {
  if (typeof id === 'string') return id;
  if (typeof id === 'number' || typeof id === 'bigint' || typeof id === 'boolean') return String(id);
  if (id instanceof Date) return id.toISOString();
  const { toHexString } = id as { toHexString?: unknown };
  if (typeof toHexString === 'function') return String(toHexString.call(id));
  return EJSON.stringify(id, { relaxed: false });
}
