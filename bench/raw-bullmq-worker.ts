// Child process of `npm run bench`: the raw BullMQ baseline. Chains of 4 no-op jobs where each job adds the next;
// reports progress and, when asked, the chain latencies over IPC. argv: REDIS_URL PREFIX CONCURRENCY
import { Queue, Worker, type Job } from 'bullmq';
import {
  RAW_CHAIN_LENGTH,
  RAW_JOB_OPTIONS,
  RAW_QUEUE,
  serveBaseline,
  type RawJobData,
  type RawWorkerMessage,
} from './raw-chain.js';

const [redisUrl = '', prefix = 'bench', concurrencyText = '10'] = process.argv.slice(2);
const url = new URL(redisUrl);
const connection = { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };

const queue = new Queue<RawJobData>(RAW_QUEUE, { connection, prefix });
const latencies: number[] = [];
let lastDoneAt = 0;
const worker = new Worker<RawJobData>(
  RAW_QUEUE,
  async (job: Job<RawJobData>) => {
    const { chain, step, startedAt } = job.data;
    if (step < RAW_CHAIN_LENGTH) {
      await queue.add('step', { chain, step: step + 1, startedAt }, RAW_JOB_OPTIONS);
      return;
    }
    lastDoneAt = Date.now();
    latencies.push(lastDoneAt - startedAt);
  },
  { connection, prefix, concurrency: Number(concurrencyText) },
);
await worker.waitUntilReady();
serveBaseline<RawWorkerMessage>({
  latencies,
  progress: () => ({ type: 'progress', completed: latencies.length }),
  report: () => ({ type: 'report', latencies, lastDoneAt }),
  close: () => Promise.all([worker.close(), queue.close()]),
});
