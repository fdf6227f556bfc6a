// A saga's trigger as change targets: one saga per matching inserted (or updated, replaced) document. A trigger
// with `partitions: N` is N targets, each with its own lease and checkpoint, following its share of the `_id`s.
import type { Db } from 'mongodb';
import type { TriggeredSagaDefinition } from '../definition/index.js';
import type { SagaStarter } from '../engine/saga-starter.js';
import type { ChangeTarget } from './change-target.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { inheritedStart, loadTriggerCheckpoints } from './partition-handover.js';
import { scanMatchingDocuments } from './collection-scan.js';
import { partitionLabel, triggerPartitions, type TriggerPartition } from './trigger-partition.js';
import { triggerFullDocument, triggerPipeline } from './trigger-pipeline.js';

/**
 * `trigger:<saga>`, or `trigger:<saga>#<i>/<N>` for partition i of N. An unpartitioned trigger keeps the id it
 * always had, so its stored checkpoint still applies.
 */
export function triggerLeaseId(sagaName: string, partition?: TriggerPartition): string {
  return partition ? `trigger:${sagaName}#${partitionLabel(partition)}` : `trigger:${sagaName}`;
}

/**
 * @throws SagastreamError `INVALID_DEFINITION` when the trigger filter cannot run in a change stream.
 */
export function sagaTriggerTargets(
  definition: TriggeredSagaDefinition,
  db: Db,
  starter: SagaStarter,
  checkpoints: CheckpointStore,
): ChangeTarget[] {
  return triggerPartitions(definition.trigger.partitions).map((partition) =>
    sagaTriggerTarget(definition, { db, starter, checkpoints }, partition),
  );
}

function sagaTriggerTarget(
  definition: TriggeredSagaDefinition,
  { db, starter, checkpoints }: { db: Db; starter: SagaStarter; checkpoints: CheckpointStore },
  partition: TriggerPartition | undefined,
): ChangeTarget {
  const { database, collection, filter } = definition.trigger;
  const source = (database === undefined ? db : db.client.db(database)).collection(collection);
  return {
    id: triggerLeaseId(definition.name, partition),
    name: definition.name,
    ...(partition ? { partition } : {}),
    source,
    pipeline: triggerPipeline(definition.trigger, partition),
    fullDocument: triggerFullDocument(definition.trigger),
    loadStart: async () => {
      const stored = await loadTriggerCheckpoints(checkpoints, definition.name);
      const id = triggerLeaseId(definition.name, partition);
      return {
        own: stored.find((checkpoint) => checkpoint._id === id) ?? null,
        inherited: inheritedStart(definition.name, partition, stored),
      };
    },
    initialScan: (backfill) => (backfill ? 'backfill' : null),
    handle: async (events) => {
      const { started, rejected, duplicates } = await starter.start(definition, events);
      return { started, rejected, duplicates };
    },
    scan: (reason, options, onBatch) =>
      scanMatchingDocuments(
        source,
        filter,
        { reason, ...options, ...(partition ? { partition } : {}) },
        onBatch,
      ),
  };
}
