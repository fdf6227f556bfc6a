// A change event reduced to what starting a saga needs; the watcher builds it, the starter consumes it.
import type { Timestamp } from 'mongodb';

export interface TriggerEvent {
  /** The document as it is after the change (`fullDocument`). */
  document: Record<string, unknown>;
  documentKey: unknown;
  ns: { db: string; coll: string };
  operationType: string;
  clusterTime?: Timestamp;
}
