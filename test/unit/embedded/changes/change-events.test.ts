import { Long, Timestamp, UUID } from 'bson';
import type { Document } from '../../../../src/embedded/query/index.js';
import { describe, expect, it } from 'vitest';
import { openChangeStream, type ChangeStreamScope } from '../../../../src/embedded/changes/index.js';
import { FakeSource, stable } from './fake-source.js';

const orders = { db: 'shop', coll: 'orders' };
const imaged = { db: 'shop', coll: 'imaged' };

async function eventsOf(
  source: FakeSource,
  act: () => void,
  stage: Document = {},
  scope: ChangeStreamScope = orders,
) {
  const cursor = openChangeStream(source, scope, stage, []);
  act();
  const batch = await cursor.nextBatch(undefined, 0);
  return batch.events;
}

describe('change events', () => {
  it('describes inserts, updates, replaces and deletes with MongoDB field shapes', async () => {
    const source = new FakeSource();
    const entries: { ts: Timestamp; wallTime: Date }[] = [];
    const events = await eventsOf(source, () => {
      entries.push(source.insert(orders, { _id: 1, status: 'new' }));
      entries.push(source.update(orders, 1, { status: 'paid' }));
      entries.push(source.replace(orders, { _id: 1, status: 'replaced' }));
      entries.push(source.delete(orders, 1));
    });
    expect(events.map(stable)).toEqual([
      {
        operationType: 'insert',
        fullDocument: { _id: 1, status: 'new' },
        ns: orders,
        documentKey: { _id: 1 },
      },
      {
        operationType: 'update',
        ns: orders,
        documentKey: { _id: 1 },
        updateDescription: { updatedFields: { status: 'paid' }, removedFields: [], truncatedArrays: [] },
      },
      {
        operationType: 'replace',
        fullDocument: { _id: 1, status: 'replaced' },
        ns: orders,
        documentKey: { _id: 1 },
      },
      { operationType: 'delete', ns: orders, documentKey: { _id: 1 } },
    ]);
    events.forEach((event, index) => {
      const entry = entries[index]!;
      expect(event.clusterTime).toBeInstanceOf(Timestamp);
      expect((event.clusterTime as Timestamp).equals(entry.ts)).toBe(true);
      expect(event.wallTime).toEqual(entry.wallTime);
      expect(Object.keys(event).slice(0, 4)).toEqual(['_id', 'operationType', 'clusterTime', 'wallTime']);
      expect(Object.keys(event._id as Document)).toEqual(['_data']);
    });
  });

  it('carries lsid and txnNumber of writes made in a transaction', async () => {
    const source = new FakeSource();
    const lsid = { id: new UUID() };
    const [event] = await eventsOf(source, () => source.insert(orders, { _id: 2 }, { lsid, txnNumber: 7 }));
    expect(event?.lsid).toEqual(lsid);
    expect(event?.txnNumber).toEqual(Long.fromNumber(7));
  });

  it('shows only the watched namespace, and never internal databases or system collections', async () => {
    const source = new FakeSource();
    const act = (): void => {
      source.insert({ db: 'shop', coll: 'other' }, { _id: 'other' });
      source.insert(orders, { _id: 'mine' });
      source.insert({ db: 'crm', coll: 'people' }, { _id: 'crm' });
      source.insert({ db: 'admin', coll: 'users' }, { _id: 'admin' });
      source.insert({ db: 'config', coll: 'x' }, { _id: 'config' });
      source.insert({ db: 'shop', coll: 'system.views' }, { _id: 'views' });
    };
    const ids = (events: Document[]): unknown[] => events.map((event) => (event.documentKey as Document)._id);
    expect(ids(await eventsOf(source, act))).toEqual(['mine']);
    expect(ids(await eventsOf(source, act, {}, { db: 'shop' }))).toEqual(['other', 'mine']);
    expect(ids(await eventsOf(source, act, { allChangesForCluster: true }, {}))).toEqual([
      'other',
      'mine',
      'crm',
    ]);
  });

  describe('fullDocument for updates', () => {
    it("'updateLookup' gives the current document, or null once it is gone", async () => {
      const source = new FakeSource();
      const events = await eventsOf(
        source,
        () => {
          source.insert(orders, { _id: 1, n: 0 });
          source.update(orders, 1, { n: 1 });
          source.update(orders, 1, { n: 2 });
          source.insert(orders, { _id: 2, n: 0 });
          source.update(orders, 2, { n: 1 });
          source.delete(orders, 2);
        },
        { fullDocument: 'updateLookup' },
      );
      const updates = events.filter((event) => event.operationType === 'update');
      // Lookup reads the document as it is now, not as it was after each update.
      expect(updates.map((event) => event.fullDocument)).toEqual([{ _id: 1, n: 2 }, { _id: 1, n: 2 }, null]);
      const deleteEvent = events.find((event) => event.operationType === 'delete');
      expect(deleteEvent).not.toHaveProperty('fullDocument');
    });

    it("'whenAvailable' gives the post-image only where images are enabled", async () => {
      const source = new FakeSource();
      source.createCollection(imaged, { changeStreamPreAndPostImages: { enabled: true } });
      const scope = { db: 'shop' };
      const events = await eventsOf(
        source,
        () => {
          source.insert(imaged, { _id: 1, n: 0 });
          source.update(imaged, 1, { n: 1 });
          source.update(imaged, 1, { n: 2 });
          source.insert(orders, { _id: 1, n: 0 });
          source.update(orders, 1, { n: 1 });
        },
        { fullDocument: 'whenAvailable' },
        scope,
      );
      const updates = events.filter((event) => event.operationType === 'update');
      expect(updates.map((event) => event.fullDocument)).toEqual([{ _id: 1, n: 1 }, { _id: 1, n: 2 }, null]);
    });

    it("'required' fails with NoMatchingDocument (47) when there is no post-image", async () => {
      const source = new FakeSource();
      const cursor = openChangeStream(source, orders, { fullDocument: 'required' }, []);
      source.insert(orders, { _id: 1 });
      source.update(orders, 1, { n: 1 });
      await expect(cursor.nextBatch(undefined, 0)).rejects.toMatchObject({ code: 47 });
    });

    it("'default' leaves fullDocument out of update events", async () => {
      const source = new FakeSource();
      source.createCollection(imaged, { changeStreamPreAndPostImages: { enabled: true } });
      const events = await eventsOf(source, () => source.update(imaged, 1, { n: 1 }), {}, imaged);
      expect(events[0]).not.toHaveProperty('fullDocument');
    });
  });

  describe('fullDocumentBeforeChange', () => {
    it("'whenAvailable' gives pre-images of updates, replaces and deletes, or null without images", async () => {
      const source = new FakeSource();
      source.createCollection(imaged, { changeStreamPreAndPostImages: { enabled: true } });
      const events = await eventsOf(
        source,
        () => {
          source.insert(imaged, { _id: 1, n: 0 });
          source.update(imaged, 1, { n: 1 });
          source.replace(imaged, { _id: 1, n: 5 });
          source.delete(imaged, 1);
          source.insert(orders, { _id: 1, n: 0 });
          source.delete(orders, 1);
        },
        { fullDocumentBeforeChange: 'whenAvailable' },
        { db: 'shop' },
      );
      expect(events.map((event) => [event.operationType, event.fullDocumentBeforeChange])).toEqual([
        ['insert', undefined],
        ['update', { _id: 1, n: 0 }],
        ['replace', { _id: 1, n: 1 }],
        ['delete', { _id: 1, n: 5 }],
        ['insert', undefined],
        ['delete', null],
      ]);
      expect(events[0]).not.toHaveProperty('fullDocumentBeforeChange');
    });

    it("'off' (the default) never adds the field", async () => {
      const source = new FakeSource();
      source.createCollection(imaged, { changeStreamPreAndPostImages: { enabled: true } });
      const events = await eventsOf(source, () => source.update(imaged, 1, { n: 1 }), {}, imaged);
      expect(events[0]).not.toHaveProperty('fullDocumentBeforeChange');
    });

    it("'required' fails with NoMatchingDocument (47) when there is no pre-image", async () => {
      const source = new FakeSource();
      const cursor = openChangeStream(source, orders, { fullDocumentBeforeChange: 'required' }, []);
      source.insert(orders, { _id: 1 });
      source.delete(orders, 1);
      await expect(cursor.nextBatch(undefined, 0)).rejects.toMatchObject({
        code: 47,
        codeName: 'NoMatchingDocument',
      });
    });
  });

  it('shows DDL events only with showExpandedEvents, with operationDescription', async () => {
    const source = new FakeSource();
    const act = (): void => {
      source.createCollection(orders);
      source.append({ op: 'createIndexes', ns: orders, indexes: [{ name: 'status_1', key: { status: 1 } }] });
      source.append({ op: 'dropIndexes', ns: orders, names: ['status_1'] });
      source.append({
        op: 'modify',
        ns: orders,
        options: { changeStreamPreAndPostImages: { enabled: true } },
      });
    };
    expect(await eventsOf(source, act)).toEqual([]);
    const events = await eventsOf(source, act, { showExpandedEvents: true });
    expect(events.map(stable)).toEqual([
      {
        operationType: 'create',
        collectionUUID: new UUID('0123456789abcdef0123456789abcdef'),
        ns: orders,
        operationDescription: { idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } },
      },
      {
        operationType: 'createIndexes',
        ns: orders,
        operationDescription: { indexes: [{ v: 2, name: 'status_1', key: { status: 1 } }] },
      },
      { operationType: 'dropIndexes', ns: orders, operationDescription: { indexes: [{ name: 'status_1' }] } },
      {
        operationType: 'modify',
        ns: orders,
        operationDescription: { changeStreamPreAndPostImages: { enabled: true } },
      },
    ]);
  });

  it('does not let user stages write through into stored documents', async () => {
    const source = new FakeSource();
    const cursor = openChangeStream(source, orders, {}, [{ $set: { 'fullDocument.tagged': true } }]);
    source.insert(orders, { _id: 1, nested: { n: 1 } });
    const { events } = await cursor.nextBatch(undefined, 0);
    expect(events[0]?.fullDocument).toEqual({ _id: 1, nested: { n: 1 }, tagged: true });
    expect(source.findDocumentById(orders, 1)).toEqual({ _id: 1, nested: { n: 1 } });
  });
});
