// Queue names, their Redis key prefixes and deterministic job ids. BullMQ ids must not contain ':' nor be all
// digits. Each queue's keys carry a hash tag of its own, so a Redis Cluster spreads the queues over its masters.
import type { StepJobRef } from '../model/step-job-ref.js';
import type { DeadLetterKind } from './job-data.js';

export const TIMER_QUEUE = 'saga-timers';
export const DEAD_LETTER_QUEUE = 'dead-letters';

/**
 * One step queue per saga version: a worker listens only to the versions it loads, so a job never reaches a worker
 * without its definition. Version 1 keeps the name of the releases before versions, so jobs in flight across that
 * upgrade still run. Saga names have no `.`, so `saga-a.v2` is never another saga's version-1 queue.
 */
export function stepQueueName(sagaName: string, version = 1): string {
  return version === 1 ? `saga-${sagaName}` : `saga-${sagaName}.v${version}`;
}

/**
 * The BullMQ prefix of queue `queueName` in deployment `prefix`: `sagastream:{saga-orders}`. BullMQ's Lua scripts
 * touch several keys of one queue at once, so they must share a Redis Cluster hash slot: the `{queue name}` hash
 * tag puts them there, and gives each queue its own slot, so the queues spread over a cluster's masters (one tag for
 * the whole prefix would put every queue on one master). Keys read `sagastream:{saga-orders}:saga-orders:wait`.
 */
export function queueKeyPrefix(prefix: string, queueName: string): string {
  return `${prefix}:{${queueName}}`;
}

/** One job id per attempt of a phase of a step in a generation: re-queuing the same attempt is idempotent. */
export function stepJobId(ref: StepJobRef): string {
  const phase = ref.phase === 'forward' ? 'f' : 'c';
  return `${ref.sagaId}.${phase}${ref.step}.a${ref.attempt}.g${ref.generation}`;
}

export function deadlineJobId(sagaId: string, generation: number): string {
  return `${sagaId}.deadline.g${generation}`;
}

/** The timeout of the wait of step `step` in a generation: one per wait, so adding it again is harmless. */
export function waitTimeoutJobId(sagaId: string, step: number, generation: number): string {
  return `${sagaId}.wait${step}.g${generation}`;
}

export function compensationWaitJobId(ref: StepJobRef, round: number): string {
  return `${stepJobId(ref)}.w${round}`;
}

/** Wakes a compensation parked on its wait job once forward attempt `forwardAttempt` reported late. */
export function compensationWakeJobId(ref: StepJobRef, forwardAttempt: number): string {
  return `${stepJobId(ref)}.l${forwardAttempt}`;
}

/**
 * The middle part of a dead-letter id per entry: a saga's final failure (`dl`: rejected or compensation failed)
 * and a `stuck` report are separate entries, since a stuck saga may still fail later.
 */
const DEAD_LETTER_TAGS = { final: 'dl', stuck: 'stuck' } as const;

export type DeadLetterEntryKind = keyof typeof DEAD_LETTER_TAGS;

/** `<saga id>.dl.g<generation>` or `<saga id>.stuck.g<generation>`. */
export function deadLetterJobId(sagaId: string, generation: number, kind?: DeadLetterKind): string {
  const tag = kind === 'stuck' ? DEAD_LETTER_TAGS.stuck : DEAD_LETTER_TAGS.final;
  return `${sagaId}.${tag}.g${generation}`;
}

/** The id forms, for messages: `<saga id>.dl.g<n>` or `<saga id>.stuck.g<n>`. */
export const DEAD_LETTER_ID_FORMS = Object.values(DEAD_LETTER_TAGS).map((tag) => `<saga id>.${tag}.g<n>`);

const DEAD_LETTER_ID_PATTERN = new RegExp(
  `^([^.]+)\\.(${Object.values(DEAD_LETTER_TAGS).join('|')})\\.g(\\d{1,9})$`,
);

export interface DeadLetterIdParts {
  /** Not checked here: a caller that needs a well-formed saga id checks it (see model/saga-id.ts). */
  sagaId: string;
  generation: number;
  entry: DeadLetterEntryKind;
}

/** The inverse of deadLetterJobId; null for anything it cannot have made. */
export function parseDeadLetterJobId(id: string): DeadLetterIdParts | null {
  const match = DEAD_LETTER_ID_PATTERN.exec(id);
  if (!match) return null;
  return {
    sagaId: match[1]!,
    generation: Number(match[3]),
    entry: match[2] === DEAD_LETTER_TAGS.stuck ? 'stuck' : 'final',
  };
}

function generationOrder(a: DeadLetterIdParts, b: DeadLetterIdParts): number {
  if (a.sagaId !== b.sagaId) return a.sagaId < b.sagaId ? 1 : -1;
  if (a.generation !== b.generation) return b.generation - a.generation;
  if (a.entry === b.entry) return 0;
  return a.entry === 'stuck' ? -1 : 1;
}

/**
 * The order dead letters are listed in: by saga id, descending (a fixed order, not an age: saga ids are derived from
 * the saga's key; only the ids of earlier versions were time-ordered), then its later generations, a stuck report
 * before a final failure. A total order on ids, so an id is a page cursor that stays valid when entries are added
 * or removed.
 */
export function compareDeadLetterIds(a: string, b: string): number {
  const left = parseDeadLetterJobId(a);
  const right = parseDeadLetterJobId(b);
  if (left && right) return generationOrder(left, right);
  // Not made by deadLetterJobId (never expected): after every well-formed id, in plain string order.
  if (left) return -1;
  if (right) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
