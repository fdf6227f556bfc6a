// REDIS_URL's two forms, one Redis or a Redis Cluster, and the errors that name what is wrong without the URL.
import { describe, expect, it } from 'vitest';
import { redisClusterOptions, redisOptionsFromUrl } from '../../../src/connections/redis-options.js';
import { parseRedisUrl, RedisUrlError } from '../../../src/connections/redis-url.js';

function problemOf(url: string): string {
  try {
    parseRedisUrl(url);
  } catch (error) {
    expect(error).toBeInstanceOf(RedisUrlError);
    expect((error as Error).message).not.toContain('s3cret');
    return (error as RedisUrlError).problem;
  }
  throw new Error(`${url} was accepted`);
}

describe('REDIS_URL', () => {
  it('reads one Redis with its credentials, database and TLS', () => {
    expect(parseRedisUrl('rediss://app:p%40ss@cache.internal:6380/2')).toEqual({
      kind: 'single',
      node: { host: 'cache.internal', port: 6380 },
      db: 2,
      tls: true,
      username: 'app',
      password: 'p@ss',
    });
    expect(parseRedisUrl('redis://localhost')).toEqual({
      kind: 'single',
      node: { host: 'localhost', port: 6379 },
      tls: false,
    });
  });

  it('reads a Redis Cluster as its seed nodes, with credentials (a password may hold @) and TLS', () => {
    expect(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002/')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    expect(parseRedisUrl('rediss+cluster://default:a@b%3A@h1:7000')).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'h1', port: 7000 }],
      tls: true,
      username: 'default',
      password: 'a@b:',
    });
  });

  it('names what is wrong: scheme, host list, port, database, stray comma', () => {
    expect(problemOf('http://h:1')).toBe('its scheme "http:" is not a Redis one');
    expect(problemOf('h:6379')).toBe('it does not start with a scheme');
    expect(problemOf('redis://u:s3cret@h1:1,h2:2')).toBe(
      'it lists several hosts; a Redis Cluster URL starts with redis+cluster://',
    );
    expect(problemOf('redis+cluster://')).toBe('the cluster URL lists no host');
    expect(problemOf('redis+cluster://u:s3cret@h1:7000,')).toBe('cluster node 2 is empty (a stray ",")');
    expect(problemOf('redis+cluster://u:s3cret@h1:7000,h2:s3cret')).toBe(
      'cluster node 2 has a port that is not a number from 1 to 65535',
    );
    expect(problemOf('redis+cluster://h1:7000/1')).toBe(
      'a Redis Cluster has database 0 only, so its URL takes no /database',
    );
    expect(problemOf('redis+cluster://h1:7000?tls=true')).toBe(
      'a cluster URL takes no ?options or #fragment',
    );
  });

  it('gives a cluster client the role options of every node, and the producer fails fast there too', () => {
    const target = parseRedisUrl('redis+cluster://u:pw@h1:7000,h2:7001');
    if (target.kind !== 'cluster') throw new Error('not a cluster');
    const producer = redisClusterOptions(target, 'producer');
    expect(producer.enableOfflineQueue).toBe(false);
    expect(producer.enableReadyCheck).toBe(false);
    expect(producer.redisOptions).toMatchObject({ maxRetriesPerRequest: 0, username: 'u', password: 'pw' });
    expect(producer.redisOptions).toHaveProperty('commandTimeout');
    // BullMQ refuses a blocking connection that retries per request.
    const worker = redisClusterOptions(target, 'worker-blocking');
    expect(worker.enableOfflineQueue).toBe(true);
    expect(worker.redisOptions?.maxRetriesPerRequest).toBeNull();
    expect(() => redisOptionsFromUrl('redis+cluster://h1:7000', 'producer')).toThrow(
      'it names a Redis Cluster, where one Redis is needed',
    );
  });
});
