import { describe, expect, it } from 'vitest';
import { parseInfoReply } from '../../../src/embedded/redis-probe.js';

function bulk(body: string): string {
  return `$${Buffer.byteLength(body, 'latin1')}\r\n${body}\r\n`;
}

describe('parseInfoReply', () => {
  const info = '# Server\r\nredis_version:7.0.15\r\nprocess_id:4321\r\nrun_id:abc\r\ntcp_port:6379\r\n';

  it('reads the process id of a complete INFO server reply', () => {
    expect(parseInfoReply(bulk(info))).toEqual({ kind: 'redis', pid: 4321 });
  });

  it('waits for the rest of a reply that arrived in parts', () => {
    const reply = bulk(info);
    expect(parseInfoReply(reply.slice(0, 3))).toBeUndefined();
    expect(parseInfoReply(reply.slice(0, 40))).toBeUndefined();
  });

  it('tells a loading Redis from one that refuses (NOAUTH) and from other protocols', () => {
    expect(parseInfoReply('-LOADING Redis is loading the dataset in memory\r\n')).toEqual({
      kind: 'loading',
    });
    expect(parseInfoReply('-NOAUTH Authentication required.\r\n')).toEqual({
      kind: 'foreign',
      reply: '-NOAUTH Authentication required.',
    });
    expect(parseInfoReply('HTTP/1.1 400 Bad Request\r\n\r\n')).toMatchObject({ kind: 'foreign' });
    expect(parseInfoReply(bulk('# Server\r\nredis_version:7.0.15\r\n'))).toMatchObject({ kind: 'foreign' });
  });
});
