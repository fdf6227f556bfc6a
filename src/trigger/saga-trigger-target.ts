// A saga's trigger as a change target: one saga per matching inserted (or updated, replaced) document.
import type { Db } from 'mongodb';
import type { TriggeredSagaDefinition } from '../definition/index.js';
import type { SagaStarter } from '../engine/saga-starter.js';
import type { ChangeTarget } from './change-target.js';
import { scanMatchingDocuments } from './collection-scan.js';
import { triggerFullDocument, triggerPipeline } from './trigger-pipeline.js';

export function triggerLeaseId(sagaName: string): string {
  return `trigger:${sagaName}`;
}

/**
 * @throws SagastreamError `INVALID_DEFINITION` when the trigger filter cannot run in a change stream.
 */
export function sagaTriggerTarget(
  definition: TriggeredSagaDefinition,
  db: Db,
  starter: SagaStarter,
): ChangeTarget {
  const { database, collection, filter } = definition.trigger;
  const source = (database === undefined ? db : db.client.db(database)).collection(collection);
  return {
    id: triggerLeaseId(definition.name),
    name: definition.name,
    source,
    pipeline: triggerPipeline(definition.trigger),
    fullDocument: triggerFullDocument(definition.trigger),
    initialScan: (backfill) => (backfill ? 'backfill' : null),
    handle: async (events) => {
      const { started, rejected, duplicates } = await starter.start(definition, events);
      return { started, rejected, duplicates };
    },
    scan: (reason, options, onBatch) =>
      scanMatchingDocuments(source, filter, { reason, ...options }, onBatch),
  };
}
