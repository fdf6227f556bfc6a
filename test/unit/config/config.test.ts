import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/config/config-error.js';

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      nodeEnv: 'development',
      logLevel: 'info',
      mongodb: { url: undefined, db: 'sagastream' },
      redis: { url: undefined },
      queuePrefix: 'sagastream',
      admin: { host: '127.0.0.1', port: 8080, token: undefined },
      retention: 30 * 86_400_000,
      traceparentField: 'traceparent',
    });
  });

  it('reads SAGASTREAM_TRACEPARENT_FIELD, and names a field that cannot be a top-level field name', () => {
    expect(loadConfig({ SAGASTREAM_TRACEPARENT_FIELD: 'request_trace' }).traceparentField).toBe(
      'request_trace',
    );
    const error = configErrorOf(() => loadConfig({ SAGASTREAM_TRACEPARENT_FIELD: 'meta.traceparent' }));
    expect(error.variables).toEqual(['SAGASTREAM_TRACEPARENT_FIELD']);
    expect(error.message).toContain(
      'SAGASTREAM_TRACEPARENT_FIELD is invalid: expected a top-level field name',
    );
  });

  it('reads SAGA_RETENTION as milliseconds or off', () => {
    expect(loadConfig({ SAGA_RETENTION: '7d' }).retention).toBe(7 * 86_400_000);
    expect(loadConfig({ SAGA_RETENTION: ' 12h ' }).retention).toBe(12 * 3_600_000);
    expect(loadConfig({ SAGA_RETENTION: 'off' }).retention).toBe('off');
    expect(loadConfig({ SAGA_RETENTION: '' }).retention).toBe(30 * 86_400_000);
  });

  it('names a bad SAGA_RETENTION and its value', () => {
    const error = configErrorOf(() => loadConfig({ SAGA_RETENTION: '30 days' }));
    expect(error.variables).toEqual(['SAGA_RETENTION']);
    expect(error.problems).toEqual([
      "SAGA_RETENTION is invalid: expected a duration of at least 1s like '30d', '12h', '5m' or '30s', or 'off', " +
        'got "30 days"',
    ]);
  });

  it('reads every variable', () => {
    const config = loadConfig(
      {
        MONGODB_URL: 'mongodb://a:27017,b:27018/?replicaSet=rs0',
        MONGODB_DB: 'orders',
        REDIS_URL: 'rediss://default:pw@cache.internal:6380/2',
        LOG_LEVEL: 'debug',
        NODE_ENV: 'production',
        SAGASTREAM_QUEUE_PREFIX: 'orders-prod',
        ADMIN_HOST: '0.0.0.0',
        ADMIN_PORT: '9090',
        ADMIN_TOKEN: 'a-long-enough-admin-token',
      },
      { require: ['mongodb', 'redis'] },
    );
    expect(config.mongodb).toEqual({ url: 'mongodb://a:27017,b:27018/?replicaSet=rs0', db: 'orders' });
    expect(config.redis.url).toBe('rediss://default:pw@cache.internal:6380/2');
    expect(config.logLevel).toBe('debug');
    expect(config.nodeEnv).toBe('production');
    expect(config.queuePrefix).toBe('orders-prod');
    expect(config.admin).toEqual({ host: '0.0.0.0', port: 9090, token: 'a-long-enough-admin-token' });
  });

  it('accepts mongodb+srv URLs and treats empty variables as unset', () => {
    const config = loadConfig({ MONGODB_URL: 'mongodb+srv://cluster0.example.net/app', MONGODB_DB: '' });
    expect(config.mongodb).toEqual({ url: 'mongodb+srv://cluster0.example.net/app', db: 'sagastream' });
  });

  it('returns a frozen config', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.admin)).toBe(true);
  });

  it('names a missing required URL with its expected form', () => {
    const error = configErrorOf(() => loadConfig({}, { require: ['mongodb'] }));
    expect(error.message).toContain(
      'MONGODB_URL is required: a MongoDB connection string like mongodb://localhost:27017/?replicaSet=rs0',
    );
    expect(error.variables).toEqual(['MONGODB_URL']);
  });

  it('names every bad variable at once', () => {
    const error = configErrorOf(() =>
      loadConfig(
        {
          MONGODB_URL: 'http://localhost:27017',
          LOG_LEVEL: 'loud',
          ADMIN_PORT: '70000',
          NODE_ENV: 'staging',
          SAGASTREAM_QUEUE_PREFIX: 'has:colon',
          MONGODB_DB: 'bad.name',
        },
        { require: ['redis'] },
      ),
    );
    expect(error.variables.sort()).toEqual(
      [
        'ADMIN_PORT',
        'LOG_LEVEL',
        'MONGODB_DB',
        'MONGODB_URL',
        'NODE_ENV',
        'REDIS_URL',
        'SAGASTREAM_QUEUE_PREFIX',
      ].sort(),
    );
    expect(error.message).toContain('LOG_LEVEL is invalid: expected one of fatal, error, warn, info');
    expect(error.message).toContain('ADMIN_PORT is invalid: expected a TCP port number');
    expect(error.message).toContain('REDIS_URL is required: a Redis URL like redis://localhost:6379');
  });

  it('rejects a redis URL with the wrong scheme', () => {
    const error = configErrorOf(() => loadConfig({ REDIS_URL: 'localhost:6379' }));
    expect(error.message).toContain(
      'REDIS_URL is invalid: it does not start with a scheme; expected a Redis URL like redis://localhost:6379',
    );
  });

  it('takes a Redis Cluster URL, and names what is wrong in a bad one without its password', () => {
    const url = 'redis+cluster://default:cluster-secret@10.0.0.1:7000,10.0.0.2:7001';
    expect(loadConfig({ REDIS_URL: url }).redis.url).toBe(url);
    const error = configErrorOf(() =>
      loadConfig({ REDIS_URL: 'redis+cluster://default:cluster-secret@10.0.0.1:7000,10.0.0.2:70000' }),
    );
    expect(error.message).toContain(
      'REDIS_URL is invalid: cluster node 2 has a port that is not a number from 1 to 65535; expected',
    );
    expect(error.message).toContain('redis+cluster://host1:6379,host2:6379');
    expect(error.message).not.toContain('cluster-secret');
    const listed = configErrorOf(() => loadConfig({ REDIS_URL: 'redis://10.0.0.1:7000,10.0.0.2:7001' }));
    expect(listed.message).toContain(
      'it lists several hosts; a Redis Cluster URL starts with redis+cluster://',
    );
  });

  it('never puts secret values in the message', () => {
    const error = configErrorOf(() =>
      loadConfig({
        ADMIN_TOKEN: 'short-secret',
        MONGODB_URL: 'mongo://admin:hunter2-password@db:27017',
        REDIS_URL: 'redis//:redis-secret@cache',
      }),
    );
    expect(error.message).toContain('ADMIN_TOKEN is too short');
    expect(error.message).toContain('MONGODB_URL is invalid');
    expect(error.message).toContain('REDIS_URL is invalid');
    for (const secret of ['short-secret', 'hunter2', 'redis-secret']) {
      expect(error.message).not.toContain(secret);
    }
  });
});
