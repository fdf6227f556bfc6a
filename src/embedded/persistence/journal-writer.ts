// The open journal file. Writes are synchronous (the bytes reach the OS before append() returns, so a crash of
// this process loses nothing); fsync is asynchronous and coalesced, so a power cut loses at most the writes since
// the last completed fsync.
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDirectory, fsyncDirectorySync } from './fsync-directory.js';
import type { PersistenceIo } from './persistence-io.js';

export class JournalWriter {
  private readonly fd: number;
  private writtenBytes: number;
  private syncedBytes: number;
  /** A freshly created file is durable only once its directory entry is: the first sync fsyncs the directory. */
  private directoryDirty: boolean;
  /** Syncs run one after another, so close() can wait for all of them before closing the descriptor. */
  private syncChain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    readonly generation: number,
    fd: number,
    bytes: number,
    created: boolean,
    private readonly io: PersistenceIo,
  ) {
    this.fd = fd;
    this.writtenBytes = bytes;
    this.syncedBytes = created ? 0 : bytes;
    this.directoryDirty = created;
  }

  /** Opens (creating if needed) a journal for appending; `existingBytes` is its current, already valid size. */
  static open(path: string, generation: number, existingBytes: number, io: PersistenceIo): JournalWriter {
    const created = existingBytes === 0;
    return new JournalWriter(path, generation, openSync(path, 'a'), existingBytes, created, io);
  }

  /** Size of the file including everything written. */
  get bytes(): number {
    return this.writtenBytes;
  }

  /**
   * Writes `data` fully, then fsyncs it when `sync`. On failure the file is cut back to its previous size, so a
   * half-written record never sits in front of later ones and a refused batch is not replayed, and the error is
   * rethrown.
   */
  write(data: Buffer, options: { sync: boolean }): void {
    const sizeBefore = this.writtenBytes;
    try {
      let offset = 0;
      while (offset < data.length) offset += this.io.writeSync(this.fd, data, offset, data.length - offset);
      this.writtenBytes += data.length;
      if (options.sync) this.syncNow();
    } catch (error) {
      // The caller undoes the batch in memory, so the bytes must not survive a restart either.
      this.writtenBytes = sizeBefore;
      try {
        ftruncateSync(this.fd, sizeBefore);
      } catch {
        // The original error is the one worth reporting; the store refuses further writes either way.
      }
      throw error;
    }
  }

  /** Makes everything written so far durable. Concurrent calls are coalesced. */
  sync(): Promise<void> {
    this.syncChain = this.syncChain.then(async () => {
      if (this.closed) return;
      const target = this.writtenBytes;
      if (this.directoryDirty) {
        await fsyncDirectory(dirname(this.path));
        this.directoryDirty = false;
      }
      if (target <= this.syncedBytes) return;
      await this.io.fsync(this.fd);
      this.syncedBytes = Math.max(this.syncedBytes, target);
    });
    return this.syncChain;
  }

  /** Blocking sync, for the moments when order across files matters (journal rotation) or fsync is per write. */
  syncNow(): void {
    if (this.directoryDirty) {
      fsyncDirectorySync(dirname(this.path));
      this.directoryDirty = false;
    }
    if (this.writtenBytes <= this.syncedBytes) return;
    this.io.fsyncSync(this.fd);
    this.syncedBytes = this.writtenBytes;
  }

  /** Syncs, waits for in-flight syncs (they use the descriptor), then closes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sync();
    } finally {
      if (!this.closed) {
        this.closed = true;
        closeSync(this.fd);
      }
    }
  }
}
