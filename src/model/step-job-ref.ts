// Which attempt of which step of which saga a job stands for; every transition is conditioned on it.
export type Phase = 'forward' | 'compensate';

export interface StepJobRef {
  sagaId: string;
  saga: string;
  phase: Phase;
  /** Index of the step in the definition. */
  step: number;
  stepName: string;
  /** 1-based attempt number of this phase of the step. */
  attempt: number;
  generation: number;
  /** Compensate phase: position of the step in the compensation plan. */
  position?: number;
  /**
   * Set on a job a cancel or the deadline added under this attempt's id so that the real job, not yet added, can
   * never be (BullMQ adds no second job with an existing id). It does nothing when processed; the value says
   * which stop placed it, so the sweeper can finish a stop that was cut off before its transition.
   */
  placeholder?: 'cancelled' | 'deadline';
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
