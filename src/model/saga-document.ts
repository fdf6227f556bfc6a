// The shape of a saga instance in MongoDB: the durable record every transition is checked against.
import type { Timestamp } from 'mongodb';

export const SAGA_STATUSES = [
  'running',
  'compensating',
  'completed',
  'compensated',
  'failed',
  'rejected',
] as const;
export type SagaStatus = (typeof SAGA_STATUSES)[number];
export const TERMINAL_STATUSES: readonly SagaStatus[] = ['completed', 'compensated', 'failed', 'rejected'];

/**
 * Forward progress of one step. `scheduled`: the write that completed the previous step queued attempt `attempts`
 * (whether its job waits or already runs, only BullMQ knows). `retrying`: attempt `attempts` failed and the next
 * one is due at `nextAttemptAt`. `running`: a cancel or the deadline found the attempt's job taken by a worker (or
 * lost), so it may have acted; its late result is still recorded. `waiting`: a wait step (`.waitFor`) entered its
 * wait, described by the saga's `waiting`.
 */
export type StepStatus =
  'pending' | 'scheduled' | 'running' | 'retrying' | 'waiting' | 'completed' | 'failed' | 'timed-out';
export type CompensationStatus = 'pending' | 'running' | 'retrying' | 'completed' | 'failed' | 'skipped';

/** Why a saga compensates (or was rejected). */
export type SagaReason = 'step-failed' | 'deadline' | 'cancelled' | 'invalid-input';

export interface StoredError {
  message: string;
  code: string;
  name?: string;
}

export interface CompensationRecord {
  status: CompensationStatus;
  attempts: number;
  startedAt?: Date;
  endedAt?: Date;
  nextAttemptAt?: Date;
  error?: StoredError;
}

export interface StepRecord {
  name: string;
  /**
   * A parallel group's member: the group's name, on each of its members (consecutive records). The saga's
   * `stepIndex` is then the group's first member while the group runs, and each member has its own status.
   */
  group?: string;
  status: StepStatus;
  attempts: number;
  startedAt?: Date;
  /**
   * Start of the last attempt, stored with its outcome; for an attempt a cancel found in flight, when its job was
   * taken (BullMQ's processedOn): its compensation waits for it until then plus its timeout.
   */
  attemptStartedAt?: Date;
  endedAt?: Date;
  nextAttemptAt?: Date;
  output?: unknown;
  error?: StoredError;
  /** An attempt timed out or was cut off: its effect may exist, so compensation must run for it. */
  mayHaveEffect?: boolean;
  /** The result arrived after the saga had left `running` (deadline or cancel). */
  late?: boolean;
  compensation?: CompensationRecord;
}

export interface TriggerMetadata {
  ns: { db: string; coll: string };
  documentKey: unknown;
  operationType: string;
  clusterTime?: Timestamp;
}

/** The saga's OpenTelemetry trace (src/tracing): its root span, which the process that ends the saga records. */
export interface SagaTraceContext {
  /**
   * W3C `traceparent` of the span the saga's spans are children of: its root span `saga <name>`, which starts at
   * `createdAt`; after a redrive, that generation's own span (under the root, see `root`).
   */
  traceparent: string;
  /** The `traceparent` the trigger document (or the code that started the saga) carried: a link on the root. */
  link?: string;
  /** A redriven saga: the `traceparent` of its root span, recorded when it first ended; `traceparent` is a child. */
  root?: string;
  /** A redriven saga: when its redrive began, the start of the span `traceparent` names. */
  since?: Date;
}

export interface HistoryEvent {
  at: Date;
  type: string;
  step?: string;
  attempt?: number;
  message?: string;
}

export interface DeadLetterState {
  /** A dead-letter entry was queued for this generation. */
  queuedGeneration?: number;
  discardedAt?: Date;
}

/** The saga's current job keeps failing in BullMQ itself (not in user code): counted by the sweeper. */
export interface StuckState {
  /** Times the sweeper retried a job BullMQ had given up on. */
  restores: number;
  /** Set once a `stuck` dead letter was queued; the sweeper then leaves the saga to an operator. */
  deadLetteredAt?: Date;
}

/** What a saga in a wait step waits for; set by the write that entered the wait, unset by the one that ends it. */
export interface WaitState {
  /** The waiting step's index. */
  step: number;
  /** `<database>.<collection>` of the documents that can end the wait. */
  ns: string;
  /** A signal wait: the signal's name. */
  signal?: string;
  /** The change events that count: insert, update, replace. */
  on: string[];
  /** The filter the step's `match` returned, in canonical Extended JSON (a stored document cannot hold `$` keys). */
  filter: string;
  /** One entry per equality field of the filter (model/wait-keys.ts): how a changed document finds its waits. */
  keys: string[];
  since: Date;
  /** When the step's `timeout` ends the wait; absent: the saga's deadline does. */
  timeoutAt?: Date;
}

export interface SagaDocument {
  _id: string;
  saga: string;
  /** The definition version it started on and runs on to the end; absent (stored before versions): 1. */
  version?: number;
  key: string;
  status: SagaStatus;
  /** Forward: the step to run next (== steps.length once all completed). */
  stepIndex: number;
  /** Bumped by an operator's retry (redrive); part of every job id so old jobs are recognised as stale. */
  generation: number;
  steps: StepRecord[];
  /**
   * Steps to compensate, most recent first, and how far compensation got. Consecutive entries of one parallel
   * group form a wave (model/step-group.ts): compensated at the same time while `position` is the wave's first.
   */
  compensation?: { plan: number[]; position: number };
  input: unknown;
  /** The trigger document as received, kept for rejected sagas so a redrive can re-validate it. */
  rawInput?: unknown;
  validationIssues?: { path: string; message: string }[];
  /** The change event that started the saga; absent for a saga started from code (`SagaClient.start`). */
  trigger?: TriggerMetadata;
  deadline: Date;
  /** Absent when tracing was off (or the trace not valid) as the saga started. */
  trace?: SagaTraceContext;
  /** Present while a wait step waits. */
  waiting?: WaitState;
  reason?: SagaReason;
  error?: StoredError;
  deadLetter?: DeadLetterState;
  stuck?: StuckState;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
  endedAt?: Date;
  /**
   * When the TTL index removes the saga: its end plus its retention, written by the update that ends it. Absent
   * while it runs, with retention off, and while a dead letter of it is open (set when the letter is discarded).
   */
  expiresAt?: Date;
  history: HistoryEvent[];
}

/** How many history events a saga keeps (its timeline); older ones are dropped by `$slice`. */
export const HISTORY_LIMIT = 200;

export function isTerminal(status: SagaStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
