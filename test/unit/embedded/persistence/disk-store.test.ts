import { appendFile, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskStore } from '../../../../src/embedded/persistence/disk-store.js';
import type { DiskStoreOptions } from '../../../../src/embedded/persistence/disk-store-options.js';
import type { OplogEntry } from '../../../../src/embedded/storage/oplog-entry.js';
import {
  clock,
  everyEntryKind,
  insertEntry,
  insertedDocument,
  insertedIds,
  withoutUndefined,
} from './sample-entries.js';
import { FaultyIo } from './faulty-io.js';
import { useTempDir } from './temp-dir.js';

const temp = useTempDir();

function recordingLogger(): {
  warnings: { obj: object; msg: string }[];
} & Required<DiskStoreOptions>['logger'] {
  const warnings: { obj: object; msg: string }[] = [];
  return { warnings, warn: (obj, msg) => warnings.push({ obj, msg }), info: () => {} };
}

async function openStore(dir: string, options: DiskStoreOptions = {}) {
  const opened = await DiskStore.open(dir, { logger: recordingLogger(), ...options });
  temp.onCleanup(() => opened.store.close());
  return opened;
}

function journalFile(dir: string): string {
  return join(dir, 'journal.000001');
}

describe('DiskStore journal', () => {
  it('starts empty in a new directory, creating it', async () => {
    const dir = join(temp.path, 'nested', 'db');
    const { recovered } = await openStore(dir);
    expect(recovered).toEqual({ snapshot: null, journal: [] });
    expect((await stat(dir)).isDirectory()).toBe(true);
  });

  it('refuses a dbpath that is a file', async () => {
    const file = join(temp.path, 'not-a-dir');
    await writeFile(file, 'x');
    await expect(DiskStore.open(file)).rejects.toMatchObject({
      code: 'DbPathNotDirectory',
      message: expect.stringContaining(file) as unknown,
    });
  });

  it('gives back every entry kind after close and reopen', async () => {
    const entries = everyEntryKind(clock());
    const first = await openStore(temp.path);
    first.store.append(entries.slice(0, 4));
    first.store.append(entries.slice(4));
    await first.store.close();

    const { recovered } = await openStore(temp.path);
    expect(recovered.journal).toStrictEqual(withoutUndefined(entries));
  });

  it('gives back many small appends in order', async () => {
    const next = clock();
    const entries: OplogEntry[] = Array.from({ length: 5000 }, (_, n) => insertEntry(next(), { _id: n, n }));
    const first = await openStore(temp.path, { fsyncIntervalMs: 5 });
    for (const entry of entries) first.store.append([entry]);
    await first.store.close();

    const { recovered } = await openStore(temp.path);
    expect(recovered.journal.map((entry) => insertedDocument(entry).n)).toEqual(entries.map((_, n) => n));
  });

  it('keeps appending after a reopen', async () => {
    const next = clock();
    const first = await openStore(temp.path);
    first.store.append([insertEntry(next(), { _id: 1 })]);
    await first.store.close();
    const second = await openStore(temp.path);
    second.store.append([insertEntry(next(), { _id: 2 })]);
    await second.store.close();

    const { recovered } = await openStore(temp.path);
    expect(insertedIds(recovered.journal)).toEqual([1, 2]);
  });

  it('writes synchronously, so an unflushed append is in the file', async () => {
    const { store } = await openStore(temp.path, { fsyncIntervalMs: 60_000 });
    store.append([insertEntry(clock()(), { _id: 'sync' })]);
    expect((await readFile(journalFile(temp.path))).includes('sync')).toBe(true);
    await store.flush();
  });

  it('recovers the valid prefix when garbage follows the last record, and cuts the garbage off', async () => {
    const next = clock();
    const first = await openStore(temp.path);
    first.store.append([insertEntry(next(), { _id: 1 }), insertEntry(next(), { _id: 2 })]);
    await first.store.close();
    const validSize = (await stat(journalFile(temp.path))).size;
    await appendFile(journalFile(temp.path), Buffer.from('garbage after a crash'));

    const logger = recordingLogger();
    const second = await openStore(temp.path, { logger });
    expect(second.recovered.journal).toHaveLength(2);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]?.obj).toMatchObject({ droppedBytes: 'garbage after a crash'.length });
    expect((await stat(journalFile(temp.path))).size).toBe(validSize);

    // New appends follow the valid data and survive the next recovery.
    second.store.append([insertEntry(next(), { _id: 3 })]);
    await second.store.close();
    const third = await openStore(temp.path);
    expect(insertedIds(third.recovered.journal)).toEqual([1, 2, 3]);
  });

  it('recovers the valid prefix when the file is cut mid-record', async () => {
    const next = clock();
    const first = await openStore(temp.path);
    first.store.append([insertEntry(next(), { _id: 1 })]);
    await first.store.flush();
    const sizeAfterFirst = (await stat(journalFile(temp.path))).size;
    first.store.append([insertEntry(next(), { _id: 2, padding: 'p'.repeat(1000) })]);
    await first.store.close();
    await truncate(journalFile(temp.path), sizeAfterFirst + 500);

    const logger = recordingLogger();
    const { recovered } = await openStore(temp.path, { logger });
    expect(insertedIds(recovered.journal)).toEqual([1]);
    expect(logger.warnings[0]?.obj).toMatchObject({ droppedBytes: 500 });
  });

  it('stores a document of about 15 MB', async () => {
    const big = 'b'.repeat(15 * 1024 * 1024);
    const first = await openStore(temp.path);
    first.store.append([insertEntry(clock()(), { _id: 'big', big })]);
    await first.store.close();

    const { recovered } = await openStore(temp.path);
    expect(insertedDocument(recovered.journal[0]).big).toBe(big);
  }, 30_000);

  it('throws at once on an entry BSON cannot hold, writing nothing', async () => {
    const { store } = await openStore(temp.path);
    const circular: Record<string, unknown> = { _id: 1 };
    circular.self = circular;
    expect(() => store.append([insertEntry(clock()(), circular)])).toThrow();
    expect((await stat(journalFile(temp.path))).size).toBe(0);
  });

  it('turns needsSnapshot on when the journal outgrows journalRotateBytes', async () => {
    const next = clock();
    const { store } = await openStore(temp.path, { journalRotateBytes: 2000 });
    store.append([insertEntry(next(), { _id: 1, pad: 'x'.repeat(500) })]);
    expect(store.needsSnapshot).toBe(false);
    store.append([insertEntry(next(), { _id: 2, pad: 'x'.repeat(2000) })]);
    expect(store.needsSnapshot).toBe(true);
  });

  it('refuses appends after close', async () => {
    const { store } = await openStore(temp.path);
    await store.close();
    expect(() => store.append([insertEntry(clock()(), { _id: 1 })])).toThrow(/closed/);
  });

  it('with fsyncIntervalMs 0 recovers every append, and close removes the lock file', async () => {
    const next = clock();
    const first = await openStore(temp.path, { fsyncIntervalMs: 0 });
    first.store.append([insertEntry(next(), { _id: 1 })]);
    first.store.append([insertEntry(next(), { _id: 2 })]);
    expect(await readdir(temp.path)).toContain('mongod.lock');
    await first.store.close();
    expect(await readdir(temp.path)).toEqual(['journal.000001']);

    const { recovered } = await openStore(temp.path);
    expect(recovered.journal).toHaveLength(2);
  });

  it('cuts a write that failed half-way off the file, refuses later appends, and recovers what came before', async () => {
    const next = clock();
    const io = new FaultyIo();
    const first = await openStore(temp.path, { io });
    first.store.append([insertEntry(next(), { _id: 1 })]);
    const sizeBefore = (await stat(journalFile(temp.path))).size;
    io.failJournalWrites(10);
    expect(() =>
      first.store.append([insertEntry(next(), { _id: 2 }), insertEntry(next(), { _id: 3 })]),
    ).toThrow(/journal write to .* failed \(Error: ENOSPC.*writes are refused from now on/);
    expect((await stat(journalFile(temp.path))).size).toBe(sizeBefore);
    io.heal();
    expect(() => first.store.assertWritable()).toThrow(/writes are refused from now on/);
    expect(() => first.store.append([insertEntry(next(), { _id: 4 })])).toThrow(/writes are refused/);
    await first.store.close();

    const { recovered } = await openStore(temp.path);
    expect(insertedIds(recovered.journal)).toEqual([1]);
  });

  it('with fsyncIntervalMs 0, cuts a record whose fsync failed off the file, so a restart does not replay it', async () => {
    const next = clock();
    const io = new FaultyIo();
    const first = await openStore(temp.path, { io, fsyncIntervalMs: 0 });
    first.store.append([insertEntry(next(), { _id: 1 })]);
    const sizeBefore = (await stat(journalFile(temp.path))).size;
    io.failFsyncs();
    expect(() => first.store.append([insertEntry(next(), { _id: 2 })])).toThrow(/journal write .* EIO/);
    expect((await stat(journalFile(temp.path))).size).toBe(sizeBefore);
    io.heal();
    await first.store.close();

    const { recovered } = await openStore(temp.path);
    expect(insertedIds(recovered.journal)).toEqual([1]);
  });
});
