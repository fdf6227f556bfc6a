// What the raw baselines' parent (run-bench.ts) and children (raw-bullmq-worker.ts, raw-change-watcher.ts) share.
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
  | { type: 'reset' }
  | { type: 'report'; latencies: number[]; lastDoneAt: number };

/** What the raw change-stream watcher (raw-change-watcher.ts) tells its parent. */
export type RawChangeMessage =
  | { type: 'ready' }
  | { type: 'progress'; received: number }
  | { type: 'reset' }
  | { type: 'report'; latencies: number[] };
