import { ObjectId, UUID } from 'bson';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import { checkedTriggerKey, defaultTriggerKey } from '../../../src/definition/trigger.js';
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
    expect(defaultTriggerKey({ _id: 42 })).toBe('42');
    expect(defaultTriggerKey({ _id: new Date(0) })).toBe('1970-01-01T00:00:00.000Z');
    const uuid = new UUID('0e5f3c4a-1b2c-4d3e-8f9a-0b1c2d3e4f50');
    expect(defaultTriggerKey({ _id: uuid })).toBe('0e5f3c4a-1b2c-4d3e-8f9a-0b1c2d3e4f50');
    expect(defaultTriggerKey({ _id: { shop: 1, order: 2 } })).toBe(
      '{"shop":{"$numberInt":"1"},"order":{"$numberInt":"2"}}',
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
    expect(definition.trigger.key({ _id: new ObjectId(), number: 7 })).toBe('order-7');
    const byId = defineSaga({
      name: 'orders',
      trigger: { collection: 'orders' },
      input: z.object({}),
      steps: [{ name: 'a', run: async () => Promise.resolve() }],
    });
    expect(byId.trigger.key({ _id: 'x' })).toBe('x');
  });
});
