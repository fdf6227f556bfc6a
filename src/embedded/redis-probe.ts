// Asks whatever listens on a TCP port who it is, with one inline `INFO server`: the launcher must know that the
// Redis answering is the child it spawned, not a stale or system Redis that already held the port.
import { createConnection } from 'node:net';

export type RedisProbe =
  /** Nothing answered (refused, reset, silent): not listening yet. */
  | { readonly kind: 'silent' }
  /** A Redis still loading its data set (`-LOADING`). */
  | { readonly kind: 'loading' }
  /** A Redis that told its process id. */
  | { readonly kind: 'redis'; readonly pid: number }
  /** Something answered that is not a Redis we could start: an error like NOAUTH, or another protocol. */
  | { readonly kind: 'foreign'; readonly reply: string };

const PROBE_TIMEOUT_MS = 1_000;
/** INFO server is about 1 KiB; anything far larger is not the reply we asked for. */
const MAX_REPLY_BYTES = 64 * 1024;

/** The probe's verdict on a reply received so far, or undefined while it is incomplete. */
export function parseInfoReply(reply: string): RedisProbe | undefined {
  const headerEnd = reply.indexOf('\r\n');
  if (headerEnd < 0) return reply.length > MAX_REPLY_BYTES ? { kind: 'foreign', reply: '' } : undefined;
  const header = reply.slice(0, headerEnd);
  if (header.startsWith('-LOADING')) return { kind: 'loading' };
  if (!header.startsWith('$')) return { kind: 'foreign', reply: header.slice(0, 200) };
  const length = Number(header.slice(1));
  if (!Number.isInteger(length) || length < 0 || length > MAX_REPLY_BYTES) {
    return { kind: 'foreign', reply: header.slice(0, 200) };
  }
  // RESP bulk lengths count bytes; the reply was decoded as latin1, one character per byte.
  const body = reply.slice(headerEnd + 2);
  if (body.length < length) return undefined;
  const pid = /^process_id:(\d+)\r?$/m.exec(body.slice(0, length))?.[1];
  return pid === undefined ? { kind: 'foreign', reply: header } : { kind: 'redis', pid: Number(pid) };
}

/** Connects once, sends `INFO server` and reports who answered. Never rejects. */
export function probeRedis(host: string, port: number): Promise<RedisProbe> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let reply = '';
    const finish = (result: RedisProbe): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish({ kind: 'silent' }));
    socket.once('error', () => finish({ kind: 'silent' }));
    socket.once('close', () => finish({ kind: 'silent' }));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const result = parseInfoReply(reply);
      if (result !== undefined) finish(result);
    });
  });
}
