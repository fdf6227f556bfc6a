// Durability for `--dbpath DIR`: an append-only journal of oplog entries plus periodic snapshots.
//
// Guarantees: append() writes synchronously, so a crash of the process loses nothing it acknowledged. A power cut
// or kernel crash loses at most the last `fsyncIntervalMs` of appends (those not yet fsynced); fsyncIntervalMs 0
// closes that window at the cost of one fsync per append. See ARCHITECTURE.md for the crash orderings.
import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Timestamp } from 'bson';
import type { OplogEntry } from '../storage/oplog-entry.js';
import { compareTimestamps } from '../storage/oplog.js';
import { DirLock } from './dir-lock.js';
import {
  diskStoreOptionsSchema,
  fallbackLogger,
  type DiskStoreLogger,
  type DiskStoreOptions,
  type DiskStoreSettings,
} from './disk-store-options.js';
import { isErrnoCode } from './is-errno-code.js';
import { journalPath, listJournalGenerations, removeJournal } from './journal-files.js';
import { JournalWriter } from './journal-writer.js';
import { PersistenceError } from './persistence-error.js';
import { nodePersistenceIo, type PersistenceIo } from './persistence-io.js';
import { encodeRecord } from './record-codec.js';
import { recoverDbPath, type RecoveredState } from './recover-dbpath.js';
import { encodeSnapshot, writeSnapshotFile, type SnapshotData } from './snapshot-file.js';

// The engine needs only this module: the shapes it hands in and gets back.
export type { DiskStoreOptions, DiskStoreLogger } from './disk-store-options.js';
export type { PersistenceIo } from './persistence-io.js';
export type { RecoveredState } from './recover-dbpath.js';
export type { CollectionSnapshot, SnapshotData } from './snapshot-file.js';

