// A committed transaction is one journal record: a crash that tears it leaves none of the transaction, never part.
import { stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskStore } from '../../../../src/embedded/persistence/disk-store.js';
import { clock, insertEntry, insertedIds } from './sample-entries.js';
import { useTempDir } from './temp-dir.js';

const temp = useTempDir();
const quiet = { warn: () => {}, info: () => {} };

async function openStore(dir: string) {
  const opened = await DiskStore.open(dir, { logger: quiet });
  temp.onCleanup(() => opened.store.close());
  return opened;
}

const journalFile = (dir: string): string => join(dir, 'journal.000001');

describe('DiskStore and transactions', () => {
  it('recovers every entry of a committed transaction', async () => {
    const next = clock();
    const first = await openStore(temp.path);
    first.store.append([insertEntry(next(), { _id: 1 })]);
    first.store.append([insertEntry(next(), { _id: 2 }), insertEntry(next(), { _id: 3 })], { atomic: true });
    await first.store.close();
    const { recovered } = await openStore(temp.path);
    expect(insertedIds(recovered.journal)).toEqual([1, 2, 3]);
  });

  it('drops the whole transaction when a crash tore its record, whatever byte it stopped at', async () => {
    const next = clock();
    const first = await openStore(temp.path);
    first.store.append([insertEntry(next(), { _id: 1 })]);
    await first.store.flush();
    const before = (await stat(journalFile(temp.path))).size;
    const transaction = [2, 3, 4].map((id) => insertEntry(next(), { _id: id, padding: 'p'.repeat(200) }));
    first.store.append(transaction, { atomic: true });
    await first.store.close();
    const after = (await stat(journalFile(temp.path))).size;

    // Cut inside the first, the middle and the last entry's bytes: the transaction is all or nothing.
    for (const cut of [before + 20, Math.floor((before + after) / 2), after - 1]) {
      await truncate(journalFile(temp.path), cut);
      const { recovered, store } = await DiskStore.open(temp.path, { logger: quiet });
      expect(insertedIds(recovered.journal)).toEqual([1]);
      await store.close();
    }
  });

  it('without the atomic flag, a torn batch keeps the entries before the tear (plain writes)', async () => {
    const next = clock();
    const first = await openStore(temp.path);
    first.store.append([
      insertEntry(next(), { _id: 1 }),
      insertEntry(next(), { _id: 2, padding: 'p'.repeat(200) }),
    ]);
    await first.store.close();
    const size = (await stat(journalFile(temp.path))).size;
    await truncate(journalFile(temp.path), size - 1);
    const { recovered } = await openStore(temp.path);
    expect(insertedIds(recovered.journal)).toEqual([1]);
  });
});
