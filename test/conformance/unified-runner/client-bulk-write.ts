// The `clientBulkWrite` entity operation (crud/client-bulkWrite-*.json): the test format's models become the Node
// driver's `MongoClient.bulkWrite` models, and its result (Maps keyed by operation index) becomes the plain
// document the test format matches, with indexes as string keys.
import type { AnyClientBulkWriteModel, ClientBulkWriteResult, Document, MongoClient } from 'mongodb';
import type { EntityMap } from './entity-map.js';
import { driverOptions, requiredArgument } from './operation-arguments.js';

const MODEL_NAMES = ['insertOne', 'updateOne', 'updateMany', 'replaceOne', 'deleteOne', 'deleteMany'];

function clientBulkWriteModels(models: Document[]): AnyClientBulkWriteModel<Document>[] {
  return models.map((model) => {
    const [name, fields] = Object.entries(model)[0] ?? [];
    if (!name || !MODEL_NAMES.includes(name)) throw new Error(`unsupported clientBulkWrite model ${name}`);
    return { name, ...(fields as Document) } as AnyClientBulkWriteModel<Document>;
  });
}

/**
 * A verbose result map as a document. The driver adds `didUpsert` to each update result, a field the CRUD spec's
 * UpdateResult does not have (and nested documents must match exactly), so it is left out.
 */
function mapDocument(map: ReadonlyMap<number, unknown> | undefined): Document | undefined {
  if (map === undefined) return undefined;
  const document: Document = {};
  for (const [index, value] of map) {
    const entry: Document = { ...(value as Document) };
    delete entry.didUpsert;
    document[String(index)] = entry;
  }
  return document;
}

/** A ClientBulkWriteResult (or a partial one) as the test format's document; verbose maps only when present. */
export function clientBulkWriteResultDocument(
  result: ClientBulkWriteResult | undefined,
): Document | undefined {
  if (result === undefined) return undefined;
  const document: Document = {
    acknowledged: result.acknowledged,
    insertedCount: result.insertedCount,
    upsertedCount: result.upsertedCount,
    matchedCount: result.matchedCount,
    modifiedCount: result.modifiedCount,
    deletedCount: result.deletedCount,
  };
  const inserts = mapDocument(result.insertResults);
  const updates = mapDocument(result.updateResults);
  const deletes = mapDocument(result.deleteResults);
  if (inserts) document.insertResults = inserts;
  if (updates) document.updateResults = updates;
  if (deletes) document.deleteResults = deletes;
  return document;
}

export async function clientBulkWrite(
  client: MongoClient,
  args: Document,
  entities: EntityMap,
): Promise<{ result?: unknown }> {
  const models = clientBulkWriteModels(requiredArgument(args, 'models'));
  const result = await client.bulkWrite(models, driverOptions(entities, args, ['models']));
  return { result: clientBulkWriteResultDocument(result) };
}
