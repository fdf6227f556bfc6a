// Queue names and deterministic job ids. BullMQ ids must not contain ':' nor be all digits, and a queue
// prefix wrapped in {} keeps every key of a queue in one Redis Cluster hash slot.
import type { StepJobRef } from '../store/step-job-ref.js';
import type { DeadLetterKind } from './job-data.js';

export const TIMER_QUEUE = 'saga-timers';
export const DEAD_LETTER_QUEUE = 'dead-letters';

export function stepQueueName(sagaName: string): string {
  return `saga-${sagaName}`;
}

/** `{prefix}`: the hash tag that makes a prefix Redis Cluster safe. */
export function clusterSafePrefix(prefix: string): string {
  return prefix.startsWith('{') && prefix.endsWith('}') ? prefix : `{${prefix}}`;
}

/** One job id per attempt of a phase of a step in a generation: re-queuing the same attempt is idempotent. */
export function stepJobId(ref: StepJobRef): string {
  const phase = ref.phase === 'forward' ? 'f' : 'c';
  return `${ref.sagaId}.${phase}${ref.step}.a${ref.attempt}.g${ref.generation}`;
}

export function deadlineJobId(sagaId: string, generation: number): string {
  return `${sagaId}.deadline.g${generation}`;
}

export function compensationWaitJobId(ref: StepJobRef, round: number): string {
  return `${stepJobId(ref)}.w${round}`;
}

/** Wakes a compensation parked on its wait job once forward attempt `forwardAttempt` reported late. */
export function compensationWakeJobId(ref: StepJobRef, forwardAttempt: number): string {
  return `${stepJobId(ref)}.l${forwardAttempt}`;
}

/** A saga's final failure and a `stuck` report are separate entries: a stuck saga may still fail later. */
export function deadLetterJobId(sagaId: string, generation: number, kind?: DeadLetterKind): string {
  return kind === 'stuck' ? `${sagaId}.stuck.g${generation}` : `${sagaId}.dl.g${generation}`;
}
