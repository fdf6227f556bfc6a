import { Binary, Decimal128, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import { checkedTriggerKey } from '../../../src/definition/trigger.js';
import { defaultTriggerKey, legacyTriggerKey } from '../../../src/definition/trigger-key.js';
import { findFilterProblems } from '../../../src/definition/trigger-filter.js';
import { ValidationError } from '../../../src/errors/validation-error.js';

describe('findFilterProblems', () => {
  it('accepts ordinary queries', () => {
    expect(
      findFilterProblems({
        status: 'paid',
        total: { $gte: 100, $lt: 1000 },
        'customer.tier': { $in: ['gold', 'silver'] },
        address: { country: 'NL' },
        tags: { $elemMatch: { $eq: 'urgent' } },
        items: { $elemMatch: { sku: 'A', qty: { $gt: 1 } } },
        note: { $not: { $regex: 'test' } },
        createdAt: new Date(0),
        name: /^a/,
        $or: [{ channel: 'web' }, { channel: { $exists: false } }],
        $comment: 'paid orders',
      }),
    ).toEqual([]);
  });

  it('reports every bad key with its path', () => {
    expect(
      findFilterProblems({
        $expr: { $gt: ['$a', 1] },
        $foo: 1,
        'a..b': 1,
        '': 1,
        'x.$y': 1,
        total: { $gte: 1, other: 2 },
        status: { $in: 'paid' },
        price: { $near: [0, 0] },
        $and: [],
        $or: [{ ok: { $bogus: 1 } }, 'text'],
        items: { $elemMatch: { qty: { $nope: 1 } } },
      }),
    ).toEqual([
      'filter.$expr: $expr is not supported in a trigger filter (its field references ($field) would not be rewritten to fullDocument.*)',
      'filter.$foo: $foo is not a top-level query operator; use a field name, or $and / $or / $nor, with field operators like $eq or $in inside a field',
      'filter.a..b: "a..b" is not a valid field path (no empty segments, no segment starting with $)',
      'filter.: a field name cannot be empty',
      'filter.x.$y: "x.$y" is not a valid field path (no empty segments, no segment starting with $)',
      'filter.total mixes operators ($gte) with field names; use one or the other',
      'filter.status.$in must be an array',
      'filter.price.$near: $near is not supported in a trigger filter (geospatial queries need an index and are not allowed in a change stream $match)',
      'filter.$and must be a non-empty array of query objects',
      'filter.$or[0].ok.$bogus: $bogus is not a known query operator',
      "filter.$or[1] must be a MongoDB query object like { status: 'paid' }, got a string",
      'filter.items.$elemMatch.qty.$nope: $nope is not a known query operator',
    ]);
  });

  it('refuses non-objects', () => {
    expect(findFilterProblems(null)).toEqual([
      "filter must be a MongoDB query object like { status: 'paid' }, got null",
    ]);
    expect(findFilterProblems(new Map())[0]).toMatch(/got a Map$/);
  });
});

describe('trigger keys', () => {
  it('derives the default key from _id', () => {
    const objectId = new ObjectId('65a1b2c3d4e5f60718293a4b');
    expect(defaultTriggerKey({ _id: objectId })).toBe('65a1b2c3d4e5f60718293a4b');
    expect(defaultTriggerKey({ _id: 'order-1' })).toBe('order-1');
    expect(defaultTriggerKey({ _id: 42 })).toBe('number:42');
    expect(defaultTriggerKey({ _id: Long.fromString('9007199254740993') })).toBe('number:9007199254740993');
    expect(defaultTriggerKey({ _id: new Date(0) })).toBe('date:1970-01-01T00:00:00.000Z');
    expect(defaultTriggerKey({ _id: false })).toBe('bool:false');
    const uuid = new UUID('0e5f3c4a-1b2c-4d3e-8f9a-0b1c2d3e4f50');
    expect(defaultTriggerKey({ _id: uuid })).toBe('uuid:0e5f3c4a-1b2c-4d3e-8f9a-0b1c2d3e4f50');
    expect(defaultTriggerKey({ _id: { shop: 1, order: 2 } })).toBe(
      '{"shop":{"$numberInt":"1"},"order":{"$numberInt":"2"}}',
    );
    // Strings that could be read as another form are marked as strings.
    expect(defaultTriggerKey({ _id: '65a1b2c3d4e5f60718293a4b' })).toBe('string:65a1b2c3d4e5f60718293a4b');
    expect(defaultTriggerKey({ _id: 'number:1' })).toBe('string:number:1');
    expect(defaultTriggerKey({ _id: '{"a":1}' })).toBe('string:{"a":1}');
    expect(defaultTriggerKey({ _id: '1' })).toBe('1');
  });

  it('gives every distinct _id its own key, and equal numbers of any type the same one', () => {
    const objectId = new ObjectId('65a1b2c3d4e5f60718293a4b');
    const uuid = new UUID('0e5f3c4a-1b2c-4d3e-8f9a-0b1c2d3e4f50');
    const distinct: unknown[] = [
      1,
      '1',
      1.5,
      '1.5',
      -1,
      'number:1',
      'string:1',
      objectId,
      objectId.toHexString(),
      `string:${objectId.toHexString()}`,
      new Date(0),
      new Date(0).toISOString(),
      'date:1970-01-01T00:00:00.000Z',
      true,
      'true',
      'bool:true',
      uuid,
      uuid.toHexString(true),
      `uuid:${uuid.toHexString(true)}`,
      Decimal128.fromString('1'),
      Decimal128.fromString('0.1'),
      0.1,
      { a: 1 },
      { a: '1' },
      '{"a":{"$numberInt":"1"}}',
      new Binary(Buffer.from('ab')),
      Long.fromString('9007199254740993'),
      9007199254740992,
      new Timestamp({ t: 1, i: 2 }),
      new MinKey(),
      new MaxKey(),
      '',
    ];
    const keys = distinct.map((_id) => defaultTriggerKey({ _id }));
    expect(new Set(keys).size).toBe(distinct.length);
    // MongoDB treats these as one _id value, so they may not coexist in a collection: one key.
    expect(defaultTriggerKey({ _id: Long.fromNumber(7) })).toBe(defaultTriggerKey({ _id: 7 }));
    expect(defaultTriggerKey({ _id: new Int32(7) })).toBe(defaultTriggerKey({ _id: 7 }));
    expect(defaultTriggerKey({ _id: -0 })).toBe(defaultTriggerKey({ _id: 0 }));
  });

  it("knows the first versions' key where it differs, and only there", () => {
    const objectId = new ObjectId('65a1b2c3d4e5f60718293a4b');
    expect(legacyTriggerKey({ _id: objectId })).toBeUndefined();
    expect(legacyTriggerKey({ _id: 'order-1' })).toBeUndefined();
    expect(legacyTriggerKey({ _id: { shop: 1 } })).toBeUndefined();
    expect(legacyTriggerKey({ _id: 42 })).toBe('42');
    expect(legacyTriggerKey({ _id: new Date(0) })).toBe('1970-01-01T00:00:00.000Z');
    expect(legacyTriggerKey({ _id: objectId.toHexString() })).toBe(objectId.toHexString());
    expect(legacyTriggerKey({ _id: new UUID('0e5f3c4a-1b2c-4d3e-8f9a-0b1c2d3e4f50') })).toBe(
      '0e5f3c4a-1b2c-4d3e-8f9a-0b1c2d3e4f50',
    );
  });

  it('refuses a document without _id', () => {
    expect(() => defaultTriggerKey({})).toThrow(ValidationError);
    expect(() => defaultTriggerKey({})).toThrow(/no _id/);
  });

  it('wraps key functions so they must return a non-empty string', () => {
    const key = checkedTriggerKey('orders', (document) => document.orderNumber as string);
    expect(key({ orderNumber: 'A-1' })).toBe('A-1');
    expect(() => key({ orderNumber: '' })).toThrow(/returned an empty string/);
    expect(() => key({})).toThrow(/saga "orders" returned a undefined/);
  });

  it('uses the key function of the definition', () => {
    const definition = defineSaga({
      name: 'orders',
      trigger: { collection: 'orders', key: (document) => `order-${String(document.number)}` },
      input: z.object({ number: z.number() }),
      steps: [{ name: 'a', run: async () => Promise.resolve() }],
    });
    expect(definition.trigger?.key({ _id: new ObjectId(), number: 7 })).toBe('order-7');
    const byId = defineSaga({
      name: 'orders',
      trigger: { collection: 'orders' },
      input: z.object({}),
      steps: [{ name: 'a', run: async () => Promise.resolve() }],
    });
    expect(byId.trigger?.key({ _id: 'x' })).toBe('x');
  });
});
