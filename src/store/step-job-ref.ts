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
}
