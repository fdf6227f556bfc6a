// Where a trigger watcher's next change stream opens, and the options that say so to the server.
import type { ChangeStreamOptions, ResumeToken, Timestamp } from 'mongodb';
import type { SagaLogger } from '../logging/saga-logger.js';
import type { ChangeTarget } from './change-target.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { ScanReason } from './collection-scan.js';
import type { TriggerWatcherOptions } from './trigger-watcher-options.js';

/** From the stored checkpoint (to be loaded), a token, a cluster time, or now (+ a scan). */
export type StreamStart =
  | { kind: 'load-checkpoint' }
  | { kind: 'token'; resumeToken: ResumeToken; invalidated: boolean }
  /** Inherited from another partition layout's checkpoints (partition-handover.ts): from this time on. */
  | { kind: 'time'; operationTime: Timestamp }
  | { kind: 'now'; scan: ScanReason | null };

/** The own checkpoint, unless the trigger's partition count changed and another layout saved last. */
export async function loadStreamStart(
  target: ChangeTarget,
  checkpoints: CheckpointStore,
  context: { triggerId: string; backfill: boolean; logger: SagaLogger },
): Promise<StreamStart> {
  // One read either way: the own checkpoint, or it and the other layouts' (a partitionable trigger).
  const { own: checkpoint, inherited } = target.loadStart
    ? await target.loadStart()
    : { own: await checkpoints.load(context.triggerId), inherited: null };
  if (inherited) {
    context.logger.info(
      inherited.kind === 'time' ? { operationTime: inherited.operationTime } : { scan: 'reconcile' },
      'the trigger partitions changed; starting from where the previous partitions left this share',
    );
    return inherited.kind === 'time'
      ? { kind: 'time', operationTime: inherited.operationTime }
      : { kind: 'now', scan: 'reconcile' };
  }
  return checkpoint
    ? { kind: 'token', resumeToken: checkpoint.resumeToken, invalidated: checkpoint.invalidated === true }
    : { kind: 'now', scan: target.initialScan(context.backfill) };
}

export function changeStreamOptions(
  start: StreamStart,
  fullDocument: 'updateLookup' | undefined,
  options: Pick<TriggerWatcherOptions, 'maxAwaitTime' | 'batchSize'>,
): ChangeStreamOptions {
  return {
    maxAwaitTimeMS: options.maxAwaitTime,
    batchSize: options.batchSize,
    ...(fullDocument ? { fullDocument } : {}),
    ...(start.kind === 'time' ? { startAtOperationTime: start.operationTime } : {}),
    ...(start.kind !== 'token'
      ? {}
      : start.invalidated
        ? { startAfter: start.resumeToken }
        : { resumeAfter: start.resumeToken }),
  };
}
