// Test doubles for the Redis health check: a clock whose timers run only when told, and a TCP server that speaks
// just enough RESP for ioredis to become ready, then can fall silent: it keeps the socket open and never writes
// another byte (a half-open link, as far as the client can tell).
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { HealthScheduler } from '../../../src/connections/health-scheduler.js';

export class FakeScheduler implements HealthScheduler {
  private now = 0;
  private timers: { at: number; callback: () => void }[] = [];

  setTimeout(callback: () => void, ms: number): () => void {
    const timer = { at: this.now + ms, callback };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((other) => other !== timer));
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Moves the clock on, running every timer that falls due (in order, including ones they schedule). */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.now = due.at;
      due.callback();
    }
    this.now = until;
  }
}

/** The commands of one RESP request (`*N` then N bulk strings), or null until it is complete. */
function parseRequest(buffer: Buffer): { args: string[]; rest: Buffer } | null {
  let offset = 0;
  const line = (): string | null => {
    const end = buffer.indexOf('\r\n', offset);
    if (end < 0) return null;
    const text = buffer.subarray(offset, end).toString();
    offset = end + 2;
    return text;
  };
  const header = line();
  if (header === null) return null;
  const count = Number(header.slice(1));
  const args: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const length = line();
    if (length === null) return null;
    const size = Number(length.slice(1));
    if (buffer.length < offset + size + 2) return null;
    args.push(buffer.subarray(offset, offset + size).toString());
    offset += size + 2;
  }
  return { args, rest: buffer.subarray(offset) };
}

const INFO = '# Server\r\nredis_version:7.2.0\r\nloading:0\r\n';

export class FakeRedisServer {
  /** Commands received, upper-cased names (PING, INFO, CLIENT, …). */
  readonly received: string[] = [];
  readonly sockets = new Set<Socket>();
  /** Connections accepted since the start. */
  accepted = 0;
  private silent = false;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeRedisServer> {
    const server = createServer();
    const fake = new FakeRedisServer(server);
    server.on('connection', (socket) => fake.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** From now on no socket gets a byte back; they stay open. */
  fallSilent(): void {
    this.silent = true;
  }

  answerAgain(): void {
    this.silent = false;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.accepted += 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let request = parseRequest(buffer); request; request = parseRequest(buffer)) {
        buffer = request.rest;
        const name = (request.args[0] ?? '').toUpperCase();
        this.received.push(name);
        if (this.silent) continue;
        if (name === 'PING') socket.write('+PONG\r\n');
        else if (name === 'INFO') socket.write(`$${Buffer.byteLength(INFO)}\r\n${INFO}\r\n`);
        else socket.write('+OK\r\n');
      }
    });
  }
}

/** A server that accepts connections and never writes a byte. */
export async function blackHoleServer(): Promise<{
  port: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    // Reads and discards what arrives (a paused socket would never see the client's FIN either).
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
