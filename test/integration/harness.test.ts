// The servers global-setup.ts provides are usable, and uniqueName gives names MongoDB and BullMQ accept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import { connectMongo, connectRedis, uniqueName } from './helpers.js';

describe('integration harness', () => {
  let mongo: MongoClient;
  let redis: Redis | Cluster;

  beforeAll(async () => {
    mongo = await connectMongo();
    redis = await connectRedis();
  });

  afterAll(async () => {
    await mongo.close();
    await redis.quit();
  });

  it('makes unique names that are valid MongoDB database names', () => {
    const names = [
      uniqueName('harness'),
      uniqueName('a.b/c$d e'),
      uniqueName('x'.repeat(80)),
      uniqueName(''),
    ];
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(38);
      expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    expect(names[0]).toMatch(/^harness-[0-9a-f]{16}$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it('provides a writable MongoDB replica-set primary', async () => {
    const hello = await mongo.db('admin').command({ hello: 1 });
    expect(hello.isWritablePrimary).toBe(true);
    const collection = mongo.db(uniqueName('harness')).collection<{ step: string }>('steps');
    await collection.insertOne({ step: 'reserve-stock' });
    expect(await collection.findOne({}, { projection: { _id: 0 } })).toEqual({ step: 'reserve-stock' });
    await collection.db.dropDatabase();
  });

  it('provides a Redis that never evicts keys', async () => {
    const key = `${uniqueName('harness')}:k`;
    await redis.set(key, 'v');
    expect(await redis.get(key)).toBe('v');
    await redis.del(key);
  });
});
