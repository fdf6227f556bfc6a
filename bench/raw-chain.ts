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

/**
 * A baseline child's side of the IPC protocol with run-bench.ts: says `ready`, reports progress every 250 ms,
 * answers `report` (what it measured) and `reset` (forget the warm-up's latencies), and on `stop` closes its
 * connections and exits.
 */
export function serveBaseline<M extends { type: string }>(child: {
  latencies: number[];
  progress(): M;
  report(): M;
  close(): Promise<unknown>;
}): void {
  const send = (message: M | { type: 'ready' | 'reset' }): void => void process.send?.(message);
  send({ type: 'ready' });
  const progress = setInterval(() => send(child.progress()), 250);
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'report') send(child.report());
    if (message.type === 'reset') {
      child.latencies.length = 0;
      send({ type: 'reset' });
    }
    if (message.type === 'stop') {
      clearInterval(progress);
      void child.close().then(() => process.exit(0));
    }
  });
}
