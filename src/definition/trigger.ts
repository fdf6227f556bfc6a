// The trigger part of a saga definition: which change events start a saga and how its key is derived.
import { z } from 'zod';
import { MONGODB_DB_SHAPE } from '../config/connection-options.js';
import { ValidationError } from '../errors/validation-error.js';
import { defaultTriggerKey, legacyTriggerKey, type TriggerDocument } from './trigger-key.js';

export type TriggerOperation = 'insert' | 'update' | 'replace';

export type TriggerKeyFunction = (document: TriggerDocument) => string;

/** Each partition's change stream reads (and drops most of) every event of the collection: more costs the server. */
export const MAX_TRIGGER_PARTITIONS = 64;

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
    .regex(MONGODB_DB_SHAPE, {
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
  partitions: z
    .number({ error: 'partitions must be a whole number from 1 to 64 (watchers sharing this trigger)' })
    .int({ error: 'partitions must be a whole number from 1 to 64 (watchers sharing this trigger)' })
    .min(1, { error: 'partitions must be at least 1' })
    .max(MAX_TRIGGER_PARTITIONS, {
      error: `partitions can be at most ${MAX_TRIGGER_PARTITIONS}; one change stream per partition reads every event of the collection`,
    })
    .default(1),
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
  /**
   * How many watchers share this trigger (1-64, default 1): each leads one partition of the documents, split by
   * the hash of `_id`, with its own lease and checkpoint. For a trigger one watcher cannot keep up with.
   */
  readonly partitions?: number;
}

export interface ResolvedTrigger {
  readonly collection: string;
  /** `undefined` means the configured database. */
  readonly database: string | undefined;
  readonly on: readonly TriggerOperation[];
  readonly filter: Readonly<Record<string, unknown>>;
  /** Returns a non-empty key or throws a ValidationError (INPUT_VALIDATION_FAILED). */
  readonly key: TriggerKeyFunction;
  /**
   * With the default key only: the key an earlier version gave the document, when it differs from `key`'s;
   * a saga stored under it for the same `_id` is this document's saga.
   */
  readonly legacyKey: ((document: TriggerDocument) => string | undefined) | undefined;
  /** Watchers sharing the trigger, each on its share of the documents' `_id` hashes; 1 = one watcher. */
  readonly partitions: number;
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

/** The legacy-key lookup for a trigger: only the default key ever had another form. */
export function legacyKeyFor(
  key: TriggerKeyFunction | undefined,
): ((document: TriggerDocument) => string | undefined) | undefined {
  if (key !== undefined) return undefined;
  return (document) => {
    try {
      return legacyTriggerKey(document);
    } catch {
      return undefined; // no _id, or one the first versions could not turn into a key either
    }
  };
}
