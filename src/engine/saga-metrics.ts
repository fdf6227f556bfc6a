// What the engine and the trigger watcher report where things happen: sagas started and ended, step attempts
// and retries, watcher lag. An interface, so the engine depends on no metrics library; src/metrics/ implements
// it for Prometheus. Each transition is applied by exactly one process, so counting there never double-counts.
import type { StepPhase } from '../definition/index.js';
import { isTerminal, type SagaStatus } from '../model/saga-document.js';

export type SagaOutcome = Extract<SagaStatus, 'completed' | 'compensated' | 'failed' | 'rejected'>;

/** A forward attempt ends `completed`, `failed` or `timed-out`; a compensation attempt the other two. */
export type StepOutcome = 'completed' | 'failed' | 'timed-out' | 'compensated' | 'compensation-failed';

export interface SagaMetrics {
  /** Sagas created from trigger documents (rejected ones included). */
  sagasStarted(saga: string, count: number): void;
  /** Sagas that reached an end state through a transition this process applied. */
  sagasEnded(saga: string, outcome: SagaOutcome, count: number): void;
  /** An attempt of user code begins; the returned function is called once, when it ends. */
  stepAttemptStarted(saga: string, step: string): (outcome: StepOutcome) => void;
  /** A failed attempt was scheduled to run again. */
  stepRetried(saga: string, step: string, phase: StepPhase): void;
  /** This process's watcher of `saga` took (true) or left (false) the trigger lease. */
  watcherActive(saga: string, active: boolean): void;
  /** now − cluster time of the last change event read (0 when the stream is drained). */
  watcherLag(saga: string, seconds: number): void;
}

const ignoreOutcome = (): void => undefined;

/** The default sink: reports nothing. */
export const noSagaMetrics: SagaMetrics = {
  sagasStarted: () => undefined,
  sagasEnded: () => undefined,
  stepAttemptStarted: () => ignoreOutcome,
  stepRetried: () => undefined,
  watcherActive: () => undefined,
  watcherLag: () => undefined,
};

/** Counts `saga` as ended when a transition just left it in an end state (e.g. a compensation with no plan). */
export function countIfEnded(metrics: SagaMetrics, saga: { saga: string; status: SagaStatus }): void {
  if (isTerminal(saga.status)) metrics.sagasEnded(saga.saga, saga.status as SagaOutcome, 1);
}
