import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { DiskStore } from '../../../../src/embedded/persistence/disk-store.js';
import type { DiskStoreOptions } from '../../../../src/embedded/persistence/disk-store-options.js';
import { decodeRecords } from '../../../../src/embedded/persistence/record-codec.js';
import type { SnapshotData } from '../../../../src/embedded/persistence/snapshot-file.js';
import type { OplogEntry } from '../../../../src/embedded/storage/oplog-entry.js';
import { clock, everyEntryKind, insertEntry, insertedIds, withoutUndefined } from './sample-entries.js';
import { useTempDir } from './temp-dir.js';

const temp = useTempDir();
const quiet = { warn: () => {}, info: () => {} };

async function openStore(dir: string, options: DiskStoreOptions = {}) {
  const opened = await DiskStore.open(dir, { logger: quiet, ...options });
  temp.onCleanup(() => opened.store.close());
  return opened;
}

function snapshotAt(
  clusterTime: Timestamp,
  documents: Record<string, unknown>[],
  history: OplogEntry[] = [],
): SnapshotData {
  return {
    clusterTime,
    truncatedThrough: null,
    collections: [
      {
        db: 'shop',
        coll: 'orders',
        uuid: 'u-1',
        options: {},
        indexes: [{ name: '_id_', key: { _id: 1 } }],
        documents,
      },
    ],
    history,
  };
}

const ids = insertedIds;

async function journalNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('journal.')).sort();
}

describe('DiskStore snapshots', () => {
  it('recovers the snapshot and only the journal entries newer than it, in order', async () => {
    const next = clock();
    const before = [insertEntry(next(), { _id: 1 }), insertEntry(next(), { _id: 2 })];
    const history = everyEntryKind(next);
    const { store } = await openStore(temp.path);
    store.append(before);
    store.append(history);
    const snapshot = snapshotAt(history[history.length - 1]!.ts, [{ _id: 1 }, { _id: 2 }], history);
    await store.writeSnapshot({ ...snapshot, truncatedThrough: before[1]!.ts });
    store.append([insertEntry(next(), { _id: 3 }), insertEntry(next(), { _id: 4 })]);
    await store.close();

    const { recovered } = await openStore(temp.path);
    expect(recovered.snapshot).toStrictEqual(
      withoutUndefined({ ...snapshot, truncatedThrough: before[1]!.ts }),
    );
    expect(ids(recovered.journal)).toEqual([3, 4]);
  });

  it('starts a new journal generation and deletes the old one once the snapshot is written', async () => {
    const next = clock();
    const { store } = await openStore(temp.path, { journalRotateBytes: 100 });
    const entry = insertEntry(next(), { _id: 1, pad: 'x'.repeat(200) });
    store.append([entry]);
    expect(store.needsSnapshot).toBe(true);
    await store.writeSnapshot(snapshotAt(entry.ts, [entry.document]));
    expect(store.needsSnapshot).toBe(false);
    expect(await journalNames(temp.path)).toEqual(['journal.000002']);

    store.append([insertEntry(next(), { _id: 2 })]);
    await store.writeSnapshot(snapshotAt(next(), [entry.document, { _id: 2 }]));
    expect(await journalNames(temp.path)).toEqual(['journal.000003']);
  });

  it('keeps the old journal while it holds entries newer than the snapshot', async () => {
    const next = clock();
    const entries = [1, 2, 3, 4].map((n) => insertEntry(next(), { _id: n }));
    const { store } = await openStore(temp.path);
    store.append(entries);
    // The engine snapshotted state as of entry 2 while entries 3 and 4 were already journaled.
    await store.writeSnapshot(snapshotAt(entries[1]!.ts, [{ _id: 1 }, { _id: 2 }]));
    expect(await journalNames(temp.path)).toEqual(['journal.000001', 'journal.000002']);
    store.append([insertEntry(next(), { _id: 5 })]);
    await store.close();

    const { recovered } = await openStore(temp.path);
    expect(ids(recovered.journal)).toEqual([3, 4, 5]);
  });

  it('writes a collection of 100k documents in several chunk records and recovers it', async () => {
    const documents = Array.from({ length: 100_000 }, (_, n) => ({
      _id: n,
      name: `customer-${n}`,
      tags: ['a', 'b'],
    }));
    const { store } = await openStore(temp.path);
    await store.writeSnapshot(snapshotAt(clock()(), documents));
    await store.close();

    const records = decodeRecords(await readFile(join(temp.path, 'snapshot.bson'))).records;
    const chunks = records.filter((record) => record.kind === 'documents');
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((chunk) => (chunk.documents as unknown[]).length < documents.length)).toBe(true);

    const { recovered } = await openStore(temp.path);
    expect(recovered.snapshot?.collections[0]?.documents).toStrictEqual(documents);
  }, 30_000);

  it('journals appends made while a snapshot is being written, and close waits for the snapshot', async () => {
    const next = clock();
    const first = insertEntry(next(), { _id: 1 });
    const { store } = await openStore(temp.path);
    store.append([first]);
    const writing = store.writeSnapshot(snapshotAt(first.ts, [first.document]));
    store.append([insertEntry(next(), { _id: 2 })]);
    await store.close();
    await writing;

    const { recovered } = await openStore(temp.path);
    expect(recovered.snapshot?.collections[0]?.documents).toEqual([{ _id: 1 }]);
    expect(ids(recovered.journal)).toEqual([2]);
  });

  it('refuses to start from a damaged snapshot', async () => {
    const { store } = await openStore(temp.path);
    await store.writeSnapshot(snapshotAt(clock()(), [{ _id: 1 }]));
    await store.close();
    const path = join(temp.path, 'snapshot.bson');
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 3));

    await expect(DiskStore.open(temp.path, { logger: quiet })).rejects.toMatchObject({
      code: 'CorruptSnapshot',
    });
    // The failed open released the lock.
    expect(await readdir(temp.path)).not.toContain('mongod.lock');
  });
});

