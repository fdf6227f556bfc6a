import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DiskStore } from '../../../../src/embedded/persistence/disk-store.js';
import { insertedIds } from './sample-entries.js';
import { useTempDir } from './temp-dir.js';

const temp = useTempDir();
const quiet = { warn: () => {}, info: () => {} };
const fixture = fileURLToPath(new URL('./fixtures/append-and-hang.ts', import.meta.url));

async function openStore(dir: string) {
  const opened = await DiskStore.open(dir, { logger: quiet });
  temp.onCleanup(() => opened.store.close());
  return opened;
}

function startChild(args: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  temp.onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  if (child.pid === undefined) throw new Error('child did not start');
  return child.pid;
}

describe('dbpath lock', () => {
  it('refuses a second open of the same directory in this process, naming directory and pid', async () => {
    await openStore(temp.path);
    await expect(DiskStore.open(temp.path, { logger: quiet })).rejects.toMatchObject({
      code: 'DbPathLocked',
      message: expect.stringMatching(new RegExp(`${temp.path}.*process ${process.pid}`)) as unknown,
    });
  });

  it('can be reopened after close', async () => {
    const { store } = await openStore(temp.path);
    await store.close();
    const reopened = await openStore(temp.path);
    expect(await readFile(join(temp.path, 'mongod.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await reopened.store.close();
  });

  it('refuses a directory locked by another live process', async () => {
    const holder = startChild(['-e', 'setInterval(() => {}, 1000)']);
    await writeFile(join(temp.path, 'mongod.lock'), `${holder.pid}\n`);
    await expect(DiskStore.open(temp.path, { logger: quiet })).rejects.toThrow(
      new RegExp(`in use by process ${holder.pid}`),
    );
  });

  it('takes over a stale lock whose process is gone, and a garbled one', async () => {
    await writeFile(join(temp.path, 'mongod.lock'), `${await deadPid()}\n`);
    const { store } = await openStore(temp.path);
    await store.close();

    await writeFile(join(temp.path, 'mongod.lock'), '');
    await openStore(temp.path);
    expect(await readFile(join(temp.path, 'mongod.lock'), 'utf8')).toBe(`${process.pid}\n`);
  });

  it('takes over a lock naming this process when this process does not hold it (pid reuse)', async () => {
    await writeFile(join(temp.path, 'mongod.lock'), `${process.pid}\n`);
    await expect(openStore(temp.path)).resolves.toBeDefined();
  });

  it('after the holder is killed, recovers every entry it wrote and takes the lock', async () => {
    const child = startChild(['--import', 'tsx', fixture, temp.path, '300']);
    const [output] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(output.toString()).toBe('appended\n');
    await expect(DiskStore.open(temp.path, { logger: quiet })).rejects.toMatchObject({
      code: 'DbPathLocked',
    });
    child.kill('SIGKILL');
    await once(child, 'exit');

    const { recovered } = await openStore(temp.path);
    expect(insertedIds(recovered.journal)).toEqual(Array.from({ length: 300 }, (_, n) => n));
  }, 30_000);
});
