// The demo's progress lines as written to a terminal, from saga counts in a real MongoDB.
import { Writable } from 'node:stream';
import type { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SagaProgress } from '../../../src/cli/demo/saga-progress.js';
import { connectMongo, uniqueName } from '../helpers.js';

/** A writable that keeps each write, optionally posing as a terminal of `columns` columns. */
function recorder(tty: { isTTY: true; columns: number } | Record<string, never> = {}) {
  const writes: string[] = [];
  const output = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        writes.push(chunk.toString('utf8'));
        callback();
      },
    }),
    tty,
  );
  return { writes, output };
}

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
      rows: [{ saga: 'orders', label: 'orders', inserted: () => 3 }],
      output: terminal,
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

  it('writes a line per saga, counting the sagas held in a wait step apart, and redraws both in place', async () => {
    const db = client.db(uniqueName('progress'));
    const since = new Date();
    await db.collection('sagas').insertMany([
      { saga: 'orders', status: 'running' },
      { saga: 'checkouts', status: 'running', waiting: { step: 1, since } },
      { saga: 'checkouts', status: 'running', waiting: { step: 1, since } },
      { saga: 'checkouts', status: 'running' },
      { saga: 'checkouts', status: 'compensated' },
    ]);
    const rows = [
      { saga: 'orders', label: 'orders', inserted: () => 1 },
      { saga: 'checkouts', label: 'checkouts', inserted: () => 4, showWaiting: true },
    ];
    const logger = pino({ level: 'silent' });
    const ordersLine =
      'orders 1 | running 1 | compensating 0 | completed 0 | compensated 0 | failed 0 | rejected 0';
    const checkoutsLine =
      'checkouts 4 | running 1 | waiting 2 | compensating 0 | completed 0 | compensated 1 | failed 0 | rejected 0';

    const plain = recorder();
    await new SagaProgress({ sagas: db.collection('sagas'), rows, output: plain.output, logger }).render();
    expect(plain.writes).toEqual([`${ordersLine}\n${checkoutsLine}\n`]);

    const terminal = recorder({ isTTY: true, columns: 200 });
    const progress = new SagaProgress({
      sagas: db.collection('sagas'),
      rows,
      output: terminal.output,
      logger,
    });
    await progress.render();
    expect(terminal.writes).toEqual([`\r\x1b[2K${ordersLine}\n\x1b[2K${checkoutsLine}`]);
    await progress.render();
    // One line up, back to the first column: the second drawing covers the first.
    const [up, first, second] = (terminal.writes[1] ?? '').split('\x1b[2K');
    expect(up).toBe('\x1b[1A\r');
    expect(first).toMatch(/^orders 1 \(0\.0\/s\) .*\n$/);
    expect(second).toMatch(/^checkouts 4 \(0\.0\/s\) \| running 1 \| waiting 2 \| /);
    await progress.stop();
    expect(terminal.writes.at(-1)).toBe('\n');
    await db.dropDatabase();
  });
});
