import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl, redactUrlsInText } from '../../../src/logging/logger.js';

/** Collects what a logger writes, one string per line. */
function captureStream(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

const SECRET_URL = 'mongodb://app:s3cr3t-passw0rd@db1:27017,db2:27017/orders?replicaSet=rs0';

describe('redactUrl', () => {
  it.each([
    [SECRET_URL, 'mongodb://***@db1:27017,db2:27017/orders?replicaSet=rs0'],
    ['mongodb+srv://u:p@cluster0.example.net/app', 'mongodb+srv://***@cluster0.example.net/app'],
    ['redis://:only-password@cache:6379/0', 'redis://***@cache:6379/0'],
    ['rediss://default:p@ss/w@rd@cache:6380', 'rediss://***@cache:6380'],
    ['redis://localhost:6379', 'redis://localhost:6379'],
    ['mongodb://localhost:27017/?appName=a@b', 'mongodb://localhost:27017/?appName=a@b'],
    ['not a url', 'not a url'],
  ])('%s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it('redacts URLs inside free text', () => {
    expect(redactUrlsInText(`connecting to ${SECRET_URL} now`)).toBe(
      'connecting to mongodb://***@db1:27017,db2:27017/orders?replicaSet=rs0 now',
    );
  });
});

describe('createLogger', () => {
  it('writes JSON lines with level, name and message', () => {
    const { stream, lines } = captureStream();
    const logger = createLogger({ level: 'info', name: 'watcher', destination: stream });
    logger.info({ sagaId: 's-1' }, 'started');
    logger.debug('not shown at info');
    const [line, ...rest] = lines();
    expect(rest).toHaveLength(0);
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      level: 30,
      name: 'watcher',
      sagaId: 's-1',
      msg: 'started',
    });
  });

  it('never shows a password from a logged MongoDB URL', () => {
    const { stream, lines } = captureStream();
    const logger = createLogger({ level: 'info', destination: stream });
    logger.info({ url: SECRET_URL }, 'by key');
    logger.info({ mongodb: { url: SECRET_URL }, redisUrl: 'redis://:r3dis-pw@cache:6379' }, 'nested');
    logger.info(`in the message ${SECRET_URL}`);
    logger.info(
      { config: { password: 'plain-pw', token: 'tok-123456789' }, authorization: 'Bearer abc' },
      'x',
    );

    const output = lines().join('\n');
    expect(lines()).toHaveLength(4);
    for (const secret of ['s3cr3t-passw0rd', 'r3dis-pw', 'plain-pw', 'tok-123456789', 'Bearer abc']) {
      expect(output).not.toContain(secret);
    }
    const [byKey, nested, inMessage] = lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(byKey?.url).toBe('mongodb://***@db1:27017,db2:27017/orders?replicaSet=rs0');
    expect(nested?.mongodb).toEqual({ url: 'mongodb://***@db1:27017,db2:27017/orders?replicaSet=rs0' });
    expect(nested?.redisUrl).toBe('redis://***@cache:6379');
    expect(inMessage?.msg).toBe('in the message mongodb://***@db1:27017,db2:27017/orders?replicaSet=rs0');
  });

  it('prints human-readable lines when pretty is asked for', () => {
    const { stream, lines } = captureStream();
    const logger = createLogger({ level: 'info', pretty: true, destination: stream });
    logger.info({ url: SECRET_URL }, 'pretty hello');
    const output = lines().join('\n');
    expect(output).toContain('INFO');
    expect(output).toContain('pretty hello');
    expect(output).not.toContain('s3cr3t-passw0rd');
    expect(() => JSON.parse(lines()[0] ?? '') as unknown).toThrow();
  });
});
