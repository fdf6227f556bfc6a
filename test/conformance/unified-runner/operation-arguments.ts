// Turns an operation's `arguments` into driver options: sessions resolved to entities, read/write options
// converted, and the driver's result model objects turned back into plain documents for matching.
import type { BulkWriteResult, Document } from 'mongodb';
import { commonOptions, type EntityMap } from './entity-map.js';

/** Every argument except `exclude`, as a driver options object. */
export function driverOptions(entities: EntityMap, args: Document, exclude: string[] = []): Document {
  const out: Document = {};
  for (const [key, value] of Object.entries(args) as Array<[string, unknown]>) {
    if (exclude.includes(key)) continue;
    if (key === 'session') out.session = entities.getAs(value as string, 'session');
    else out[key] = value;
  }
  return commonOptions(out);
}

export function requiredArgument<T = unknown>(args: Document, name: string): T {
  if (!(name in args)) throw new Error(`missing required argument '${name}'`);
  return args[name] as T;
}

/** `returnDocument` is 'Before' | 'After' in test files (case-insensitive); the driver wants lowercase. */
export function returnDocumentOption(args: Document): Document {
  if (args.returnDocument === undefined) return {};
  const value = String(args.returnDocument).toLowerCase();
  if (value !== 'before' && value !== 'after')
    throw new Error(`invalid returnDocument ${String(args.returnDocument)}`);
  return { returnDocument: value };
}

/** BulkWriteResult (and anything else with a class) as the plain document the test format matches. */
export function resultDocument(result: unknown): unknown {
  // BulkWriteResult is exported as a type only, so recognise it by its accessor.
  if (isBulkWriteResult(result)) {
    return {
      insertedCount: result.insertedCount,
      matchedCount: result.matchedCount,
      modifiedCount: result.modifiedCount,
      deletedCount: result.deletedCount,
      upsertedCount: result.upsertedCount,
      upsertedIds: { ...result.upsertedIds },
      insertedIds: { ...result.insertedIds },
    };
  }
  return result;
}

function isBulkWriteResult(value: unknown): value is BulkWriteResult {
  return typeof (value as { getWriteConcernError?: unknown } | null)?.getWriteConcernError === 'function';
}

/** A `bulkWrite` request list from the test format: same nesting as the Node driver's AnyBulkWriteOperation. */
export function bulkWriteModels(requests: Document[]): Document[] {
  return requests.map((request) => {
    const [type, model] = Object.entries(request)[0] ?? [];
    const known = ['insertOne', 'updateOne', 'updateMany', 'replaceOne', 'deleteOne', 'deleteMany'];
    if (!type || !known.includes(type)) throw new Error(`unsupported bulkWrite request ${String(type)}`);
    return { [type]: model as Document };
  });
}
