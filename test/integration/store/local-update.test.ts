// applyLocally against the server: each case is applied by MongoDB (updateOne, then findOne) and locally to a copy
// of the stored document; the worker's read-free claim relies on the two holding the same values of the same BSON
// types, in the same key order (MongoDB adds the new fields of one update in the order of their names).
import { EJSON } from 'bson';
import { Decimal128, Long, ObjectId, type Collection, type Document, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLocally, copyOfStored, roundTrip } from '../../../src/store/local-update.js';
import { connectMongo, uniqueName } from '../helpers.js';

interface UpdateCase {
  name: string;
  doc: Document;
  set: Record<string, unknown>;
  unset?: string[];
}

const at = new Date(1_700_000_000_000);
const later = new Date(1_700_000_060_000);

function saga(): Document {
  return {
    status: 'running',
    stepIndex: 1,
    steps: [
      { name: 'reserve', status: 'completed', attempts: 1, output: { id: 'r-1' }, endedAt: at },
      {
        name: 'charge',
        status: 'retrying',
        attempts: 1,
        error: { message: 'declined', code: 'E1' },
        nextAttemptAt: later,
      },
      { name: 'ship', status: 'pending', attempts: 0 },
    ],
    revision: 4,
    updatedAt: at,
  };
}

const cases: UpdateCase[] = [
  {
    name: 'a claim: fields of one array element, one of them new',
    doc: saga(),
    set: {
      'steps.1.status': 'running',
      'steps.1.attempts': 2,
      'steps.1.attemptStartedAt': later,
      updatedAt: later,
    },
  },
  {
    name: 'a completion: an output of every BSON kind, unset of a present and of an absent field',
    doc: saga(),
    set: {
      'steps.1.status': 'completed',
      'steps.1.output': roundTrip({
        at,
        id: new ObjectId('64b7f0a2c3d4e5f601234567'),
        amount: Decimal128.fromString('10.25'),
        big: Long.fromString('9007199254740993'),
        nothing: undefined,
        list: [1, 'two', { three: 3 }, undefined],
        nested: { deeper: { deepest: true } },
      }),
      'steps.1.endedAt': later,
      stepIndex: 2,
      updatedAt: later,
    },
    unset: ['steps.1.error', 'steps.1.nextAttemptAt', 'steps.1.compensation'],
  },
  {
    name: 'the last completion: new top-level fields',
    doc: saga(),
    set: { 'steps.2.status': 'completed', status: 'completed', endedAt: later },
  },
  {
    name: 'new fields of one update, given out of alphabetical order',
    doc: { m: 1 },
    set: { zeta: 1, alpha: 2, 'm2.b': 3, 'm2.a': 4 },
  },
  {
    name: 'a dotted path through objects that do not exist yet',
    doc: { a: { keep: true } },
    set: { 'a.b.c': 1, 'x.y': 'new' },
  },
  {
    name: 'a whole array element and a whole subdocument replaced',
    doc: saga(),
    set: {
      'steps.0': { name: 'reserve', status: 'compensated', attempts: 1 },
      'steps.1.error': { code: 'E2' },
    },
  },
  {
    name: 'null and an empty object as values',
    doc: { a: { b: 1 }, c: 2 },
    set: { a: {}, c: null },
  },
  {
    name: 'unset of a top-level field and of a nested one',
    doc: { a: { b: 1, c: 2 }, d: 3 },
    set: {},
    unset: ['a.b', 'd'],
  },
];

let client: MongoClient;
let collection: Collection<Document>;

beforeAll(async () => {
  client = await connectMongo();
  collection = client.db(uniqueName('local-update')).collection('docs');
});

afterAll(async () => {
  await client?.close();
});

/** Canonical Extended JSON, keys in their order: equal values of equal BSON types, fields in the same order. */
function canonical(value: unknown): string {
  return EJSON.stringify(value, { relaxed: false }, 2);
}

describe('applyLocally', () => {
  it.each(cases)('gives what MongoDB stores: $name', async ({ doc, set, unset = [] }) => {
    // _id first, as MongoDB puts it.
    const original = copyOfStored({ _id: new ObjectId(), ...doc });
    const { insertedId } = await collection.insertOne(copyOfStored(original));
    const update: Document = {};
    if (Object.keys(set).length > 0) update.$set = set;
    if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((path) => [path, '']));
    await collection.updateOne({ _id: insertedId }, update);
    const stored = await collection.findOne({ _id: insertedId });

    const local = copyOfStored(original);
    applyLocally(local, set, unset);
    expect(canonical(local)).toBe(canonical(stored));
  });
});
