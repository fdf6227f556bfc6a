// The file writes and fsyncs of the `--dbpath` store, behind one seam: tests hand in an implementation that fails
// (ENOSPC half-way through a journal record or a snapshot) instead of filling a real disk.
import { fsync, fsyncSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';

export interface PersistenceIo {
  /** Journal append, as `fs.writeSync`: writes up to `length` bytes of `data` from `offset`, returns how many. */
  writeSync(fd: number, data: Buffer, offset: number, length: number): number;
  /** Journal fsync inside an append (`fsyncIntervalMs: 0`) or at a rotation, as `fs.fsyncSync`. */
  fsyncSync(fd: number): void;
  /** The coalesced background journal fsync, as `fs.fsync`. */
  fsync(fd: number): Promise<void>;
  /** Writes one whole record to the snapshot's temp file. */
  writeSnapshotRecord(file: FileHandle, record: Buffer): Promise<void>;
}

const fsyncAsync = promisify(fsync);

/** The real file system. */
export const nodePersistenceIo: PersistenceIo = {
  writeSync: (fd, data, offset, length) => writeSync(fd, data, offset, length),
  fsyncSync: (fd) => fsyncSync(fd),
  fsync: (fd) => fsyncAsync(fd),
  writeSnapshotRecord: async (file, record) => {
    await file.write(record);
  },
};

/** Loose check for the options schema: an object with the four functions. */
export function isPersistenceIo(value: unknown): value is PersistenceIo {
  if (typeof value !== 'object' || value === null) return false;
  const io = value as Partial<Record<keyof PersistenceIo, unknown>>;
  return (
    typeof io.writeSync === 'function' &&
    typeof io.fsyncSync === 'function' &&
    typeof io.fsync === 'function' &&
    typeof io.writeSnapshotRecord === 'function'
  );
}
