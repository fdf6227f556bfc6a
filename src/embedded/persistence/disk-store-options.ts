import { z } from 'zod';
import { isPersistenceIo, type PersistenceIo } from './persistence-io.js';

/** Pino-compatible subset used for recovery reports and I/O failures. */
export interface DiskStoreLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const loggerSchema = z.custom<DiskStoreLogger>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<DiskStoreLogger>).warn === 'function' &&
    typeof (value as Partial<DiskStoreLogger>).info === 'function',
  { message: 'logger must have warn(obj, msg) and info(obj, msg) methods' },
);

export const diskStoreOptionsSchema = z.object({
  /**
   * Longest time an acknowledged write waits for fsync. A power cut (not a process crash: writes reach the OS
   * synchronously) loses at most this much. 0 fsyncs inside every append, which is slow but loses nothing.
   */
  fsyncIntervalMs: z.number().int().nonnegative().default(100),
  /** Journal size past which `needsSnapshot` turns true. */
  journalRotateBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  logger: loggerSchema.optional(),
  /** Test seam: the journal's and snapshot's file writes and fsyncs (the real file system by default). */
  io: z
    .custom<PersistenceIo>(isPersistenceIo, {
      message: 'io must have writeSync, fsyncSync, fsync and writeSnapshotRecord methods',
    })
    .optional(),
});

export type DiskStoreOptions = z.input<typeof diskStoreOptionsSchema>;
export type DiskStoreSettings = z.output<typeof diskStoreOptionsSchema>;

/** Without a logger, warnings (torn journal tails, failed fsyncs) still reach stderr as process warnings. */
export const fallbackLogger: DiskStoreLogger = {
  warn: (obj, msg) => process.emitWarning(`${msg} ${JSON.stringify(obj)}`, 'SagastreamPersistenceWarning'),
  info: () => {},
};
