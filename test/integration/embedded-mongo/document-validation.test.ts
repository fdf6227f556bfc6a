// Collection validators through the driver: $jsonSchema and query-operator validators enforced on insert, update,
// replace and findAndModify with validationLevel and validationAction, errInfo as mongod reports it,
// bypassDocumentValidation honoured, collMod changing them; $jsonSchema in queries.
import { MongoBulkWriteError, MongoServerError, type Db, type Document } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf, uniqueDbName, withServer, type ServerFixture } from './embedded-server-fixture.js';

let fixture: ServerFixture;
let db: Db;
let counter = 0;

const schema = {
  bsonType: 'object',
  required: ['name', 'qty'],
  properties: {
    name: { bsonType: 'string', minLength: 1 },
    qty: { bsonType: 'int', minimum: 0 },
    tags: { bsonType: 'array', items: { bsonType: 'string' } },
  },
};

async function validated(options: Document = {}): Promise<{ name: string }> {
  counter += 1;
  const name = `v${counter}`;
  await db.createCollection(name, { validator: { $jsonSchema: schema }, ...options });
  return { name };
}

/** The server's write error for a refused single write. */
async function refusal(promise: Promise<unknown>): Promise<Document> {
  const error = await rejectionOf(promise);
  const reply = error instanceof MongoBulkWriteError ? error.writeErrors : error;
  const first = (Array.isArray(reply) ? reply[0] : reply) as { code?: number; errInfo?: Document };
  expect(error).toBeInstanceOf(MongoServerError);
  expect(first.code).toBe(121);
  return first.errInfo!;
}

beforeAll(async () => {
  fixture = await withServer();
  db = fixture.client.db(uniqueDbName('validation'));
});

afterAll(async () => {
  await fixture?.stop();
});

describe('$jsonSchema validators', () => {
  it('refuse an invalid insert with errInfo listing the rules not satisfied', async () => {
    const { name } = await validated();
    const items = db.collection(name);
    await items.insertOne({ _id: 1 as never, name: 'ok', qty: 2, tags: ['a'] });
    const errInfo = await refusal(items.insertOne({ _id: 2 as never, name: 'x', qty: -1, tags: ['a', 3] }));
    expect(errInfo).toEqual({
      failingDocumentId: 2,
      details: {
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [
          {
            operatorName: 'properties',
            propertiesNotSatisfied: [
              {
                propertyName: 'qty',
                details: [
                  {
                    operatorName: 'minimum',
                    specifiedAs: { minimum: 0 },
                    reason: 'comparison failed',
                    consideredValue: -1,
                  },
                ],
              },
              {
                propertyName: 'tags',
                details: [expect.objectContaining({ operatorName: 'items', itemIndex: 1 }) as unknown],
              },
            ],
          },
        ],
      },
    });
    const missing = await refusal(items.insertOne({ _id: 3 as never, name: 'y' }));
    expect((missing.details as Document).schemaRulesNotSatisfied).toEqual([
      { operatorName: 'required', specifiedAs: { required: ['name', 'qty'] }, missingProperties: ['qty'] },
    ]);
    expect(await items.countDocuments()).toBe(1);
  });

  it('apply to updates, replacements and findAndModify; bypassDocumentValidation lets a write through', async () => {
    const { name } = await validated();
    const items = db.collection(name);
    await items.insertOne({ _id: 1 as never, name: 'a', qty: 1 });
    await refusal(items.updateOne({ _id: 1 as never }, { $set: { qty: 'many' } }));
    await refusal(items.replaceOne({ _id: 1 as never }, { name: 'a' }));
    await refusal(items.findOneAndUpdate({ _id: 1 as never }, { $unset: { name: '' } }));
    await refusal(items.updateOne({ _id: 2 as never }, { $set: { name: 'upserted' } }, { upsert: true }));
    expect(await items.findOne({ _id: 1 as never })).toEqual({ _id: 1, name: 'a', qty: 1 });
    await items.updateOne({ _id: 1 as never }, { $set: { qty: 'many' } }, { bypassDocumentValidation: true });
    expect(await items.findOne({ _id: 1 as never })).toEqual({ _id: 1, name: 'a', qty: 'many' });
  });

  it('validationLevel moderate lets an already invalid document stay invalid; off and warn let writes through', async () => {
    const { name } = await validated({ validationLevel: 'moderate' });
    const items = db.collection(name);
    await items.insertOne({ _id: 1 as never, name: 'a' }, { bypassDocumentValidation: true });
    await items.insertOne({ _id: 2 as never, name: 'b', qty: 1 });
    await items.updateOne({ _id: 1 as never }, { $set: { note: 'still invalid' } });
    await refusal(items.updateOne({ _id: 2 as never }, { $unset: { qty: '' } }));

    await db.command({ collMod: name, validationLevel: 'off' });
    await items.updateOne({ _id: 2 as never }, { $unset: { qty: '' } });
    await db.command({ collMod: name, validationLevel: 'strict', validationAction: 'warn' });
    await items.insertOne({ _id: 3 as never });
    await db.command({ collMod: name, validationAction: 'error', validator: { qty: { $gte: 0 } } });
    await refusal(items.insertOne({ _id: 4 as never, qty: -1 }));
    await items.insertOne({ _id: 5 as never, qty: 0 });
    expect((await items.find().toArray()).map((doc) => doc._id)).toEqual([1, 2, 3, 5]);
  });

  it('filter queries with $jsonSchema and refuse unknown keywords', async () => {
    const items = db.collection(`q${++counter}`);
    await items.insertMany([
      { _id: 1 as never, name: 'a', qty: 1 },
      { _id: 2 as never, name: 'b', qty: 2.5 },
      { _id: 3 as never, name: 'c' },
    ]);
    const found = await items.find({ $jsonSchema: schema }).toArray();
    expect(found.map((doc) => doc._id)).toEqual([1]);
    const error = await rejectionOf(
      items.find({ $jsonSchema: { bsonType: 'object', $ref: '#/x' } }).toArray(),
    );
    expect(error).toBeInstanceOf(MongoServerError);
  });
});

