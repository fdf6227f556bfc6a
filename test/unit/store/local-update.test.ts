// What MongoDB does with the same $set/$unset, written out by hand (test/integration/store/local-update.test.ts
// checks the same against the server).
import { Decimal128, Long, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { applyLocally, copyOfStored, roundTrip } from '../../../src/store/local-update.js';

describe('applyLocally', () => {
  it('sets fields of one array element in place, keeping the others and the array itself', () => {
    const doc = {
      steps: [
        { name: 'a', status: 'completed' },
        { name: 'b', status: 'pending', attempts: 0 },
      ],
      revision: 1,
    };
    const steps = doc.steps;
    const first = doc.steps[0];
    applyLocally(doc, { 'steps.1.status': 'running', 'steps.1.attempts': 1, revision: 2 });
    expect(doc).toEqual({
      steps: [
        { name: 'a', status: 'completed' },
        { name: 'b', status: 'running', attempts: 1 },
      ],
      revision: 2,
    });
    expect(doc.steps).toBe(steps);
    expect(doc.steps[0]).toBe(first);
  });

  it('adds a field that is missing, creating the objects on its path', () => {
    const doc: Record<string, unknown> = { a: { keep: 1 } };
    applyLocally(doc, { 'a.b.c': 1, top: 'new' });
    expect(doc).toEqual({ a: { keep: 1, b: { c: 1 } }, top: 'new' });
  });

  it('replaces a whole subdocument with the value given, not a merge', () => {
    const doc = { steps: [{ name: 'a', status: 'failed', error: { message: 'x' } }] };
    applyLocally(doc, { 'steps.0': { name: 'a', status: 'pending' } });
    expect(doc).toEqual({ steps: [{ name: 'a', status: 'pending' }] });
  });

  it('unsets present fields and ignores absent ones under an existing parent', () => {
    const doc = {
      steps: [{ status: 'retrying', error: { message: 'x' }, nextAttemptAt: new Date(0) }],
      d: 1,
    };
    applyLocally(doc, { 'steps.0.status': 'completed' }, [
      'steps.0.error',
      'steps.0.nextAttemptAt',
      'steps.0.compensation',
      'd',
    ]);
    expect(doc).toEqual({ steps: [{ status: 'completed' }] });
    expect('error' in doc.steps[0]!).toBe(false);
  });

  it('applies $set and $unset of disjoint paths together (MongoDB refuses overlapping ones)', () => {
    const doc = { a: { b: 1 }, c: 1 };
    applyLocally(doc, { 'a.x': 2 }, ['a.b', 'c']);
    expect(doc).toEqual({ a: { x: 2 } });
  });

  it('keeps the value set as given: the caller passes stored forms (roundTrip) for user data', () => {
    const output = { n: 1 };
    const doc: Record<string, unknown> = {};
    applyLocally(doc, { output, at: new Date(5) });
    expect(doc.output).toBe(output);
    expect(doc.at).toEqual(new Date(5));
  });
});

describe('copyOfStored and roundTrip', () => {
  it('turn undefined into null, as the driver stores it, in objects and arrays', () => {
    expect(copyOfStored({ a: undefined, list: [1, undefined] })).toEqual({ a: null, list: [1, null] });
    expect(roundTrip(undefined)).toBeNull();
  });

  it('give the types a driver read returns: Long as a number, Decimal128 and ObjectId kept, Date kept', () => {
    const id = new ObjectId('64b7f0a2c3d4e5f601234567');
    const copy = roundTrip({
      big: Long.fromNumber(42),
      amount: Decimal128.fromString('10.25'),
      id,
      at: new Date(7),
    }) as Record<string, unknown>;
    expect(copy.big).toBe(42);
    expect(copy.amount).toBeInstanceOf(Decimal128);
    expect(String(copy.amount)).toBe('10.25');
    expect(copy.id).toBeInstanceOf(ObjectId);
    expect((copy.id as ObjectId).equals(id)).toBe(true);
    expect(copy.at).toEqual(new Date(7));
  });

  it('turn class instances and Maps into plain documents and drop functions', () => {
    class Receipt {
      constructor(readonly total: number) {}
      describe(): string {
        return `total ${this.total}`;
      }
    }
    const copy = roundTrip({
      receipt: new Receipt(3),
      byKey: new Map([['k', 1]]),
      callback: () => 1,
    }) as Record<string, unknown>;
    expect(copy).toEqual({ receipt: { total: 3 }, byKey: { k: 1 } });
    expect(Object.getPrototypeOf(copy.receipt)).toBe(Object.prototype);
  });

  it('copy deeply: changing the copy leaves the original alone', () => {
    const original = { steps: [{ output: { n: 1 } }] };
    const copy = copyOfStored(original);
    copy.steps[0]!.output.n = 2;
    expect(original.steps[0]!.output.n).toBe(1);
  });

  it('keep a number a number and a string a string, at the top level of roundTrip', () => {
    expect(roundTrip(3)).toBe(3);
    expect(roundTrip('x')).toBe('x');
    expect(roundTrip(null)).toBeNull();
    expect(roundTrip([1, { a: 2 }])).toEqual([1, { a: 2 }]);
  });
});
