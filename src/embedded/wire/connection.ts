// One client socket: splits the byte stream into frames and answers them in order. A malformed frame
// closes only this connection.
import type { Socket } from 'node:net';
import type { Document } from 'bson';
import {
  HEADER_SIZE,
  MAX_MESSAGE_SIZE,
  OpCode,
  WireProtocolError,
  decodeRequest,
  encodeMsg,
  encodeReply,
  type CommandRequest,
} from './wire-protocol.js';

export interface ConnectionContext {
  readonly connectionId: number;
  /** host:port as the client dialled it (the local address of the socket). */
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** Aborted when the connection closes, so long getMores stop waiting. */
  readonly signal: AbortSignal;
  /** Drops the connection; the command being handled gets no reply (used by test fail points). */
  close(): void;
}

export type CommandHandler = (request: CommandRequest, context: ConnectionContext) => Promise<Document>;

export interface ConnectionLogger {
  warn(object: object, message: string): void;
  debug(object: object, message: string): void;
}

let nextResponseId = 1;

/** MongoDB streams replies (exhaust) only for the awaitable hello of the driver's monitor. */
function isExhaustable(request: CommandRequest): boolean {
  if (!request.exhaustAllowed) return false;
  const name = Object.keys(request.command)[0];
  return (
    (name === 'hello' || name === 'isMaster' || name === 'ismaster') &&
    request.command.maxAwaitTimeMS !== undefined &&
    request.command.topologyVersion !== undefined
  );
}

export class Connection {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private processing = false;
  private readonly abort = new AbortController();
  readonly context: ConnectionContext;

  constructor(
    private readonly socket: Socket,
    connectionId: number,
    private readonly handler: CommandHandler,
    private readonly logger: ConnectionLogger,
  ) {
    this.context = {
      connectionId,
      localAddress: `${socket.localAddress ?? '127.0.0.1'}:${socket.localPort ?? 0}`,
      remoteAddress: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
      signal: this.abort.signal,
      close: () => this.close(),
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.logger.debug({ err: error, connectionId }, 'connection error'));
    socket.on('close', () => this.abort.abort());
  }

  get closed(): boolean {
    return this.abort.signal.aborted;
  }

  close(): void {
    this.abort.abort();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // Refuse an oversized frame as soon as its header says so, before buffering it all.
    if (this.buffered >= 4) {
      const length = this.frameLength();
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
        this.fail(new WireProtocolError(`invalid message length ${length}`));
        return;
      }
    }
    if (!this.processing) void this.drain();
  }

  /** The length the buffered frame's header announces (at least 4 bytes are buffered). */
  private frameLength(): number {
    const first = this.chunks[0]!;
    return first.length >= 4 ? first.readInt32LE(0) : Buffer.concat(this.chunks).readInt32LE(0);
  }

  private takeFrame(): Buffer | undefined {
    if (this.buffered < 4) return undefined;
    const length = this.frameLength();
    if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE)
      throw new WireProtocolError(`invalid message length ${length}`);
    // Joined only once the whole frame is here: joining every chunk as it came copied a large message over and
    // over (quadratic), and the freed copies left the process's heap fragmented (RSS that never came back).
    if (this.buffered < length) return undefined;
    let joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const frame = joined.subarray(0, length);
    joined = joined.subarray(length);
    this.chunks.length = 0;
    this.buffered = joined.length;
    if (joined.length > 0) this.chunks.push(joined);
    return frame;
  }

  /** Handles frames one at a time, so replies keep request order on this connection. */
  private async drain(): Promise<void> {
    this.processing = true;
    try {
      for (;;) {
        if (this.closed) return;
        const frame = this.takeFrame();
        if (!frame) return;
        await this.answer(decodeRequest(frame));
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.processing = false;
    }
  }

  /**
   * Runs one request and writes its reply. An exhaust request (OP_MSG `exhaustAllowed` on an awaitable hello, the
   * driver's streaming monitor) is answered again and again without further requests: each reply but the last has
   * `moreToCome` set and the next one answers it, until the connection closes or a reply fails.
   */
  private async answer(request: CommandRequest): Promise<void> {
    let responseTo = request.requestId;
    for (;;) {
      const reply = await this.handler(request, this.context);
      if (request.moreToCome || this.closed) return;
      const exhaust = request.opCode === OpCode.Msg && isExhaustable(request) && reply.ok === 1;
      const responseId = nextResponseId++ & 0x7fffffff;
      const encode = (body: Document, more: boolean): Buffer =>
        request.opCode === OpCode.Query
          ? encodeReply(body, responseId, responseTo)
          : encodeMsg(body, responseId, responseTo, more);
      let bytes: Buffer;
      let more = exhaust;
      try {
        bytes = encode(reply, more);
      } catch (error) {
        // A reply that cannot be serialized is this command's failure, not the connection's; it ends a stream.
        more = false;
        bytes = encode(
          {
            ok: 0,
            errmsg: `cannot encode reply: ${(error as Error).message}`,
            code: 10334,
            codeName: 'BSONObjectTooLarge',
          },
          false,
        );
      }
      this.socket.write(bytes);
      if (!more) return;
      responseTo = responseId;
    }
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn(
      { connectionId: this.context.connectionId, remote: this.context.remoteAddress, error: message },
      'closing connection after a malformed message',
    );
    this.close();
  }
}
