// What the raw BullMQ baseline's parent (run-bench.ts) and worker (raw-bullmq-worker.ts) share.
export const RAW_QUEUE = 'raw-chain';
export const RAW_CHAIN_LENGTH = 4;
export const RAW_JOB_OPTIONS = { removeOnComplete: { age: 3600, count: 10_000 }, attempts: 5 } as const;

export interface RawJobData {
  chain: number;
  step: number;
  startedAt: number;
}

export type RawWorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; completed: number }
  | { type: 'report'; latencies: number[]; lastDoneAt: number };
