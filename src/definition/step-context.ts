// What a step's `run` and `compensate` receive from the engine.
import type { SagaLogger } from '../logging/saga-logger.js';
import type { StepSpan } from '../tracing/step-span.js';
import type { Stored } from './stored-value.js';

export type StepPhase = 'forward' | 'compensate';

export interface StepContext<TInput = unknown, TOutputs = Record<string, unknown>, TServices = unknown> {
  /** The saga instance id (stable for the saga's life). */
  readonly sagaId: string;
  readonly sagaName: string;
  /** This step's name. */
  readonly step: string;
  /** The trigger document as parsed by the saga's `input` schema. */
  readonly input: TInput;
  /** The outputs of the steps that ran before this one, by step name. */
  readonly outputs: TOutputs;
  /**
   * The same for every attempt of this step in this saga (`idempotencyKeyFor`): pass it to downstream APIs
   * (e.g. a payment provider's Idempotency-Key) so a retried attempt cannot act twice.
   */
  readonly idempotencyKey: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Aborted when the attempt times out or the saga is cancelled; hand it to fetch, drivers, timers. */
  readonly signal: AbortSignal;
  /** A child logger whose lines carry the saga id and step name. */
  readonly logger: SagaLogger;
  /** When this attempt will be aborted: the earlier of its timeout and (going forward) the saga deadline. */
  readonly deadline: Date;
  /**
   * This attempt's OpenTelemetry span (`step <name>` or `compensate <name>`), a child of the saga's trace. It is also
   * the active span while `run`/`compensate` runs, so spans you start (and auto-instrumented HTTP calls) nest under
   * it. Records nothing when tracing is off or @opentelemetry/api is not installed.
   */
  readonly span: StepSpan;
  /**
   * The process's services (clients, repositories), as the sagas module's `setup` returned them or
   * `SagaRuntime.start({ services })` gave them; typed by the saga's `services` declaration. Ready before the
   * first step of the process runs.
   */
  readonly services: TServices;
}

export interface CompensationContext<
  TInput = unknown,
  TOutputs = Record<string, unknown>,
  TOutput = unknown,
  TServices = unknown,
> extends StepContext<TInput, TOutputs, TServices> {
  /**
   * The output this step recorded. `undefined` when its last forward attempt failed or timed out without
   * recording one: it may or may not have taken effect, so look it up downstream by `forwardIdempotencyKey`.
   */
  readonly output: Stored<TOutput> | undefined;
  /** Why the saga is compensating, e.g. the failed step's error message, `cancelled` or `deadline exceeded`. */
  readonly reason: string;
  /** The forward idempotency key of this step, which a downstream service may have stored. */
  readonly forwardIdempotencyKey: string;
}

/**
 * The idempotency key of a saga's step: `${sagaId}:${step}` going forward, `${sagaId}:${step}:compensate`
 * when compensating. Step names cannot contain `:`, so keys never collide.
 */
export function idempotencyKeyFor(sagaId: string, stepName: string, phase: StepPhase): string {
  return phase === 'forward' ? `${sagaId}:${stepName}` : `${sagaId}:${stepName}:compensate`;
}
