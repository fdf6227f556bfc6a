// A PersistenceIo whose disk fills up on command: journal writes store a few bytes and then fail with ENOSPC,
// snapshot writes fail after some records. Everything else goes to the real file system.
import type { FileHandle } from 'node:fs/promises';
import {
  nodePersistenceIo,
  type PersistenceIo,
} from '../../../../src/embedded/persistence/persistence-io.js';

function noSpace(syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), {
    code: 'ENOSPC',
    errno: -28,
    syscall,
  });
}

function ioError(syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: i/o error, ${syscall}`), { code: 'EIO', errno: -5, syscall });
}

export class FaultyIo implements PersistenceIo {
  /** Bytes journal writes may still store before they fail; null while the journal is healthy. */
  private journalBytesLeft: number | null = null;
  /** Snapshot records that may still be written before they fail; null while snapshots are healthy. */
  private snapshotRecordsLeft: number | null = null;
  /** Journal writes refused so far. */
  journalFailures = 0;
  /** Snapshot record writes refused so far. */
  snapshotFailures = 0;
  private fsyncsFail = false;

  /** From now on the journal takes `bytesBeforeFailure` more bytes (a torn record), then every write fails. */
  failJournalWrites(bytesBeforeFailure = 0): void {
    this.journalBytesLeft = bytesBeforeFailure;
  }

  /** From now on snapshots take `recordsBeforeFailure` more records, then every record write fails. */
  failSnapshotWrites(recordsBeforeFailure = 0): void {
    this.snapshotRecordsLeft = recordsBeforeFailure;
  }

  /** From now on every journal fsync fails with EIO (the write before it succeeds). */
  failFsyncs(): void {
    this.fsyncsFail = true;
  }

  /** Space was freed. */
  heal(): void {
    this.journalBytesLeft = null;
    this.snapshotRecordsLeft = null;
    this.fsyncsFail = false;
  }

  writeSync(fd: number, data: Buffer, offset: number, length: number): number {
    if (this.journalBytesLeft === null) return nodePersistenceIo.writeSync(fd, data, offset, length);
    const allowed = Math.min(length, this.journalBytesLeft);
    if (allowed === 0) {
      this.journalFailures += 1;
      throw noSpace('write');
    }
    this.journalBytesLeft -= allowed;
    return nodePersistenceIo.writeSync(fd, data, offset, allowed);
  }

  fsyncSync(fd: number): void {
    if (this.fsyncsFail) throw ioError('fsync');
    nodePersistenceIo.fsyncSync(fd);
  }

  fsync(fd: number): Promise<void> {
    if (this.fsyncsFail) return Promise.reject(ioError('fsync'));
    return nodePersistenceIo.fsync(fd);
  }

  async writeSnapshotRecord(file: FileHandle, record: Buffer): Promise<void> {
    if (this.snapshotRecordsLeft !== null) {
      if (this.snapshotRecordsLeft === 0) {
        this.snapshotFailures += 1;
        throw noSpace('write');
      }
      this.snapshotRecordsLeft -= 1;
    }
    await nodePersistenceIo.writeSnapshotRecord(file, record);
  }
}
