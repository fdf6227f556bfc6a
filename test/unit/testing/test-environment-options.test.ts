import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSaga } from '../../../src/definition/define-saga.js';
import { SagaRegistry } from '../../../src/definition/saga-registry.js';
import { createTestEnvironment } from '../../../src/testing/index.js';
import { testEnvironmentOptionsSchema } from '../../../src/testing/test-environment-options.js';
import { serverUrlsFrom } from '../../../src/testing/test-servers.js';

const saga = defineSaga({ name: 'noop', trigger: { collection: 'things' }, input: z.object({}) })
  .step({ name: 'nothing', run: () => Promise.resolve({}) })
  .build();

describe('testEnvironmentOptionsSchema', () => {
  it('takes a registry or an array of definitions, with timeScale 1 and concurrency 10 by default', () => {
    const fromRegistry = testEnvironmentOptionsSchema.parse({ sagas: new SagaRegistry([saga]) });
    expect(fromRegistry).toMatchObject({ sagas: [saga], timeScale: 1, concurrency: 10 });
    expect(testEnvironmentOptionsSchema.parse({ sagas: [saga], timeScale: 0.01 }).timeScale).toBe(0.01);
  });

  it.each([0, -0.5, Number.POSITIVE_INFINITY, Number.NaN, '0.01'])('refuses timeScale %s', (timeScale) => {
    const parsed = testEnvironmentOptionsSchema.safeParse({ sagas: [saga], timeScale });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['timeScale'],
      message: expect.stringContaining('timeScale must be a positive finite number') as unknown,
    });
  });

  it('refuses sagas that are neither a registry nor an array, and unknown options', () => {
    expect(testEnvironmentOptionsSchema.safeParse({ sagas: 'charge-order' }).error?.issues[0]?.message).toBe(
      'sagas must be a SagaRegistry or an array of defineSaga(...) definitions',
    );
    expect(testEnvironmentOptionsSchema.safeParse({ sagas: [saga], timescale: 0.1 }).success).toBe(false);
    expect(testEnvironmentOptionsSchema.safeParse({ sagas: [saga], setup: {} }).success).toBe(false);
    expect(testEnvironmentOptionsSchema.safeParse({ sagas: [saga], mongodbUrl: 'localhost' }).success).toBe(
      false,
    );
  });

  it('makes createTestEnvironment reject before it starts anything', async () => {
    await expect(createTestEnvironment({ sagas: [saga], timeScale: 0 })).rejects.toThrow(
      /timeScale must be a positive finite number/,
    );
  });
});

describe('serverUrlsFrom', () => {
  const env = { MONGODB_URL: 'mongodb://db:27017', REDIS_URL: 'redis://cache:6379' };

  it('prefers the options, then MONGODB_URL and REDIS_URL', () => {
    expect(serverUrlsFrom({}, env)).toEqual({ mongodbUrl: env.MONGODB_URL, redisUrl: env.REDIS_URL });
    expect(serverUrlsFrom({ redisUrl: 'redis://other:1' }, env)).toEqual({
      mongodbUrl: env.MONGODB_URL,
      redisUrl: 'redis://other:1',
    });
  });

  it('leaves a server to be started when neither gives it; an empty variable counts as unset', () => {
    expect(serverUrlsFrom({}, {})).toEqual({ mongodbUrl: undefined, redisUrl: undefined });
    expect(serverUrlsFrom({}, { MONGODB_URL: ' ', REDIS_URL: '' })).toEqual({
      mongodbUrl: undefined,
      redisUrl: undefined,
    });
  });
});