// Each test rebuilds the files a crash at one point of writeSnapshot leaves behind and checks nothing is lost.
describe('DiskStore crash during a snapshot', () => {
  async function snapshotScenario(dir: string) {
    const next = clock();
    const early = [insertEntry(next(), { _id: 1 }), insertEntry(next(), { _id: 2 })];
    const { store } = await openStore(dir);
    store.append(early);
    await store.flush();
    await copyFile(join(dir, 'journal.000001'), join(dir, 'saved-journal'));
    await store.writeSnapshot(snapshotAt(early[1]!.ts, [{ _id: 1 }, { _id: 2 }]));
    store.append([insertEntry(next(), { _id: 3 })]);
    await store.close();
  }

  it('before the snapshot rename: old state plus both journals, temp file ignored', async () => {
    await snapshotScenario(temp.path);
    await rm(join(temp.path, 'snapshot.bson'));
    await copyFile(join(temp.path, 'saved-journal'), join(temp.path, 'journal.000001'));
    await writeFile(join(temp.path, 'snapshot.bson.tmp'), 'half a snapshot');

    const { recovered } = await openStore(temp.path);
    expect(recovered.snapshot).toBeNull();
    expect(ids(recovered.journal)).toEqual([1, 2, 3]);
    expect(await readdir(temp.path)).not.toContain('snapshot.bson.tmp');
  });

  it('after the rename, before old journals are deleted: the stale journal is ignored and removed', async () => {
    await snapshotScenario(temp.path);
    await copyFile(join(temp.path, 'saved-journal'), join(temp.path, 'journal.000001'));

    const { recovered } = await openStore(temp.path);
    expect(recovered.snapshot?.collections[0]?.documents).toEqual([{ _id: 1 }, { _id: 2 }]);
    expect(ids(recovered.journal)).toEqual([3]);
    expect(await journalNames(temp.path)).toEqual(['journal.000002']);
  });

  it('right after rotation, before any new entry: the new journal may be empty or missing', async () => {
    await snapshotScenario(temp.path);
    await rm(join(temp.path, 'journal.000002'));

    const { store, recovered } = await openStore(temp.path);
    expect(ids(recovered.journal)).toEqual([]);
    store.append([insertEntry(clock(1_800_000_000)(), { _id: 4 })]);
    await store.close();
    expect(ids((await openStore(temp.path)).recovered.journal)).toEqual([4]);
  });
});
