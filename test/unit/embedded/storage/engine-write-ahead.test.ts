// With a write-ahead log attached, the engine journals each batch before publishing it; a batch the journal refuses
// is undone (documents, indexes, catalog, options, history) and never reaches the oplog, listeners or cluster time.
import type { Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { valueKey } from '../../../../src/embedded/query/index.js';
import { Engine, type WriteAheadLog } from '../../../../src/embedded/storage/engine.js';
import type { OplogEntry } from '../../../../src/embedded/storage/oplog-entry.js';

const orders = { db: 'shop', coll: 'orders' };

/** A journal that accepts batches until told to refuse them. */
class SwitchableJournal implements WriteAheadLog {
  refusing = false;
  readonly batches: (readonly OplogEntry[])[] = [];
  assertWritable(): void {}
  append(entries: readonly OplogEntry[]): void {
    if (this.refusing) throw new Error('ENOSPC: no space left on device, write');
    this.batches.push(entries);
  }
}

function journaledEngine(): { engine: Engine; journal: SwitchableJournal; published: OplogEntry[] } {
  const engine = new Engine({ historySize: 1000 });
  const journal = new SwitchableJournal();
  engine.useWriteAheadLog(journal);
  const published: OplogEntry[] = [];
  engine.onCommit((entries) => published.push(...entries));
  const collection = engine.createCollection(orders);
  engine.createIndexes(orders, [
    { name: 'orderNo_1', key: { orderNo: 1 }, unique: true },
    { name: 'amount_1', key: { amount: 1 } },
  ]);
  engine.insertDocument(collection, { _id: 1, orderNo: 'N1', amount: 10 });
  engine.insertDocument(collection, { _id: 2, orderNo: 'N2', amount: 20 });
  return { engine, journal, published };
}

/** Everything a reader could observe of the engine's state. */
function observable(engine: Engine): Document {
  return {
    collections: engine.allCollections().map((collection) => ({
      ns: collection.ns,
      uuid: collection.uuidString,
      options: collection.options,
      indexes: collection.indexSpecs(),
      // By _id: an undone delete puts its document back at the end of natural order (ARCHITECTURE.md).
      documents: [...collection.documents.values()].sort((a, b) => Number(a._id) - Number(b._id)),
    })),
    oplogSize: engine.oplog.size,
    clusterTime: engine.oplog.clusterTime,
  };
}

function expectRefusedWithoutTrace(
  setup: ReturnType<typeof journaledEngine>,
  write: (engine: Engine) => void,
): void {
  const { engine, journal, published } = setup;
  const before = observable(engine);
  const publishedBefore = published.length;
  journal.refusing = true;
  expect(() => write(engine)).toThrow(/ENOSPC/);
  expect(observable(engine)).toEqual(before);
  expect(published).toHaveLength(publishedBefore);
}

describe('Engine with a write-ahead log', () => {
  it('journals each batch before the oplog and listeners see it', () => {
    const { engine, journal, published } = journaledEngine();
    expect(journal.batches.flat()).toEqual(published);
    expect(engine.oplog.retained()).toEqual(published);
  });

  it('undoes a refused insert batch: a later insert of the same unique key succeeds', () => {
    const setup = journaledEngine();
    expectRefusedWithoutTrace(setup, (engine) =>
      engine.write(() => {
        const collection = engine.requireCollection(orders);
        engine.insertDocument(collection, { _id: 3, orderNo: 'N3', amount: 30 });
        engine.insertDocument(collection, { _id: 4, orderNo: 'N4', amount: 40 });
      }),
    );
    setup.journal.refusing = false;
    const collection = setup.engine.requireCollection(orders);
    setup.engine.insertDocument(collection, { _id: 4, orderNo: 'N4', amount: 40 });
    expect(setup.published.at(-1)).toMatchObject({ op: 'insert', documentKey: { _id: 4 } });
  });

  it('undoes a refused replace and delete', () => {
    const setup = journaledEngine();
    expectRefusedWithoutTrace(setup, (engine) =>
      engine.write(() => {
        const collection = engine.requireCollection(orders);
        engine.replaceDocument(
          collection,
          collection.findById(1)!,
          { _id: 1, orderNo: 'N9', amount: 1 },
          null,
        );
        engine.deleteDocument(collection, collection.findById(2)!);
      }),
    );
  });

  it('undoes refused index, option and catalog changes', () => {
    const setup = journaledEngine();
    expectRefusedWithoutTrace(setup, (engine) =>
      engine.createIndexes(orders, [{ name: 'when_1', key: { when: 1 } }]),
    );
    expectRefusedWithoutTrace(setup, (engine) => engine.dropIndexes(orders, ['orderNo_1']));
    expectRefusedWithoutTrace(setup, (engine) =>
      engine.modifyCollection(orders, { validationLevel: 'off' } as never),
    );
    expectRefusedWithoutTrace(setup, (engine) => engine.createCollection({ db: 'shop', coll: 'other' }));
    setup.journal.refusing = false;
    setup.engine.createCollection({ db: 'shop', coll: 'target' });
    expectRefusedWithoutTrace(setup, (engine) =>
      engine.renameCollection(orders, { db: 'shop', coll: 'target' }, true),
    );
    expectRefusedWithoutTrace(setup, (engine) => engine.dropCollection(orders));
    expectRefusedWithoutTrace(setup, (engine) => engine.dropDatabase('shop'));
  });

  it('undoes a refused atomic batch (a transaction commit) and its version history', () => {
    const setup = journaledEngine();
    const snapshotTs = setup.engine.oplog.clusterTime;
    setup.engine.history.openSnapshot(1, snapshotTs);
    expectRefusedWithoutTrace(setup, (engine) =>
      engine.writeAtomically(() => {
        const collection = engine.requireCollection(orders);
        engine.insertDocument(collection, { _id: 3, orderNo: 'N3' });
        engine.deleteDocument(collection, collection.findById(1)!);
      }, {}),
    );
    const uuid = setup.engine.requireCollection(orders).uuidString;
    expect(setup.engine.history.changedSince(uuid, valueKey(1), snapshotTs)).toBe(false);
    expect(setup.engine.history.changedSince(uuid, valueKey(3), snapshotTs)).toBe(false);
  });

  it('creates none of the indexes of a createIndexes that fails part-way, so memory holds only what is journaled', () => {
    const { engine, journal } = journaledEngine();
    const collection = engine.requireCollection(orders);
    engine.insertDocument(collection, { _id: 3, orderNo: 'N3', amount: 10 });
    const indexesBefore = collection.indexSpecs();
    expect(() =>
      engine.createIndexes(orders, [
        { name: 'when_1', key: { when: 1 } },
        { name: 'amount_unique', key: { amount: -1 }, unique: true },
      ]),
    ).toThrow(/E11000/);
    expect(collection.indexSpecs()).toEqual(indexesBefore);
    expect(journal.batches.flat().filter((entry) => entry.op === 'createIndexes')).toHaveLength(1);
  });

  it('refuses a batch before it changes anything when the journal refuses writes', () => {
    const { engine } = journaledEngine();
    let ran = false;
    engine.useWriteAheadLog({
      assertWritable: () => {
        throw new Error('writes are refused from now on');
      },
      append: () => {},
    });
    expect(() => engine.write(() => (ran = true))).toThrow(/refused/);
    expect(() => engine.writeAtomically(() => (ran = true), {})).toThrow(/refused/);
    expect(ran).toBe(false);
  });
});
