// A TCP proxy that plays the network between one process and MongoDB or Redis. Its mode applies at once to every
// open connection and to new ones:
// - pass: bytes are forwarded;
// - drop: a middlebox that lost the connections' state. Every byte is discarded in both directions, no RST or
//   FIN is sent, and a connection that saw a drop stays a black hole for good (a later pass only serves new
//   connections); new connections are accepted but never reach the target;
// - stall: a partition that TCP retransmission bridges. Bytes (and FINs) are held and delivered whole, in order,
//   when the mode goes back to pass (drop discards what was held);
// - reset: every connection gets an RST and new connections are reset as soon as they are accepted.
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

export const PROXY_MODES = ['pass', 'drop', 'stall', 'reset'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

export interface TcpProxyOptions {
  readonly targetHost: string;
  readonly targetPort: number;
  /** Listen on this port (default: a free one). */
  readonly port?: number;
}

/** What one direction of a connection holds back while stalled: chunks, then possibly the FIN. */
type Held = (Buffer | 'end')[];

/** Byte counts over all connections, both directions. */
export interface ProxyTraffic {
  /** Bytes the proxy read from either side, whatever it then did with them. */
  received: number;
  /** Bytes written to the other side (held bytes count when delivered). */
  forwarded: number;
}

/** An accepted connection and the one the proxy opened to the target for it. */
class ProxiedConnection {
  /** Set by a drop: this connection forwards nothing ever again. */
  private blackHoled = false;
  private readonly toTarget: Held = [];
  private readonly toClient: Held = [];
  private readonly upstream: Socket | undefined;
  private mode: ProxyMode;

  constructor(
    private readonly client: Socket,
    options: TcpProxyOptions,
    mode: ProxyMode,
    private readonly traffic: ProxyTraffic,
    private readonly forget: (connection: ProxiedConnection) => void,
  ) {
    this.mode = mode;
    client.on('error', () => undefined);
    if (mode === 'drop') {
      // Never connects to the target: as far as the server knows, the SYN was lost.
      this.blackHoled = true;
      client.on('data', (chunk: Buffer) => (traffic.received += chunk.length));
      client.once('close', () => this.forget(this));
      return;
    }
    const upstream = new Socket({ allowHalfOpen: true });
    this.upstream = upstream;
    upstream.on('error', () => undefined);
    client.on('data', (chunk: Buffer) => this.carry(chunk, upstream, this.toTarget));
    upstream.on('data', (chunk: Buffer) => this.carry(chunk, client, this.toClient));
    client.on('end', () => this.carry('end', upstream, this.toTarget));
    upstream.on('end', () => this.carry('end', client, this.toClient));
    client.once('close', (hadError) => this.sideClosed(upstream, hadError));
    upstream.once('close', (hadError) => this.sideClosed(client, hadError));
    upstream.connect(options.targetPort, options.targetHost);
  }

  private carry(item: Buffer | 'end', to: Socket, held: Held): void {
    if (item !== 'end') this.traffic.received += item.length;
    if (this.blackHoled || this.mode === 'drop' || this.mode === 'reset') return;
    if (this.mode === 'stall') held.push(item);
    else this.deliver(item, to);
  }

  /**
   * One side went away. In pass the other side learns it (an RST after an error); a stalled connection tells
   * it on heal; a black hole never does, so its other side stays open (half-open) until it gives up itself.
   */
  private sideClosed(other: Socket, hadError: boolean): void {
    if (this.client.destroyed && (this.upstream?.destroyed ?? true)) this.forget(this);
    if (this.blackHoled || this.mode !== 'pass' || other.destroyed) return;
    if (hadError) other.resetAndDestroy();
    else other.end();
  }

  apply(mode: ProxyMode): void {
    const previous = this.mode;
    this.mode = mode;
    if (mode === 'drop') {
      this.blackHoled = true;
      this.toTarget.length = 0;
      this.toClient.length = 0;
    } else if (mode === 'reset') {
      this.destroy(true);
    } else if (mode === 'pass' && previous === 'stall' && !this.blackHoled && this.upstream) {
      for (const item of this.toTarget.splice(0)) this.deliver(item, this.upstream);
      for (const item of this.toClient.splice(0)) this.deliver(item, this.client);
      // A side that closed during the stall: the other learns it now, after the bytes sent before.
      if (this.upstream.destroyed) this.deliver('end', this.client);
      if (this.client.destroyed) this.deliver('end', this.upstream);
    }
  }

  private deliver(item: Buffer | 'end', to: Socket): void {
    if (to.destroyed || to.writableEnded) return;
    if (item === 'end') return void to.end();
    this.traffic.forwarded += item.length;
    to.write(item);
  }

  destroy(reset: boolean): void {
    for (const socket of [this.client, this.upstream]) {
      if (socket === undefined || socket.destroyed) continue;
      if (reset) socket.resetAndDestroy();
      else socket.destroy();
    }
    this.forget(this);
  }
}

export class TcpProxy {
  private currentMode: ProxyMode = 'pass';
  private readonly connections = new Set<ProxiedConnection>();
  private accepted = 0;
  private readonly bytes: ProxyTraffic = { received: 0, forwarded: 0 };

  private constructor(
    private readonly server: Server,
    options: TcpProxyOptions,
  ) {
    server.on('connection', (client: Socket) => this.accept(client, options));
  }

  /** Listens on 127.0.0.1 and forwards to `targetHost:targetPort` (mode `pass`). */
  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const server = createServer({ allowHalfOpen: true });
    const proxy = new TcpProxy(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined);
    return proxy;
  }

  /** The port it listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get mode(): ProxyMode {
    return this.currentMode;
  }

  /** Connections open now (stalled ones included). */
  get openConnections(): number {
    return this.connections.size;
  }

  /** Connections accepted since the start, reset ones included. */
  get acceptedConnections(): number {
    return this.accepted;
  }

  get traffic(): Readonly<ProxyTraffic> {
    return { ...this.bytes };
  }

  /** Switches every open connection, and those accepted from now on, to `mode`. */
  setMode(mode: ProxyMode): void {
    this.currentMode = mode;
    for (const connection of [...this.connections]) connection.apply(mode);
  }

  async close(): Promise<void> {
    for (const connection of [...this.connections]) connection.destroy(false);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, options: TcpProxyOptions): void {
    this.accepted += 1;
    if (this.currentMode === 'reset') {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const connection = new ProxiedConnection(client, options, this.currentMode, this.bytes, (closed) =>
      this.connections.delete(closed),
    );
    this.connections.add(connection);
  }
}
