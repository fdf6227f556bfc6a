// `mongod.lock`: one server per dbpath. Holds the owner's pid; a lock whose pid is no longer alive is stale
// (the owner crashed) and is taken over.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isErrnoCode } from './is-errno-code.js';
import { PersistenceError } from './persistence-error.js';

export const LOCK_FILE_NAME = 'mongod.lock';

// Locks held by this process. A lock file naming our own pid but absent here was left by an earlier process that
// had the same pid (common in containers, where the server is often pid 1), so it is stale.
const heldByThisProcess = new Set<string>();

export class DirLock {
  private released = false;

  private constructor(
    readonly dir: string,
    private readonly lockPath: string,
  ) {}

  /** Takes the lock on `dir` (which must exist) or throws DbPathLocked naming the holder's pid. */
  static acquire(dir: string): DirLock {
    const absoluteDir = resolve(dir);
    const lockPath = join(absoluteDir, LOCK_FILE_NAME);
    if (heldByThisProcess.has(absoluteDir)) throw lockedError(absoluteDir, lockPath, process.pid);
    // Two attempts: the second follows the removal of a stale lock. Another process racing for the same stale
    // lock makes one of us fail on the exclusive create ('wx'), which is the correct outcome.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
        heldByThisProcess.add(absoluteDir);
        return new DirLock(absoluteDir, lockPath);
      } catch (error) {
        if (!isErrnoCode(error, 'EEXIST')) throw error;
      }
      const holder = readHolderPid(lockPath);
      if (holder !== null && holder !== process.pid && isProcessAlive(holder)) {
        throw lockedError(absoluteDir, lockPath, holder);
      }
      removeIfPresent(lockPath);
    }
    throw lockedError(absoluteDir, lockPath, readHolderPid(lockPath));
  }

  /** Removes the lock file. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldByThisProcess.delete(this.dir);
    // Only remove the file when it still names us, so a lock taken over by someone else survives.
    if (readHolderPid(this.lockPath) === process.pid) removeIfPresent(this.lockPath);
  }
}

function lockedError(dir: string, lockPath: string, pid: number | null): PersistenceError {
  return new PersistenceError(
    'DbPathLocked',
    `dbpath ${dir} is in use by process ${pid ?? 'unknown'} (lock file ${lockPath}). Stop that server, or ` +
      `delete the lock file if no server is using this directory.`,
    { path: dir },
  );
}

/** The pid in the lock file; null when the file is gone, empty or garbled (a crash while writing it). */
function readHolderPid(lockPath: string): number | null {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (error) {
    if (isErrnoCode(error, 'ENOENT')) return null;
    throw error;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return isErrnoCode(error, 'EPERM');
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (!isErrnoCode(error, 'ENOENT')) throw error;
  }
}
