// Failures of the `--dbpath` store. They stop the server from starting (or from writing), so each message
// names the path involved and what the operator can do about it.

/** Every persistence failure code, in one place so a code is never typed twice. */
export const PersistenceErrorCodes = {
  /** The dbpath exists but is not a directory. */
  DbPathNotDirectory: 'DbPathNotDirectory',
  /** Another live process holds `mongod.lock` in the dbpath. */
  DbPathLocked: 'DbPathLocked',
  /** The snapshot file is unreadable; it is written atomically, so this means outside damage. */
  CorruptSnapshot: 'CorruptSnapshot',
  /** A journal write or fsync failed; the store refuses further writes because the disk no longer matches memory. */
  JournalWriteFailed: 'JournalWriteFailed',
  /** The store was used after close(). */
  StoreClosed: 'StoreClosed',
} as const;

export type PersistenceErrorCode = keyof typeof PersistenceErrorCodes;

export interface PersistenceErrorOptions {
  /** The file or directory the failure is about. */
  path: string;
  cause?: unknown;
}

/** Terminal: retrying the same operation on the same directory fails the same way until an operator acts. */
export class PersistenceError extends Error {
  readonly code: PersistenceErrorCode;
  readonly path: string;

  constructor(code: PersistenceErrorCode, message: string, options: PersistenceErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PersistenceError';
    this.code = code;
    this.path = options.path;
  }
}
