// Shared by the embedded-server tests: a private server per test file, a connected driver client, unique
// database names, a seeded PRNG and helpers to assert MongoDB error codes.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as connectSocket, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON, type Document } from 'bson';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import { pino } from 'pino';
import { expect } from 'vitest';
import {
  startEmbeddedMongoServer,
  type EmbeddedMongoOptions,
  type EmbeddedMongoServer,
} from '../../../src/embedded/index.js';

/** Malformed-input tests make the server log warnings on purpose; keep the output quiet unless asked. */
export const quietLogger = pino({ level: process.env.SAGASTREAM_TEST_LOG_LEVEL ?? 'silent' });

export interface ServerFixture {
  readonly server: EmbeddedMongoServer;
  /** A connected client on `server.uri`; closed by `stop()`. */
  readonly client: MongoClient;
  /** Extra clients opened with `connect()`, closed by `stop()`. */
  connect(uri?: string, options?: MongoClientOptions): Promise<MongoClient>;
  stop(): Promise<void>;
}

/** Starts a server of its own and connects a client to it. */
export async function withServer(options: EmbeddedMongoOptions = {}): Promise<ServerFixture> {
  const server = await startEmbeddedMongoServer({ logger: quietLogger, ...options });
  const clients: MongoClient[] = [];
  const connect = async (uri = server.uri, clientOptions: MongoClientOptions = {}): Promise<MongoClient> => {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000, ...clientOptions });
    clients.push(client);
    await client.connect();
    return client;
  };
  const client = await connect();
  return {
    server,
    client,
    connect,
    stop: async () => {
      await Promise.allSettled(clients.splice(0).map((c) => c.close()));
      await server.stop();
    },
  };
}

/** A database name no other test uses: `${prefix}_${random}`. */
export function uniqueDbName(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** A fresh directory under the OS temp dir and a function that removes it. */
export async function temporaryDirectory(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** mulberry32: a small seeded PRNG so random inputs are reproducible from the seed in the test name. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

/** Asserts that `promise` rejects with a MongoDB error carrying `code`; returns the error. */
export async function expectMongoError(
  promise: Promise<unknown>,
  code: number,
): Promise<Error & Record<string, unknown>> {
  const error = await rejectionOf(promise);
  expect(error.code, `${error.name}: ${error.message}`).toBe(code);
  return error;
}

let nextRequestId = 1;

/** A hand-made OP_MSG frame with one kind-0 section, optionally with a CRC-32C checksum slot. */
export function encodeOpMsg(command: Document, options: { flags?: number; requestId?: number } = {}): Buffer {
  const body = BSON.serialize(command);
  const flags = options.flags ?? 0;
  const checksumLength = flags & 1 ? 4 : 0;
  const length = 16 + 4 + 1 + body.length + checksumLength;
  const frame = Buffer.alloc(length);
  frame.writeInt32LE(length, 0);
  frame.writeInt32LE(options.requestId ?? nextRequestId++, 4);
  frame.writeInt32LE(0, 8);
  frame.writeInt32LE(2013, 12);
  frame.writeUInt32LE(flags, 16);
  frame.writeUInt8(0, 20);
  frame.set(body, 21);
  return frame;
}

/** Decodes an OP_MSG reply frame (kind-0 body only). */
export function decodeOpMsgReply(frame: Buffer): { responseTo: number; opCode: number; body: Document } {
  const opCode = frame.readInt32LE(12);
  const bodyStart = 21;
  const size = frame.readInt32LE(bodyStart);
  return {
    responseTo: frame.readInt32LE(8),
    opCode,
    body: BSON.deserialize(frame.subarray(bodyStart, bodyStart + size)),
  };
}

/**
 * A raw TCP connection to the server that collects whole reply frames. `closed` resolves when the server
 * (or we) closed the socket.
 */
export class RawConnection {
  private buffered = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private readonly waiters: (() => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= this.buffered.readInt32LE(0)) {
        const length = this.buffered.readInt32LE(0);
        this.frames.push(this.buffered.subarray(0, length));
        this.buffered = this.buffered.subarray(length);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('error', () => {}); // a reset by the server is an expected outcome in these tests
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        resolve();
        for (const wake of this.waiters.splice(0)) wake();
      }),
    );
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connectSocket({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readyState === 'closed';
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /** The next reply frame, or null when the socket closed or `timeoutMs` passed first. */
  async nextFrame(timeoutMs = 5_000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.socket.destroyed || Date.now() >= deadline) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a command as OP_MSG and returns the decoded reply body. */
  async command(command: Document): Promise<Document> {
    const requestId = nextRequestId++;
    await this.write(encodeOpMsg(command, { requestId }));
    const frame = await this.nextFrame();
    if (!frame) throw new Error(`no reply to ${Object.keys(command)[0]}`);
    const reply = decodeOpMsgReply(frame);
    expect(reply.responseTo).toBe(requestId);
    return reply.body;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * The BSON type name of a value (`ObjectId`, `Timestamp`, `Long`...). Compares by `_bsontype` because the driver
 * (CommonJS) and the tests (ESM) load different copies of the `bson` classes, so `instanceof` across them fails.
 */
export function bsonTypeOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const type = (value as { _bsontype?: unknown })._bsontype;
  return typeof type === 'string' ? type : undefined;
}
