// A TCP proxy between a runtime and MongoDB that decodes every command passing through it: how a test lists the
// queries the engine, the watcher, the sweeper and the admin API really send.
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import type { Document } from 'bson';
import { decodeRequest } from '../../../src/embedded/wire/wire-protocol.js';

export interface RecordedCommand {
  readonly name: string;
  readonly db: string;
  readonly command: Document;
}

export class CommandRecorder {
  readonly commands: RecordedCommand[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client: Socket) => this.relay(client));
  }

  /** A recorder in front of the single MongoDB server of `mongodbUrl`. */
  static async start(mongodbUrl: string): Promise<CommandRecorder> {
    const url = new URL(mongodbUrl);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new CommandRecorder(server, { host: url.hostname, port: Number(url.port || 27017) });
  }

  /**
   * The URL to give the runtime: `directConnection=true`, since the replica set's member list names the real server
   * and the driver would otherwise go there, around the proxy.
   */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `mongodb://127.0.0.1:${port}/?replicaSet=rs0&directConnection=true`;
  }

  private relay(client: Socket): void {
    const upstream = new Socket();
    this.sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        this.record(pending.subarray(0, length));
        pending = pending.subarray(length);
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    upstream.connect(this.target.port, this.target.host);
  }

  private record(frame: Buffer): void {
    const request = decodeRequest(frame);
    const name = Object.keys(request.command)[0] ?? '';
    this.commands.push({ name, db: request.db, command: request.command });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
