// Which attempt of which step of which saga a job stands for; every transition is conditioned on it.
export type Phase = 'forward' | 'compensate';

export interface StepJobRef {
  sagaId: string;
  saga: string;
  /**
   * The saga's definition version: the job is queued on that version's queue and runs on its definition only.
   * Absent in jobs queued before versions existed: 1.
   */
  version?: number;
  phase: Phase;
  /** Index of the step in the definition. */
  step: number;
  stepName: string;
  /** 1-based attempt number of this phase of the step. */
  attempt: number;
  generation: number;
  /** Compensate phase: position of the step in the compensation plan. */
  position?: number;
  /** The saga's trace (`traceparent` of its root span), so the attempt's span joins it; absent when not traced. */
  trace?: string;
}

/** A step job to queue: which attempt, after how long. */
export interface ScheduledStep {
  ref: StepJobRef;
  delayMs?: number;
  /**
   * The next job of a saga already under way (the step after a completed one, the next compensation): queued at
   * the head of the wait list, so workers finish the sagas they started before starting new ones. Under a backlog
   * this keeps few sagas in flight and their end-to-end latency short, instead of advancing every saga one step
   * per pass over the queue.
   */
  continuation?: boolean;
}
