// The read phase of `npm run bench:mongo`: indexed counts, a sorted page, $group, $sort + $project, $bucket and $facet
// pipelines, and how long a ping on another connection waits while slow reads run, over saga-shaped documents
// (~1 KB each).
import { performance } from 'node:perf_hooks';
import { MongoClient, type Db } from 'mongodb';

const STATUSES = ['running', 'compensating', 'completed', 'compensated', 'failed', 'rejected'] as const;
/** Mostly finished sagas, as in a long-running deployment: the live ones are the few an operator counts. */
const STATUS_WEIGHTS = [8, 2, 70, 8, 8, 4];

function statusOf(i: number): string {
  let slot = (i * 7919) % 100;
  for (const [at, weight] of STATUS_WEIGHTS.entries()) {
    if (slot < weight) return STATUSES[at]!;
    slot -= weight;
  }
  return 'completed';
}

function sagaDocument(i: number): Record<string, unknown> {
  const createdAt = new Date(Date.UTC(2026, 0, 1) + i * 1_000);
  const step = (name: string, attempt: number): Record<string, unknown> => ({
    name,
    status: 'completed',
    attempts: attempt,
    startedAt: createdAt,
    endedAt: createdAt,
    output: { ok: true, reference: `ref-${i}-${name}` },
  });
  return {
    _id: `order-fulfillment:${i.toString(36).padStart(8, '0')}`,
    saga: 'order-fulfillment',
    key: `order-${i}`,
    version: 1,
    status: statusOf(i),
    input: {
      orderId: `order-${i}`,
      customer: `customer-${i % 5_000}`,
      amount: (i % 997) * 3,
      currency: 'EUR',
    },
    steps: [step('reserve-stock', 1), step('charge-payment', 2), step('ship', 1)],
    history: [
      { at: createdAt, type: 'started' },
      { at: createdAt, type: 'step-completed', step: 'reserve-stock', attempt: 1 },
    ],
    trigger: { ns: { db: 'shop', coll: 'orders' }, documentKey: { _id: i }, operationType: 'insert' },
    createdAt,
    updatedAt: createdAt,
    note: 'x'.repeat(300),
  };
}

async function median(runs: number, operation: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await operation();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return Number((times[Math.floor(times.length / 2)] ?? NaN).toFixed(2));
}

/**
 * Pings on `pinger` back to back while `slow` runs on another connection; the longest ping in ms. The scan is
 * started first and the pings wait for its command to be on the wire.
 */
async function longestPingDuring(pinger: MongoClient, slow: () => Promise<unknown>): Promise<number> {
  let done = false;
  const running = slow().finally(() => {
    done = true;
  });
  let longest = 0;
  await new Promise((resolve) => setTimeout(resolve, 5));
  while (!done) {
    const started = performance.now();
    await pinger.db('admin').command({ ping: 1 });
    longest = Math.max(longest, performance.now() - started);
  }
  await running;
  return longest;
}

export interface ReadBenchResult {
  readDocuments: number;
  countIndexedMs: number;
  countOneStatusMs: number;
  sortedPageMs: number;
  groupByStatusMs: number;
  groupSumMs: number;
  groupAvgMs: number;
  sortProjectMs: number;
  bucketMs: number;
  facetMs: number;
  pingDuringScanMaxMs: number;
  pingDuringMingoGroupMaxMs: number;
  pingDuringSortProjectMaxMs: number;
  pingDuringBucketMaxMs: number;
  pingDuringFacetMaxMs: number;
}

