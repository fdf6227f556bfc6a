// A fresh directory per test, removed afterwards along with anything a test left open in it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export interface TempDir {
  readonly path: string;
  /** Registers cleanup (e.g. closing a store) that runs before the directory is removed. */
  onCleanup(cleanup: () => Promise<void>): void;
}

export function useTempDir(): TempDir {
  let path = '';
  let cleanups: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    path = await mkdtemp(join(tmpdir(), 'sagastream-persistence-'));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
    await rm(path, { recursive: true, force: true });
  });
  return {
    get path() {
      return path;
    },
    onCleanup(cleanup) {
      cleanups.push(cleanup);
    },
  };
}
