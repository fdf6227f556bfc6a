// What queued jobs carry. Step jobs name the exact attempt they stand for (see StepJobRef).
import type { StoredError } from '../model/saga-document.js';
import type { StepJobRef } from '../model/step-job-ref.js';
import type { WaitRef } from '../model/wait-ref.js';

export type StepJobData = StepJobRef;

export interface DeadlineJobData {
  kind: 'deadline';
  sagaId: string;
  saga: string;
  /** The saga's version (absent in timers set before versions existed: 1): only a worker loading it acts. */
  version?: number;
  generation: number;
  /** The saga's trace (`traceparent` of its root span); absent when not traced, or set before tracing was. */
  trace?: string;
}

/** A wait step's timeout: fires when its `timeout` passed; ends the wait unless a document ended it first. */
export type WaitTimeoutJobData = { kind: 'wait-timeout'; trace?: string } & WaitRef;

/** What the timer queue holds. */
export type TimerJobData = DeadlineJobData | WaitTimeoutJobData;

export type DeadLetterKind = 'rejected' | 'compensation-failed' | 'stuck';

export interface DeadLetterJobData {
  sagaId: string;
  saga: string;
  /** The saga's version (entries made before versions existed have none: 1). */
  version?: number;
  generation: number;
  kind: DeadLetterKind;
  step?: string;
  error: StoredError;
  attempts: number;
  at: string;
  /** The saga's trace (`traceparent`), so an operator can find its spans; absent when not traced. */
  trace?: string;
}
