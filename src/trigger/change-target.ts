// What a change watcher (trigger-watcher.ts) follows and what it does with each batch: a saga's trigger (start a
// saga per matching document) or a waited collection (resume the sagas waiting for a document). The watcher owns
// the lease, the checkpoint, reading in batches and recovering; a target owns the stream's shape and the work.
import type { Collection, Document } from 'mongodb';
import type { TriggerEvent } from '../engine/trigger-event.js';
import type { ScanReason } from './collection-scan.js';
import type { CheckpointDocument } from './checkpoint-store.js';
import type { InheritedStart } from './partition-handover.js';
import type { TriggerPartition } from './trigger-partition.js';

/** What handling one batch did: sagas started (or resumed), rejected, and events that changed nothing. */
export interface HandledBatch {
  started: number;
  rejected: number;
  duplicates: number;
}

export interface ChangeTarget {
  /** The lease's and the checkpoint's id: `trigger:<saga>`, `trigger:<saga>#<i>/<N>` or `wait:<db>.<collection>`. */
  readonly id: string;
  /** How status, logs and metrics name it: the saga's name, or `wait:<db>.<collection>`. */
  readonly name: string;
  /** The share of a partitioned trigger this target follows; undefined for a whole collection. */
  readonly partition?: TriggerPartition;
  readonly source: Collection;
  readonly pipeline: Document[];
  readonly fullDocument: 'updateLookup' | undefined;
  /**
   * Reads the own checkpoint together with those of the trigger's other partition layouts, in one query, and
   * says whether to start from another layout's instead (partition-handover.ts). Without it the watcher loads
   * the own checkpoint alone.
   */
  loadStart?(): Promise<{ own: CheckpointDocument | null; inherited: InheritedStart | null }>;
  /** The scan after a start with no checkpoint: `backfill` when asked for, or always `reconcile`, or none. */
  initialScan(backfill: boolean): ScanReason | null;
  /** Acts on a batch durably: the watcher checkpoints past it only after this resolved. */
  handle(events: TriggerEvent[]): Promise<HandledBatch>;
  /**
   * Finds what the stream may have missed and feeds it to `onBatch` as events (the same work as `handle`);
   * returns how many documents it read.
   * @throws Error when `signal` aborts mid-scan: an interrupted scan must not be followed by a checkpoint.
   */
  scan(
    reason: ScanReason,
    options: { batchSize: number; signal: AbortSignal },
    onBatch: (events: TriggerEvent[]) => Promise<void>,
  ): Promise<number>;
}