describe('validationAction warn', () => {
  it('lets the write through and logs a warning naming the namespace and the failing rule', async () => {
    const logged: Document[] = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => logged.push(JSON.parse(line) as Document) },
    );
    const server = await withServer({ logger });
    try {
      const warnDb = server.client.db(uniqueDbName('validation_warn'));
      await warnDb.createCollection('orders', {
        validator: { $jsonSchema: schema },
        validationAction: 'warn',
      });
      const orders = warnDb.collection('orders');
      await orders.insertOne({ _id: 1 as never, name: 'ok', qty: 1 });
      expect(logged).toEqual([]);

      await orders.insertOne({ _id: 2 as never, name: 'no quantity' });
      await orders.updateOne({ _id: 1 as never }, { $set: { qty: -5 } });
      expect(await orders.countDocuments({})).toBe(2);
      expect(await orders.findOne({ _id: 1 as never })).toEqual({ _id: 1, name: 'ok', qty: -5 });

      const warnings = logged.filter((entry) => entry.msg === 'Document would fail validation');
      expect(warnings).toHaveLength(2);
      for (const warning of warnings) {
        expect(warning.level).toBe(40);
        expect(warning.namespace).toBe(`${warnDb.databaseName}.orders`);
      }
      expect(warnings[0]?.errInfo).toMatchObject({
        failingDocumentId: 2,
        details: {
          operatorName: '$jsonSchema',
          schemaRulesNotSatisfied: [
            expect.objectContaining({ operatorName: 'required', missingProperties: ['qty'] }),
          ],
        },
      });
      expect(JSON.stringify(warnings[1]?.errInfo)).toContain('minimum');

      // bypassDocumentValidation skips the validator altogether: nothing to warn about.
      await orders.insertOne({ _id: 3 as never }, { bypassDocumentValidation: true });
      expect(logged.filter((entry) => entry.msg === 'Document would fail validation')).toHaveLength(2);
    } finally {
      await server.stop();
    }
  });
});
