import { Timestamp } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/index.js';
import { newSagaDocument } from '../../../src/engine/new-saga.js';
import { isSagaId, sagaIdFor } from '../../../src/model/saga-id.js';
import type { TriggerEvent } from '../../../src/engine/trigger-event.js';

const ok = () => Promise.resolve({});
const now = new Date('2030-01-01T00:00:00Z');

const orders = defineSaga({
  name: 'orders',
  version: 3,
  timeout: '10m',
  trigger: { collection: 'orders' },
  input: z.object({ _id: z.string(), total: z.number().positive(), customer: z.string().trim() }),
  steps: [
    { name: 'charge', run: ok },
    { name: 'ship', run: ok },
  ],
});

function event(document: Record<string, unknown>, fields: Partial<TriggerEvent> = {}): TriggerEvent {
  return {
    document,
    documentKey: { _id: document._id },
    ns: { db: 'shop', coll: 'orders' },
    operationType: 'insert',
    ...fields,
  };
}

describe('newSagaDocument', () => {
  it('builds a running saga with the parsed input, every step pending, and the deadline from the saga timeout', async () => {
    const clusterTime = new Timestamp({ t: 1_900_000_000, i: 3 });
    const doc = await newSagaDocument(
      orders,
      event({ _id: 'o-1', total: 12.5, customer: '  ada ', extra: 'dropped' }, { clusterTime }),
      now,
    );
    expect(isSagaId(doc._id)).toBe(true);
    expect(doc).toEqual({
      _id: doc._id,
      saga: 'orders',
      version: 3,
      key: 'o-1',
      status: 'running',
      stepIndex: 0,
      generation: 0,
      steps: [
        { name: 'charge', status: 'pending', attempts: 0 },
        { name: 'ship', status: 'pending', attempts: 0 },
      ],
      // What the schema returns (trimmed, unknown keys stripped), not the raw document.
      input: { _id: 'o-1', total: 12.5, customer: 'ada' },
      trigger: {
        ns: { db: 'shop', coll: 'orders' },
        documentKey: { _id: 'o-1' },
        operationType: 'insert',
        clusterTime,
      },
      deadline: new Date(now.getTime() + 10 * 60_000),
      revision: 0,
      createdAt: now,
      updatedAt: now,
      history: [{ at: now, type: 'saga-started' }],
    });
  });

  it('leaves clusterTime out when the event has none (a backfill scan)', async () => {
    const doc = await newSagaDocument(
      orders,
      event({ _id: 'o-2', total: 1, customer: 'b' }, { operationType: 'backfill' }),
      now,
    );
    expect(doc.trigger).toEqual({
      ns: { db: 'shop', coll: 'orders' },
      documentKey: { _id: 'o-2' },
      operationType: 'backfill',
    });
    expect(doc.trigger).toBeDefined();
    expect('clusterTime' in doc.trigger!).toBe(false);
  });

  it('derives the id from (saga, key): a replay, later or as an update, gets the same one, another key another', async () => {
    const input = { _id: 'o-3', total: 1, customer: 'c' };
    const first = await newSagaDocument(orders, event(input), now);
    const replay = await newSagaDocument(
      orders,
      event({ ...input, total: 2 }, { operationType: 'update' }),
      new Date(now.getTime() + 60_000),
    );
    const other = await newSagaDocument(orders, event({ ...input, _id: 'o-4' }), now);
    expect(first._id).toBe(sagaIdFor('orders', 'o-3'));
    expect(replay._id).toBe(first._id);
    expect(other._id).not.toBe(first._id);
    // A rejected document's saga is keyed (and so identified) by its documentKey.
    const rejected = await newSagaDocument(orders, event({ _id: 'o-3', total: -1 }), now);
    expect(rejected._id).toBe(first._id);
  });

  it('rejects invalid input: status rejected, the raw document kept, every issue with its path', async () => {
    const raw = { _id: 'o-4', total: -1 };
    const doc = await newSagaDocument(orders, event(raw), now);
    expect(doc).toMatchObject({
      key: 'o-4',
      status: 'rejected',
      input: null,
      rawInput: raw,
      reason: 'invalid-input',
      endedAt: now,
      error: { code: 'INPUT_VALIDATION_FAILED', name: 'ValidationError' },
      steps: [
        { name: 'charge', status: 'pending', attempts: 0 },
        { name: 'ship', status: 'pending', attempts: 0 },
      ],
    });
    expect(doc.validationIssues?.map((issue) => issue.path)).toEqual(['total', 'customer']);
    expect(doc.error?.message).toMatch(/^input rejected: total: .+; customer: .+/);
    expect(doc.history).toEqual([{ at: now, type: 'saga-rejected', message: doc.error?.message }]);
  });

  it('a key function that throws gives a rejected saga keyed by the document key, never a shared key', async () => {
    const keyed = defineSaga({
      name: 'keyed',
      trigger: {
        collection: 'orders',
        key: (document) => {
          if (typeof document.ref !== 'string') throw new Error('ref is missing');
          return document.ref;
        },
      },
      input: z.object({}),
      steps: [{ name: 'only', run: ok }],
    });
    const first = await newSagaDocument(keyed, event({ _id: 'o-5' }), now);
    const second = await newSagaDocument(keyed, event({ _id: 'o-6' }), now);
    expect(first).toMatchObject({
      status: 'rejected',
      key: 'invalid-key:{"_id":"o-5"}',
      validationIssues: [{ path: '(key)', message: 'ref is missing' }],
      reason: 'invalid-input',
    });
    expect(second.key).toBe('invalid-key:{"_id":"o-6"}');
    // Canonical Extended JSON keeps types apart: the number 6 is not the string "6".
    const numeric = await newSagaDocument(keyed, event({ _id: 6 }), now);
    const text = await newSagaDocument(keyed, event({ _id: '6' }), now);
    expect(numeric.key).toBe('invalid-key:{"_id":{"$numberInt":"6"}}');
    expect(text.key).toBe('invalid-key:{"_id":"6"}');
    expect(await newSagaDocument(keyed, event({ _id: 'o-7', ref: 'R-7' }), now)).toMatchObject({
      status: 'running',
      key: 'R-7',
    });
  });

  it('caps the stored error message at 4096 characters and the history message at 1000', async () => {
    const wide = defineSaga({
      name: 'wide',
      trigger: { collection: 'orders' },
      input: z.object(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`field${i}`, z.string()]))),
      steps: [{ name: 'only', run: ok }],
    });
    const doc = await newSagaDocument(wide, event({ _id: 'o-8' }), now);
    expect(doc.validationIssues).toHaveLength(200);
    expect(doc.error!.message).toHaveLength(4096);
    expect(doc.history[0]!.message).toHaveLength(1000);
  });
});
