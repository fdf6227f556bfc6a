// End-to-end: the long-running CLI commands start real servers, print their ready line, and stop cleanly
// on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_SAGAS } from './e2e/cli-process.js';

const bin = fileURLToPath(new URL('../../bin/sagastream.js', import.meta.url));

interface RunningCli {
  readonly child: ChildProcess;
  readonly readyLine: string;
  exit(): Promise<number | null>;
}

const running: ChildProcess[] = [];
const directories: string[] = [];

afterEach(async () => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Starts the CLI and resolves with the first stdout line, which must be the ready line. */
function startCli(args: string[], env: Record<string, string | undefined> = {}): Promise<RunningCli> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, MONGODB_URL: undefined, REDIS_URL: undefined, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline !== -1) resolve({ child, readyLine: stdout.slice(0, newline), exit: () => exited });
    });
    void exited.then((code) => reject(new Error(`CLI exited with ${String(code)} before ready:\n${stderr}`)));
  });
}

async function stop(cli: RunningCli): Promise<number | null> {
  cli.child.kill('SIGTERM');
  return cli.exit();
}

function urlIn(line: string, scheme: string): string {
  const url = line.split(' ').find((word) => word.startsWith(scheme));
  if (url === undefined) throw new Error(`no ${scheme} URL in: ${line}`);
  return url;
}

/** A fresh --dbpath directory, removed after the test. */
async function temporaryDbpath(): Promise<string> {
  const dbpath = await mkdtemp(join(tmpdir(), 'sagastream-cli-'));
  directories.push(dbpath);
  return dbpath;
}

function startMongoCli(dbpath: string, port = '0'): Promise<RunningCli> {
  return startCli(['mongo', '--port', port, '--dbpath', dbpath]);
}

describe('sagastream mongo', () => {
  it(
    'serves the driver, keeps data with --dbpath across a restart, and exits 0 on SIGTERM',
    { timeout: 60_000 },
    async () => {
      const dbpath = await temporaryDbpath();

      const first = await startMongoCli(dbpath);
      expect(first.readyLine).toMatch(
        /^embedded MongoDB ready at mongodb:\/\/127\.0\.0\.1:\d+\/\?replicaSet=rs0$/,
      );
      const client = new MongoClient(urlIn(first.readyLine, 'mongodb://'));
      await client
        .db('cli')
        .collection('sagas')
        .insertOne({ _id: 'saga-1' as never, state: 'running' });
      await client.close();
      expect(await stop(first)).toBe(0);

      const second = await startMongoCli(dbpath);
      const reader = new MongoClient(urlIn(second.readyLine, 'mongodb://'));
      expect(await reader.db('cli').collection('sagas').findOne({})).toEqual({
        _id: 'saga-1',
        state: 'running',
      });
      await reader.close();
      expect(await stop(second)).toBe(0);
    },
  );
  it(
    'lets a client that stays connected carry on after each of several restarts on the same port',
    { timeout: 120_000 },
    async () => {
      const dbpath = await temporaryDbpath();
      let server = await startMongoCli(dbpath);
      const url = urlIn(server.readyLine, 'mongodb://');
      const port = new URL(url).port;
      // Like a worker's client: a write loop and an open change stream on one client that lives through it all.
      const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
      const counters = client.db('cli').collection<{ _id: string; n?: number; restart?: number }>('counters');
      const stream = counters.watch();
      stream.on('change', () => {});
      stream.on('error', () => {}); // resumable errors between restarts are expected
      let writing = true;
      const loop = (async () => {
        while (writing) {
          await counters.updateOne({ _id: 'loop' }, { $inc: { n: 1 } }, { upsert: true }).catch(() => {});
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      try {
        for (let restart = 1; restart <= 4; restart++) {
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          expect(await stop(server)).toBe(0);
          server = await startMongoCli(dbpath, port);
          // Before the embedded server spoke the streaming monitor protocol, the driver could start a heartbeat
          // on a connection the server had just closed and wait on it for good: the server stayed Unknown and
          // this write failed server selection although the server was back.
          await counters.updateOne({ _id: `after-${restart}` }, { $set: { restart } }, { upsert: true });
        }
        expect(await counters.countDocuments({ _id: /^after-/ })).toBe(4);
      } finally {
        writing = false;
        await loop;
        await stream.close().catch(() => {});
        await client.close();
        await stop(server);
      }
    },
  );
});

describe('sagastream dev', () => {
  it(
    'starts MongoDB and Redis, prints both URLs and the retention on one line, and stops both on SIGTERM',
    { timeout: 60_000 },
    async () => {
      const cli = await startCli(['dev'], { SAGAS: EXAMPLE_SAGAS, SAGA_RETENTION: '36h' });
      expect(cli.readyLine).toMatch(
        /^sagastream dev stack ready: MongoDB mongodb:\/\/\S+ .*Redis redis:\/\/\S+ .*, retention 36h, admin /,
      );
      const mongoUrl = urlIn(cli.readyLine, 'mongodb://');
      const redisUrl = urlIn(cli.readyLine, 'redis://');

      const mongo = new MongoClient(mongoUrl);
      expect((await mongo.db('admin').command({ ping: 1 })).ok).toBe(1);
      await mongo.close();
      const redis = new Redis(redisUrl);
      expect(await redis.ping()).toBe('PONG');
      redis.disconnect();

      expect(await stop(cli)).toBe(0);
      const after = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null });
      after.on('error', () => {});
      await expect(after.connect()).rejects.toThrow();
    },
  );
});
