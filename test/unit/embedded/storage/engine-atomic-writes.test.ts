// Engine.writeAtomically (a transaction's commit) is all or nothing, and the version history serves snapshots.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../../src/embedded/storage/engine.js';
import type { OplogEntry } from '../../../../src/embedded/storage/oplog-entry.js';
import { valueKey } from '../../../../src/embedded/query/index.js';

const ns = { db: 'db', coll: 'accounts' };

function engineWithAccounts(): {
  engine: Engine;
  published: { entries: readonly OplogEntry[]; atomic: boolean }[];
} {
  const engine = new Engine({ historySize: 1000 });
  const collection = engine.createCollection(ns);
  engine.insertDocument(collection, { _id: 'a', balance: 1 });
  engine.insertDocument(collection, { _id: 'b', balance: 2 });
  const published: { entries: readonly OplogEntry[]; atomic: boolean }[] = [];
  engine.onCommit((entries, batch) => published.push({ entries, atomic: batch.atomic }));
  return { engine, published };
}

describe('Engine.writeAtomically', () => {
  it('publishes every write of the batch at once, marked atomic, with the session on each entry', () => {
    const { engine, published } = engineWithAccounts();
    const lsid = { id: 'session' };
    engine.writeAtomically(
      () => {
        const accounts = engine.requireCollection(ns);
        engine.insertDocument(accounts, { _id: 'c', balance: 3 });
        engine.deleteDocument(accounts, accounts.findById('a')!);
      },
      { lsid, txnNumber: 4 },
    );
    expect(published).toHaveLength(1);
    expect(published[0]!.atomic).toBe(true);
    expect(published[0]!.entries.map((entry) => [entry.op, entry.lsid, entry.txnNumber])).toEqual([
      ['insert', lsid, 4],
      ['delete', lsid, 4],
    ]);
  });

  it('undoes every insert, replace, delete and collection it made when a write fails, publishing nothing', () => {
    const { engine, published } = engineWithAccounts();
    const sizeBefore = engine.oplog.size;
    expect(() =>
      engine.writeAtomically(() => {
        const accounts = engine.requireCollection(ns);
        engine.insertDocument(accounts, { _id: 'c', balance: 3 });
        engine.replaceDocument(accounts, accounts.findById('a')!, { _id: 'a', balance: 100 }, null);
        engine.deleteDocument(accounts, accounts.findById('b')!);
        engine.insertDocument(engine.ensureCollection({ db: 'db', coll: 'ledger' }), { _id: 1 });
        engine.insertDocument(accounts, { _id: 'c', balance: 4 }); // duplicate key: the batch fails here
      }, {}),
    ).toThrow(/E11000/);
    const accounts = engine.requireCollection(ns);
    expect([...accounts.allDocuments()].sort((x, y) => String(x._id).localeCompare(String(y._id)))).toEqual([
      { _id: 'a', balance: 1 },
      { _id: 'b', balance: 2 },
    ]);
    expect(engine.getCollection({ db: 'db', coll: 'ledger' })).toBeUndefined();
    expect(engine.oplog.size).toBe(sizeBefore);
    expect(published).toEqual([]);
  });
});

describe('VersionHistory', () => {
  it('records earlier versions only while a snapshot is open, and forgets them when it closes', () => {
    const { engine } = engineWithAccounts();
    const accounts = engine.requireCollection(ns);
    engine.replaceDocument(accounts, accounts.findById('a')!, { _id: 'a', balance: 5 }, null);
    expect(engine.history.recording).toBe(false);
    const snapshot = engine.oplog.clusterTime;
    engine.history.openSnapshot(1, snapshot);
    engine.replaceDocument(accounts, accounts.findById('a')!, { _id: 'a', balance: 6 }, null);
    engine.deleteDocument(accounts, accounts.findById('b')!);
    engine.insertDocument(accounts, { _id: 'new', balance: 0 });
    const key = (id: string): string => valueKey(id);
    expect(engine.history.versionAt(accounts.uuidString, key('a'), snapshot)).toEqual({
      changed: true,
      document: { _id: 'a', balance: 5 },
    });
    expect(engine.history.versionAt(accounts.uuidString, key('b'), snapshot)).toEqual({
      changed: true,
      document: { _id: 'b', balance: 2 },
    });
    expect(engine.history.versionAt(accounts.uuidString, key('new'), snapshot)).toEqual({
      changed: true,
      document: undefined,
    });
    expect(engine.history.changedSince(accounts.uuidString, key('a'), snapshot)).toBe(true);
    engine.history.closeSnapshot(1);
    expect(engine.history.recording).toBe(false);
    expect(engine.history.changedSince(accounts.uuidString, key('a'), snapshot)).toBe(false);
  });
});
