// @opentelemetry/api is an optional peer: a process where it cannot be resolved runs sagas all the same. The child
// process gets a module resolution hook that fails every `@opentelemetry/*` import as a missing package would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, mongoUrl, redisUrl } from '../helpers.js';
import { engineTest, order, sagaEndingIn, watching, type EngineTest } from '../engine/engine-test-kit.js';
import { roleEnvironment } from '../e2e/cli-process.js';

const FIXTURE = fileURLToPath(new URL('../engine/fixtures/engine-process.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/sagastream.js', import.meta.url));

const HOOKS = `export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@opentelemetry/')) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
const HIDE_OPENTELEMETRY = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`,
)}`;

let client: MongoClient;
let test: EngineTest | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  client = await connectMongo();
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await test?.stop();
  test = undefined;
});

afterAll(async () => {
  await client.close();
});

describe('without @opentelemetry/api', () => {
  it('the hook makes the package unresolvable in the child process', () => {
    const probe = spawnSync(
      process.execPath,
      [
        '--import',
        HIDE_OPENTELEMETRY,
        '--input-type=module',
        '-e',
        "import('@opentelemetry/api').then(() => console.log('found'), (error) => console.log(error.code))",
      ],
      { encoding: 'utf8', cwd: fileURLToPath(new URL('../../..', import.meta.url)) },
    );
    expect(probe.stdout.trim()).toBe('ERR_MODULE_NOT_FOUND');
  });

  it('a watcher and worker process runs a saga to its end, untraced', async () => {
    test = engineTest(client, 'no-otel');
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', HIDE_OPENTELEMETRY, FIXTURE], {
      env: {
        ...process.env,
        MONGODB_URL: mongoUrl(),
        REDIS_URL: redisUrl(),
        TEST_DB: test.dbName,
        QUEUE_PREFIX: test.queuePrefix,
        HOLDER_ID: 'no-otel',
        ROLES: 'watcher,worker',
        STEP_TIMEOUT_MS: '2000',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    // Its trigger stream is open (its first checkpoint saved) before the order is written.
    await watching(test.db);
    const doc = order();
    await test.orders.insertOne(doc);
    const saga = await sagaEndingIn(test.db, doc._id, ['completed']);
    expect(saga.trace).toBeUndefined();
    expect(child.exitCode).toBeNull();
  }, 60_000);

  it('the CLI asked to export traces without the SDK installed exits with one line naming what to install', () => {
    const run = spawnSync(process.execPath, ['--import', HIDE_OPENTELEMETRY, BIN, 'worker'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        ...roleEnvironment('no-otel-cli'),
        LOG_LEVEL: 'warn',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      },
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'OTEL_EXPORTER_OTLP_ENDPOINT is set, but @opentelemetry/sdk-node and @opentelemetry/exporter-trace-otlp-proto ' +
        'are not installed: run npm install @opentelemetry/sdk-node @opentelemetry/exporter-trace-otlp-proto ' +
        '(or unset OTEL_EXPORTER_OTLP_ENDPOINT)\n',
    );
  }, 40_000);
});
