// The trigger part of a saga definition: which change events start a saga and how its key is derived.
import { EJSON } from 'bson';
import { z } from 'zod';
import { ValidationError } from '../errors/validation-error.js';

export type TriggerOperation = 'insert' | 'update' | 'replace';

/** A document from the trigger collection, before the saga's input schema has checked it. */
export type TriggerDocument = { readonly [field: string]: unknown };

export type TriggerKeyFunction = (document: TriggerDocument) => string;

// Same rule as MONGODB_DB in src/config: what MongoDB accepts as a database name on every platform.
const DATABASE_NAME_SHAPE = /^[^/\\. "$*<>:|?]{1,63}$/;

export const triggerSchema = z.strictObject({
  collection: z
    .string({ error: 'collection must be a string naming the collection to watch' })
    .min(1, { error: 'collection cannot be empty' })
    .max(200, { error: 'collection name is too long (200 characters at most)' })
    .refine((name) => !name.includes('$') && !name.includes('\0'), {
      error: 'collection name cannot contain "$" or a NUL character',
    })
    .refine((name) => !name.startsWith('system.'), { error: 'system.* collections cannot be watched' }),
  database: z
    .string({ error: 'database must be a string' })
    .regex(DATABASE_NAME_SHAPE, {
      error: 'database must be 1-63 characters, none of / \\ . " $ * < > : | ? or spaces',
    })
    .optional(),
  on: z
    .array(z.enum(['insert', 'update', 'replace'], { error: "on lists 'insert', 'update' or 'replace'" }))
    .min(1, { error: "on needs at least one of 'insert', 'update', 'replace'" })
    .default(['insert'])
    .transform((operations) => [...new Set(operations)]),
  // Checked by findFilterProblems, which can report every bad key at once.
  filter: z.unknown().optional(),
  key: z
    .custom<TriggerKeyFunction>((value) => typeof value === 'function', {
      error: 'key must be a function (document) => string',
    })
    .optional(),
});

export interface TriggerSpec {
  /** The collection whose changes start sagas. */
  readonly collection: string;
  /** Defaults to the configured database (MONGODB_DB). */
  readonly database?: string;
  /** Which change events start a saga; default `['insert']`. */
  readonly on?: readonly TriggerOperation[];
  /** A MongoDB query on the document, evaluated by the server inside the change stream; default `{}`. */
  readonly filter?: Readonly<Record<string, unknown>>;
  /** The saga's unique key for a document (one saga per key); default the document's `_id`. */
  readonly key?: TriggerKeyFunction;
}

export interface ResolvedTrigger {
  readonly collection: string;
  /** `undefined` means the configured database. */
  readonly database: string | undefined;
  readonly on: readonly TriggerOperation[];
  readonly filter: Readonly<Record<string, unknown>>;
  /** Returns a non-empty key or throws a ValidationError (INPUT_VALIDATION_FAILED). */
  readonly key: TriggerKeyFunction;
}

/**
 * The default trigger key: the document's `_id` as text. ObjectIds and UUIDs give their hex form, dates their
 * ISO form, other values their canonical Extended JSON, so two different ids never share a key.
 */
export function defaultTriggerKey(document: TriggerDocument): string {
  const id = document._id;
  if (id === undefined || id === null) {
    throw new ValidationError(
      'INPUT_VALIDATION_FAILED',
      'The trigger document has no _id, so no saga key can be derived; give the trigger a key function.',
      [{ path: '_id', message: 'required' }],
    );
  }
  if (typeof id === 'string') return id;
  if (typeof id === 'number' || typeof id === 'bigint' || typeof id === 'boolean') return String(id);
  if (id instanceof Date) return id.toISOString();
  const { toHexString } = id as { toHexString?: unknown };
  if (typeof toHexString === 'function') return String(toHexString.call(id));
  return EJSON.stringify(id, { relaxed: false });
}

/** Wraps a key function so the engine always gets a non-empty string or a clear ValidationError. */
export function checkedTriggerKey(sagaName: string, key: TriggerKeyFunction | undefined): TriggerKeyFunction {
  const derive = key ?? defaultTriggerKey;
  return (document) => {
    const value: unknown = derive(document);
    if (typeof value !== 'string' || value === '') {
      throw new ValidationError(
        'INPUT_VALIDATION_FAILED',
        `The trigger key function of saga "${sagaName}" returned ${typeof value === 'string' ? 'an empty string' : `a ${typeof value}`}; ` +
          'it must return a non-empty string that identifies the document.',
        [{ path: '', message: 'trigger key must be a non-empty string' }],
      );
    }
    return value;
  };
}
