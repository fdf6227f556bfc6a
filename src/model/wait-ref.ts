// Which wait of which saga: what every ending of a wait (a match, its timer, a failure) is conditioned on.

export interface WaitRef {
  sagaId: string;
  saga: string;
  /** The saga's definition version (absent: 1). */
  version?: number;
  generation: number;
  /** The waiting step's index and name. */
  step: number;
  stepName: string;
}
