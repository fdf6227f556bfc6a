// What the admin API needs from the process it serves: reads of the sagas, the queues' depths, the operator's
// operations and this process's watchers. A AdminBackend is one; admin never reaches into anything else of it.
import type { Db } from 'mongodb';
import type { ConnectionStates } from '../connections/connection-states.js';
import type { SagaOperations } from '../engine/saga-operations.js';
import type { SagaQueues } from '../queue/saga-queues.js';
import type { SagaStore } from '../store/saga-store.js';
import type { TriggerService } from '../trigger/trigger-service.js';

export interface AdminBackend {
  /** The process's database: pinged for readiness, and where the leases are read. */
  readonly db: Db;
  readonly store: Pick<SagaStore, 'collection' | 'get' | 'list' | 'listCursor'>;
  readonly queues: Pick<SagaQueues, 'carrierOfAttempt' | 'deadLetters' | 'stepQueue' | 'timers'>;
  readonly operations: Pick<
    SagaOperations,
    'cancel' | 'deadLetterPage' | 'discardDeadLetter' | 'retry' | 'retryDeadLetter' | 'signal' | 'start'
  >;
  /** The state of this process's connections (readiness fails while one is lost); absent: probes only. */
  readonly connections?: Pick<ConnectionStates, 'problems'>;
  /** This process's trigger watchers; null when it does not run the watcher role. */
  readonly trigger: Pick<TriggerService, 'leaseHolders' | 'status'> | null;
}
