// The demo's progress line as written to a terminal, from saga counts in a real MongoDB.
import { Writable } from 'node:stream';
import type { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SagaProgress } from '../../../src/cli/demo/saga-progress.js';
import { connectMongo, uniqueName } from '../helpers.js';

describe('SagaProgress on a terminal', () => {
  let client: MongoClient;

  beforeAll(async () => {
    client = await connectMongo();
  });
  afterAll(async () => {
    await client?.close();
  });

  it('rewrites one line in place, cut to the width the terminal has at each line', async () => {
    const db = client.db(uniqueName('progress'));
    await db.collection('sagas').insertMany([
      { saga: 'orders', status: 'running' },
      { saga: 'orders', status: 'running' },
      { saga: 'orders', status: 'completed' },
      { saga: 'other', status: 'failed' },
    ]);
    const lines: string[] = [];
    const terminal = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString('utf8'));
          callback();
        },
      }),
      { isTTY: true, columns: 40 },
    );
    const progress = new SagaProgress({
      sagas: db.collection('sagas'),
      saga: 'orders',
      output: terminal,
      inserted: () => 3,
      logger: pino({ level: 'silent' }),
    });

    const clearLine = '\r\x1b[2K';
    await progress.render();
    const full =
      'orders 3 | running 2 | compensating 0 | completed 1 | compensated 0 | failed 0 | rejected 0';
    expect(lines).toEqual([`${clearLine}${full.slice(0, 38)}…`]);

    terminal.columns = 200;
    await expect
      .poll(async () => {
        await progress.render();
        return lines[lines.length - 1]?.replace(clearLine, '[clear]');
      })
      .toMatch(/^\[clear\]orders 3 \(0\.0\/s\) \| running 2 .* \| rejected 0 \| finished 0\.0\/s$/);
    await progress.stop();
    expect(lines[lines.length - 1]).toBe('\n');
    await db.dropDatabase();
  });
});
