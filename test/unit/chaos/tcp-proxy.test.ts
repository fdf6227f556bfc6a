// The chaos suite's TCP proxy against a local echo server: what a client and the server see in each mode.
import { once } from 'node:events';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../chaos/tcp-proxy.js';

/** An echo server that also keeps every accepted socket and what it received. */
interface EchoServer {
  readonly port: number;
  readonly sockets: { socket: Socket; received: string; closed: boolean }[];
  close(): Promise<void>;
}

async function startEchoServer(): Promise<EchoServer> {
  const sockets: EchoServer['sockets'] = [];
  const server: Server = createServer((socket) => {
    const entry = { socket, received: '', closed: false };
    sockets.push(entry);
    socket.on('error', () => undefined);
    socket.on('close', () => (entry.closed = true));
    socket.on('data', (chunk: Buffer) => {
      entry.received += chunk.toString();
      socket.write(chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: async () => {
      for (const { socket } of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client socket that records what it got and how it ended. */
interface Client {
  readonly socket: Socket;
  received: string;
  ended: boolean;
  closed: boolean;
  errorCode: string | undefined;
}

async function connect(port: number): Promise<Client> {
  const socket = new Socket();
  const client: Client = { socket, received: '', ended: false, closed: false, errorCode: undefined };
  socket.on('data', (chunk: Buffer) => (client.received += chunk.toString()));
  socket.on('end', () => (client.ended = true));
  socket.on('close', () => (client.closed = true));
  socket.on('error', (error: NodeJS.ErrnoException) => (client.errorCode = error.code));
  socket.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return client;
}

let echo: EchoServer;
let proxy: TcpProxy;
/** A second proxy that always passes: a round trip through it shows the event loops have moved on. */
let control: TcpProxy;
const clients: Client[] = [];

async function client(port = proxy.port): Promise<Client> {
  const connected = await connect(port);
  clients.push(connected);
  return connected;
}

/** One echo round trip through the control proxy: anything the proxy had forwarded would have arrived by now. */
async function roundTrip(): Promise<void> {
  const probe = await client(control.port);
  probe.socket.write('ping');
  await expect.poll(() => probe.received).toBe('ping');
}

beforeEach(async () => {
  echo = await startEchoServer();
  proxy = await TcpProxy.start({ targetHost: '127.0.0.1', targetPort: echo.port });
  control = await TcpProxy.start({ targetHost: '127.0.0.1', targetPort: echo.port });
});

afterEach(async () => {
  for (const { socket } of clients.splice(0)) socket.destroy();
  await proxy.close();
  await control.close();
  await echo.close();
});

describe('TcpProxy', () => {
  it('forwards both ways in pass mode, and the FIN too', async () => {
    const peer = await client();
    peer.socket.write('hello');
    await expect.poll(() => peer.received).toBe('hello');
    expect(echo.sockets.map((socket) => socket.received)).toContain('hello');
    peer.socket.end();
    await expect.poll(() => echo.sockets.find((socket) => socket.received === 'hello')?.closed).toBe(true);
    await expect.poll(() => peer.closed).toBe(true);
  });

  it('drop: discards every byte both ways, sends no FIN or RST, and the connection stays dead after heal', async () => {
    const peer = await client();
    peer.socket.write('before');
    await expect.poll(() => peer.received).toBe('before');
    const server = echo.sockets.find((socket) => socket.received === 'before')!;

    proxy.setMode('drop');
    peer.socket.write('lost-to-server');
    server.socket.write('lost-to-client');
    await expect.poll(() => proxy.traffic.received).toBe(2 * 'before'.length + 2 * 'lost-to-server'.length);
    await roundTrip();
    expect(server.received).toBe('before');
    expect(peer.received).toBe('before');

    // A new connection is accepted but never reaches the server.
    const serversBefore = echo.sockets.length;
    const late = await client();
    late.socket.write('new');
    await expect.poll(() => proxy.traffic.received).toBe(40 + 'new'.length);
    await roundTrip();
    expect(echo.sockets.length).toBe(serversBefore + 1); // the round trip's own connection only
    expect(late.received).toBe('');

    proxy.setMode('pass');
    peer.socket.write('after');
    await expect.poll(() => proxy.traffic.received).toBe(40 + 'new'.length + 'after'.length);
    const fresh = await client();
    fresh.socket.write('fresh');
    await expect.poll(() => fresh.received).toBe('fresh');
    await roundTrip();
    expect(server.received).toBe('before');
    expect(peer.received).toBe('before');
    expect(late.received).toBe('');
    for (const stale of [peer, late]) expect(stale).toMatchObject({ ended: false, closed: false });
    expect(server.closed).toBe(false);
  });

  it('stall: holds the bytes of both directions and delivers them whole and in order on heal', async () => {
    const peer = await client();
    peer.socket.write('0');
    await expect.poll(() => peer.received).toBe('0');
    const server = echo.sockets.find((socket) => socket.received === '0')!;

    proxy.setMode('stall');
    for (const part of ['a', 'b', 'c']) peer.socket.write(part);
    server.socket.write('X');
    server.socket.write('Y');
    await expect.poll(() => proxy.traffic.received).toBe(2 + 3 + 2);
    await roundTrip();
    expect(server.received).toBe('0');
    expect(peer.received).toBe('0');

    proxy.setMode('pass');
    await expect.poll(() => server.received).toBe('0abc');
    // Held server bytes first, then the echo of the held client bytes.
    await expect.poll(() => peer.received).toBe('0XYabc');
    expect(peer).toMatchObject({ ended: false, closed: false });
  });

  it('stall: a FIN sent during the stall arrives after the held bytes', async () => {
    const peer = await client();
    peer.socket.write('0');
    await expect.poll(() => peer.received).toBe('0');
    const server = echo.sockets.find((socket) => socket.received === '0')!;
    proxy.setMode('stall');
    peer.socket.end('last');
    await expect.poll(() => proxy.traffic.received).toBe(2 + 4);
    await roundTrip();
    expect(server.closed).toBe(false);
    proxy.setMode('pass');
    await expect.poll(() => server.received).toBe('0last');
    await expect.poll(() => server.closed).toBe(true);
  });

  it('reset: RSTs open connections on both sides and resets new ones until healed', async () => {
    const peer = await client();
    peer.socket.write('x');
    await expect.poll(() => peer.received).toBe('x');
    const server = echo.sockets.find((socket) => socket.received === 'x')!;

    proxy.setMode('reset');
    await expect.poll(() => peer.errorCode).toBe('ECONNRESET');
    expect(peer.closed).toBe(true);
    await expect.poll(() => server.closed).toBe(true);

    const refused = new Socket();
    const refusedError = new Promise<string | undefined>((resolve) =>
      refused.once('error', (error: NodeJS.ErrnoException) => resolve(error.code)),
    );
    refused.connect(proxy.port, '127.0.0.1');
    refused.write('nothing');
    await expect(refusedError).resolves.toMatch(/ECONNRESET|EPIPE/);
    refused.destroy();
    expect(proxy.openConnections).toBe(0);

    proxy.setMode('pass');
    const fresh = await client();
    fresh.socket.write('back');
    await expect.poll(() => fresh.received).toBe('back');
  });
});
