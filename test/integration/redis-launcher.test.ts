import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  findFreePort,
  REDIS_SERVER_NOT_FOUND_MESSAGE,
  RedisPortInUseError,
  startRedisServer,
  type RedisServer,
} from '../../src/embedded/redis-launcher.js';

const started: RedisServer[] = [];
const clients: Redis[] = [];
const directories: string[] = [];

async function start(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
  const server = await startRedisServer(options);
  started.push(server);
  return server;
}

function connect(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
  client.on('error', () => {}); // failures surface as rejected commands; no unhandled 'error' noise
  clients.push(client);
  return client;
}

async function temporaryDirectory(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sagastream-redis-'));
  directories.push(dir);
  return dir;
}

const listeners: Server[] = [];

afterEach(async () => {
  clients.splice(0).forEach((client) => client.disconnect());
  await Promise.all(listeners.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await Promise.all(started.splice(0).map((server) => server.stop()));
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('startRedisServer', () => {
  it('starts a Redis on a free loopback port that accepts commands', async () => {
    const server = await start();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const client = connect(server.url);
    await client.set('greeting', 'hello');
    expect(await client.get('greeting')).toBe('hello');
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
  });

  it('uses the requested port and refuses connections after stop', async () => {
    const port = await findFreePort('127.0.0.1');
    const server = await start({ port });
    expect(server.port).toBe(port);
    await server.stop();
    await server.stop(); // idempotent
    const client = connect(server.url);
    await expect(client.connect()).rejects.toThrow();
  });

  it('keeps data across restarts when given a directory', async () => {
    const dir = await temporaryDirectory();
    const first = await start({ dir });
    const writer = connect(first.url);
    expect(await writer.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    await writer.set('saga:1', 'compensating');
    await first.stop();

    const second = await start({ dir });
    expect(await connect(second.url).get('saga:1')).toBe('compensating');
  });

  it('gives two servers different ports', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(a.port).not.toBe(b.port);
  });

  it('explains how to install redis-server when it is missing', async () => {
    const emptyDir = await temporaryDirectory();
    const savedPath = process.env.PATH;
    process.env.PATH = emptyDir;
    try {
      await expect(startRedisServer()).rejects.toThrow(REDIS_SERVER_NOT_FOUND_MESSAGE);
    } finally {
      process.env.PATH = savedPath;
    }
    expect(REDIS_SERVER_NOT_FOUND_MESSAGE).toBe(
      'redis-server was not found on PATH. Install it with: apt-get install -y redis-server (Debian/Ubuntu) or set REDIS_URL to a running Redis 7.',
    );
  });

  it('refuses a port held by another Redis in one line, and leaves that Redis alone', async () => {
    const other = await start();
    const error = await startRedisServer({ port: other.port }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisPortInUseError);
    expect((error as Error).message).toBe(
      `redis-server cannot listen on 127.0.0.1:${other.port}: the port is already in use (another process listens there)`,
    );
    expect(await connect(other.url).ping()).toBe('PONG');
  });

  it('refuses a port held by a program that is not Redis', async () => {
    const listener = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    listeners.push(listener);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as { port: number };
    await expect(startRedisServer({ port })).rejects.toThrow(
      `redis-server cannot listen on 127.0.0.1:${port}: the port is already in use`,
    );
  });

  it('is not fooled by a Redis that answers on the port but is not the process it spawned', async () => {
    // The race this guards against: the port is free when checked, then another Redis takes it before the
    // child binds, and that Redis answers the readiness probe. Here the spawned process starts that other
    // Redis itself and stays alive without listening.
    const dir = await temporaryDirectory();
    const impostor = join(dir, 'redis-server');
    await writeFile(impostor, '#!/bin/sh\nredis-server "$@" &\nexec sleep 60\n');
    await chmod(impostor, 0o755);
    const port = await findFreePort('127.0.0.1');
    const error = await startRedisServer({ port, command: impostor }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisPortInUseError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^redis-server cannot listen on 127\\.0\\.0\\.1:${port}: .*another Redis answers there, pid \\d+\\)$`,
      ),
    );
    // What the failed attempt started is gone with it (its whole process group).
    await expect
      .poll(() =>
        connect(`redis://127.0.0.1:${port}`)
          .connect()
          .then(
            () => 'up',
            () => 'down',
          ),
      )
      .toBe('down');
  });
});