/** Loads `total` saga documents into `db.sagas` (with the saga store's indexes) and measures the reads. */
export async function readBench(uri: string, db: Db, total: number): Promise<ReadBenchResult> {
  const sagas = db.collection('sagas');
  await sagas.createIndexes([
    { key: { saga: 1, key: 1 }, name: 'saga_key' },
    { key: { status: 1, updatedAt: -1 }, name: 'status_updatedAt' },
    { key: { saga: 1, status: 1, createdAt: -1 }, name: 'saga_status_createdAt' },
    { key: { createdAt: -1, _id: -1 }, name: 'createdAt_id' },
  ]);
  for (let from = 0; from < total; from += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, total - from) }, (_, at) => sagaDocument(from + at));
    await sagas.insertMany(batch, { ordered: false });
  }
  const countIndexedMs = await median(5, () =>
    sagas.countDocuments({ status: { $in: ['running', 'compensating'] } }),
  );
  const countOneStatusMs = await median(5, () => sagas.countDocuments({ status: 'failed' }));
  const sortedPageMs = await median(5, () => sagas.find({}).sort({ createdAt: -1 }).limit(50).toArray());
  const groupByStatusMs = await median(3, () =>
    sagas.aggregate([{ $group: { _id: '$status', n: { $sum: 1 } } }]).toArray(),
  );
  const groupSumMs = await median(3, () =>
    sagas.aggregate([{ $group: { _id: '$input.currency', amount: { $sum: '$input.amount' } } }]).toArray(),
  );
  // A $group the server runs through mingo ($avg): the general aggregation path.
  const groupAvg = () =>
    sagas.aggregate([{ $group: { _id: '$input.currency', amount: { $avg: '$input.amount' } } }]).toArray();
  const groupAvgMs = await median(3, groupAvg);
  // Other stages mingo computes, each over every document: a sort of all of them and a projection, buckets with an
  // accumulator mingo evaluates per bucket ($addToSet), and a $facet of three sub-pipelines.
  const sortProject = () =>
    sagas
      .aggregate([
        { $sort: { 'input.amount': -1, _id: 1 } },
        { $project: { key: 1, amount: '$input.amount' } },
        { $limit: 20 },
      ])
      .toArray();
  const bucket = () =>
    sagas
      .aggregate([
        {
          $bucket: {
            groupBy: '$input.amount',
            boundaries: [0, 1_000, 2_000, 3_000],
            output: {
              n: { $sum: 1 },
              average: { $avg: '$input.amount' },
              customers: { $addToSet: '$input.customer' },
            },
          },
        },
        { $project: { n: 1, average: 1, customers: { $size: '$customers' } } },
      ])
      .toArray();
  const facet = () =>
    sagas
      .aggregate([
        {
          $facet: {
            byStatus: [{ $sortByCount: '$status' }],
            recent: [{ $sort: { createdAt: -1 } }, { $limit: 5 }, { $project: { key: 1 } }],
            largest: [{ $group: { _id: null, amount: { $max: '$input.amount' } } }],
          },
        },
      ])
      .toArray();
  const sortProjectMs = await median(3, sortProject);
  const bucketMs = await median(3, bucket);
  const facetMs = await median(3, facet);
  const pinger = new MongoClient(uri, { maxPoolSize: 1 });
  await pinger.connect();
  try {
    await pinger.db('admin').command({ ping: 1 });
    // Reads the server runs in slices (an unindexed count, find, $match + $count and a native $group), each with a
    // small answer: the pinger shares this process, and decoding a large answer here would delay its replies too.
    const slowReads = [
      () => sagas.countDocuments({ 'input.amount': { $gte: 0 } }),
      () => sagas.find({ note: { $regex: 'y' } }).toArray(),
      () => sagas.aggregate([{ $match: { 'input.currency': 'EUR' } }, { $count: 'n' }]).toArray(),
      () => sagas.aggregate([{ $group: { _id: '$saga', n: { $sum: 1 } } }]).toArray(),
    ];
    let pingDuringScanMaxMs = 0;
    for (const slow of slowReads) {
      pingDuringScanMaxMs = Math.max(pingDuringScanMaxMs, await longestPingDuring(pinger, slow));
    }
    // Stages mingo computes run in slices too.
    const pingDuringMingoGroupMaxMs = await longestPingDuring(pinger, groupAvg);
    const pingDuringSortProjectMaxMs = await longestPingDuring(pinger, sortProject);
    const pingDuringBucketMaxMs = await longestPingDuring(pinger, bucket);
    const pingDuringFacetMaxMs = await longestPingDuring(pinger, facet);
    return {
      readDocuments: total,
      countIndexedMs,
      countOneStatusMs,
      sortedPageMs,
      groupByStatusMs,
      groupSumMs,
      groupAvgMs,
      sortProjectMs,
      bucketMs,
      facetMs,
      pingDuringScanMaxMs: Number(pingDuringScanMaxMs.toFixed(2)),
      pingDuringMingoGroupMaxMs: Number(pingDuringMingoGroupMaxMs.toFixed(2)),
      pingDuringSortProjectMaxMs: Number(pingDuringSortProjectMaxMs.toFixed(2)),
      pingDuringBucketMaxMs: Number(pingDuringBucketMaxMs.toFixed(2)),
      pingDuringFacetMaxMs: Number(pingDuringFacetMaxMs.toFixed(2)),
    };
  } finally {
    await pinger.close();
  }
}