export class DiskStore {
  private journal: JournalWriter;
  /** Newest ts written to the current journal; decides whether a snapshot still needs that journal. */
  private newestJournalTs: Timestamp | null;
  private fsyncTimer: NodeJS.Timeout | null = null;
  /** Snapshot file writes run one at a time, in the order they were requested. */
  private snapshotChain: Promise<void> = Promise.resolve();
  private failure: PersistenceError | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    readonly dir: string,
    private readonly settings: DiskStoreSettings,
    private readonly logger: DiskStoreLogger,
    private readonly lock: DirLock,
    private readonly io: PersistenceIo,
    journal: JournalWriter,
    newestJournalTs: Timestamp | null,
  ) {
    this.journal = journal;
    this.newestJournalTs = newestJournalTs;
  }

  /**
   * Locks `dir` (creating it when missing), recovers its contents and opens the journal for appending.
   * The engine loads `recovered.snapshot`, then replays `recovered.journal` in order.
   */
  static async open(
    dir: string,
    options: DiskStoreOptions = {},
  ): Promise<{ store: DiskStore; recovered: RecoveredState }> {
    const settings = diskStoreOptionsSchema.parse(options);
    const logger = settings.logger ?? fallbackLogger;
    const io = settings.io ?? nodePersistenceIo;
    const absoluteDir = resolve(dir);
    await ensureDirectory(absoluteDir);
    const lock = DirLock.acquire(absoluteDir);
    try {
      const recovery = await recoverDbPath(absoluteDir, logger);
      const journal = JournalWriter.open(
        journalPath(absoluteDir, recovery.currentGeneration),
        recovery.currentGeneration,
        recovery.currentBytes,
        io,
      );
      const store = new DiskStore(absoluteDir, settings, logger, lock, io, journal, recovery.currentNewestTs);
      return { store, recovered: recovery.recovered };
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /**
   * Journals a batch before the engine publishes it (write-ahead: when this throws, the engine undoes the batch).
   * Serializes first, so an unserializable entry throws before anything is written; the bytes reach the OS before
   * this returns (with `fsyncIntervalMs: 0`, the disk); fsync follows within fsyncIntervalMs, one for every batch
   * appended meanwhile. A failed write is cut back off the file, so a restart does not replay it either.
   * `atomic` (a transaction's commit) writes the entries as one record `{t: [...]}`: one CRC covers them all,
   * so a torn write drops the whole transaction on recovery and never keeps part of it.
   */
  append(entries: readonly OplogEntry[], batch: { atomic: boolean } = { atomic: false }): void {
    this.assertWritable();
    const last = entries[entries.length - 1];
    if (last === undefined) return;
    const frames =
      batch.atomic && entries.length > 1
        ? [encodeRecord({ t: entries })]
        : entries.map((entry) => encodeRecord({ e: entry }));
    try {
      this.journal.write(frames.length === 1 && frames[0] ? frames[0] : Buffer.concat(frames), {
        sync: this.settings.fsyncIntervalMs === 0,
      });
    } catch (error) {
      throw this.fail('write', error);
    }
    this.newestJournalTs = last.ts;
    this.scheduleSync();
  }

  /** True when the journal has outgrown `journalRotateBytes` and the engine should call writeSnapshot(). */
  get needsSnapshot(): boolean {
    return this.journal.bytes > this.settings.journalRotateBytes;
  }

  /**
   * Makes `data` the new recovery base and starts a fresh journal. `data` is serialized before this returns,
   * so the engine may mutate its collections right away; the promise resolves once the snapshot is durable
   * and the journals it replaces are deleted.
   */
  async writeSnapshot(data: SnapshotData): Promise<void> {
    // Everything up to the `await` below runs synchronously, before the engine's next mutation.
    this.assertWritable();
    const previous = this.journal;
    const nextGeneration = previous.generation + 1;
    // Entries newer than the snapshot already in the current journal keep that journal alive beside it.
    const previousHasNewer =
      this.newestJournalTs !== null && compareTimestamps(this.newestJournalTs, data.clusterTime) > 0;
    const firstNeededGeneration = previousHasNewer ? previous.generation : nextGeneration;
    const records = encodeSnapshot(data, firstNeededGeneration);
    try {
      // The previous journal must be durable before the next one receives entries: otherwise a power cut could
      // keep later entries while losing earlier ones, leaving a gap that replay cannot see.
      previous.syncNow();
    } catch (error) {
      throw this.fail('fsync', error);
    }
    this.journal = JournalWriter.open(journalPath(this.dir, nextGeneration), nextGeneration, 0, this.io);
    this.newestJournalTs = null;
    // Until the rename inside writeSnapshotFile, recovery uses the old snapshot plus every journal (old and new);
    // after it, the new snapshot plus journals from firstNeededGeneration. Deleting comes last, so no crash point
    // loses entries.
    const written = this.snapshotChain.then(async () => {
      await previous.close();
      await writeSnapshotFile(this.dir, records, this.io);
      for (const generation of await listJournalGenerations(this.dir)) {
        if (generation < firstNeededGeneration) await removeJournal(this.dir, generation);
      }
      this.logger.info(
        { dir: this.dir, clusterTime: data.clusterTime, journalGeneration: nextGeneration },
        'snapshot written',
      );
    });
    this.snapshotChain = written.catch(() => {});
    await written;
  }

  /** Writes and fsyncs everything appended so far. */
  async flush(): Promise<void> {
    this.assertWritable();
    this.clearSyncTimer();
    try {
      await this.journal.sync();
    } catch (error) {
      throw this.fail('fsync', error);
    }
  }

  /** Flushes, waits for a snapshot in progress, closes the journal and releases the lock. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.clearSyncTimer();
      try {
        await this.snapshotChain;
        await this.journal.close();
      } finally {
        this.lock.release();
      }
    })();
    return this.closing;
  }

  private scheduleSync(): void {
    if (this.fsyncTimer !== null || this.settings.fsyncIntervalMs === 0) return;
    this.fsyncTimer = setTimeout(() => {
      this.fsyncTimer = null;
      this.journal.sync().catch((error: unknown) => this.fail('fsync', error));
    }, this.settings.fsyncIntervalMs);
    // A pending fsync must not keep the process alive; close() flushes on a clean shutdown.
    this.fsyncTimer.unref();
  }

  private clearSyncTimer(): void {
    if (this.fsyncTimer === null) return;
    clearTimeout(this.fsyncTimer);
    this.fsyncTimer = null;
  }

  /** Throws what append() would throw before it writes: closed, or failed since an earlier journal error. */
  assertWritable(): void {
    if (this.closing !== null) {
      throw new PersistenceError('StoreClosed', `the store for ${this.dir} is closed`, { path: this.dir });
    }
    if (this.failure !== null) throw this.failure;
  }

  /** After a failed write or fsync, memory and disk may disagree, so every later write is refused. */
  private fail(operation: 'write' | 'fsync', error: unknown): PersistenceError {
    if (this.failure === null) {
      this.failure = new PersistenceError(
        'JournalWriteFailed',
        `journal ${operation} to ${this.journal.path} failed (${String(error)}); writes are refused from now on. ` +
          `Fix the disk (space, permissions) and restart the server; it recovers what reached the journal.`,
        { path: this.journal.path, cause: error },
      );
      this.logger.warn(
        { path: this.journal.path, err: error },
        'journal I/O failed; refusing further writes',
      );
    }
    return this.failure;
  }
}

async function ensureDirectory(dir: string): Promise<void> {
  const notDirectory = (cause?: unknown): PersistenceError =>
    new PersistenceError(
      'DbPathNotDirectory',
      `dbpath ${dir} exists but is not a directory; pass a directory`,
      {
        path: dir,
        cause,
      },
    );
  try {
    if (!(await stat(dir)).isDirectory()) throw notDirectory();
    return;
  } catch (error) {
    if (error instanceof PersistenceError) throw error;
    if (isErrnoCode(error, 'ENOTDIR')) throw notDirectory(error);
    if (!isErrnoCode(error, 'ENOENT')) throw error;
  }
  await mkdir(dir, { recursive: true });
}
