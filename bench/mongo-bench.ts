// `npm run bench:mongo`: throughput, change-event latency and 3-write transaction latency of the embedded MongoDB
// server through the official driver, then reads over 100,000 saga-shaped documents (read-bench.ts). Starts
// `sagastream mongo` in its own process (or uses MONGODB_URL) so client and server do not share an event loop.
// Options: --ops N (per phase), --quick, --read-docs N (documents of the read phase), --reads (that phase only).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { readBench } from './read-bench.js';

const { values } = parseArgs({
  options: {
    ops: { type: 'string' },
    quick: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    'read-docs': { type: 'string' },
    reads: { type: 'boolean', default: false },
  },
});
const ops = Number(values.ops ?? (values.quick ? 2_000 : 20_000));
const concurrency = Number(values.concurrency ?? 16);
const readDocs = Number(values['read-docs'] ?? (values.quick ? 10_000 : 100_000));

async function startServer(): Promise<{ uri: string; child?: ChildProcess }> {
  if (process.env.MONGODB_URL) return { uri: process.env.MONGODB_URL };
  const child = spawn(process.execPath, ['bin/sagastream.js', 'mongo', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const match = /mongodb:\/\/\S+/.exec(line);
    if (match) return { uri: match[0], child };
  }
  throw new Error('the embedded server exited before printing its URI');
}

/** Runs `total` operations with `concurrency` in flight; returns operations per second. */
async function measure(total: number, operation: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await operation(next++);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * Transactions of three writes (a ledger insert and two account updates), `concurrency` in flight, on accounts
 * chosen so concurrent transactions rarely touch the same one; withTransaction retries the conflicts that remain.
 * Returns each transaction's latency in ms, sorted.
 */
async function transactionLatency(client: MongoClient, db: Db, total: number): Promise<number[]> {
  const accounts = db.collection<{ _id: number; balance: number }>('accounts');
  const ledger = db.collection('ledger');
  const accountCount = 1_000;
  await accounts.insertMany(Array.from({ length: accountCount }, (_, id) => ({ _id: id, balance: 1_000 })));
  const latencies: number[] = [];
  await measure(total, async (i) => {
    const from = (i * 2) % accountCount;
    const to = (i * 2 + 1) % accountCount;
    const session = client.startSession();
    const started = performance.now();
    try {
      await session.withTransaction(async () => {
        await ledger.insertOne({ i, from, to, amount: 1 }, { session });
        await accounts.updateOne({ _id: from }, { $inc: { balance: -1 } }, { session });
        await accounts.updateOne({ _id: to }, { $inc: { balance: 1 } }, { session });
      });
    } finally {
      await session.endSession();
    }
    latencies.push(performance.now() - started);
  });
  return latencies.sort((a, b) => a - b);
}

async function changeLatency(collection: Collection, events: number, ratePerSec: number): Promise<number[]> {
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const stream = collection.watch([{ $match: { operationType: 'insert' } }]);
  const received = (async () => {
    for await (const event of stream) {
      if (event.operationType !== 'insert') continue;
      const seq = (event.fullDocument as { seq: number }).seq;
      const start = sentAt.get(seq);
      if (start !== undefined) latencies.push(performance.now() - start);
      if (latencies.length >= events) break;
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const interval = 1000 / ratePerSec;
  const begin = performance.now();
  for (let seq = 0; seq < events; seq++) {
    const due = begin + seq * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sentAt.set(seq, performance.now());
    await collection.insertOne({ seq, at: new Date() });
  }
  await received;
  await stream.close();
  return latencies.sort((a, b) => a - b);
}

/** Inserts, updates by _id, finds by an indexed field, change events and transactions. */
async function writeBench(db: Db): Promise<Record<string, number>> {
  const docs = db.collection<{ _id: number; k: number; n: number; payload: string }>('docs');
  await docs.createIndex({ k: 1 });
  const payload = 'x'.repeat(200);
  process.stderr.write(`embedded MongoDB bench: ${ops} operations per phase, ${concurrency} in flight\n`);
  const insertPerSec = await measure(ops, (i) => docs.insertOne({ _id: i, k: i % 1000, n: 0, payload }));
  const updatePerSec = await measure(ops, (i) =>
    docs.findOneAndUpdate({ _id: (i * 7919) % ops }, { $inc: { n: 1 } }, { returnDocument: 'after' }),
  );
  const findPerSec = await measure(ops, (i) =>
    docs
      .find({ k: (i * 31) % 1000 })
      .limit(1)
      .toArray(),
  );
  const latencies = await changeLatency(db.collection('events'), Math.min(ops, 5_000), 1_000);
  const transactions = await transactionLatency(client, db, Math.min(ops, 5_000));
  return {
    insertPerSec: Math.round(insertPerSec),
    findOneAndUpdateByIdPerSec: Math.round(updatePerSec),
    findByIndexedFieldPerSec: Math.round(findPerSec),
    changeEventP50Ms: Number(percentile(latencies, 50).toFixed(2)),
    changeEventP99Ms: Number(percentile(latencies, 99).toFixed(2)),
    transactionP50Ms: Number(percentile(transactions, 50).toFixed(2)),
    transactionP99Ms: Number(percentile(transactions, 99).toFixed(2)),
  };
}

const { uri, child } = await startServer();
const client = new MongoClient(uri, { maxPoolSize: concurrency });
try {
  await client.connect();
  const db = client.db(`bench_${Date.now()}`);
  const result: Record<string, number> = values.reads ? {} : await writeBench(db);
  Object.assign(result, await readBench(uri, db, readDocs));
  console.log('| measure | value |\n| --- | --- |');
  for (const [name, value] of Object.entries(result)) console.log(`| ${name} | ${value} |`);
  console.log(JSON.stringify(result));
  await db.dropDatabase();
} finally {
  await client.close();
  if (child) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}
