// The tracing calls the engine, the trigger and the client make. `OtelSagaTracing` implements them over
// OpenTelemetry, `noSagaTracing` over nothing; the engine never imports OpenTelemetry (a lint rule keeps it so).
import type { SagaDocument, SagaStatus, SagaTraceContext } from '../model/saga-document.js';
import type { StepJobRef } from '../model/step-job-ref.js';
import { noopStepSpan, type StepSpan } from './step-span.js';

/** What the saga's root span is made of; any saga document (or a copy without history) has it. */
export type TracedSaga = Pick<
  SagaDocument,
  '_id' | 'saga' | 'version' | 'key' | 'generation' | 'createdAt' | 'trace' | 'status' | 'error' | 'reason'
> & { endedAt?: Date };

/** How an attempt ended, as its span's `sagastream.saga.outcome`. */
export type AttemptOutcome =
  'completed' | 'retrying' | 'failed' | 'timed-out' | 'cancelled' | 'compensated' | 'compensation-failed';

export interface AttemptDetails {
  timeoutMs: number;
  /** The BullMQ queue and job the attempt ran in (a carried step runs inside an earlier step's job). */
  queue: string;
  jobId?: string;
}

/** One attempt's span (`step <name>`, `compensate <name>`), open while the attempt runs. */
export interface AttemptTrace {
  /** `ctx.span`. */
  readonly span: StepSpan;
  /** `trace_id`, `span_id` and `trace_flags` for the attempt's log lines; empty when not traced. */
  readonly logFields: Readonly<Record<string, string>>;
  /** `fn`, run with the attempt's span active, so spans the user's code starts (and HTTP calls) nest under it. */
  wrap<A, R>(fn: (arg: A) => R): (arg: A) => R;
  /** Ends the span with the attempt's outcome; only the first call counts. */
  end(outcome: AttemptOutcome, details?: { error?: unknown; retryDelayMs?: number }): void;
}

/** The change event a saga starts from, for its `trigger` span and link. */
export interface TriggerOrigin {
  document: Record<string, unknown>;
  ns: { db: string; coll: string };
  operationType: string;
  /** When the starter took the event. */
  receivedAt: Date;
}

/** A saga about to be stored. */
export interface SagaStartTrace {
  /** To store with the saga (`saga.trace`); undefined when not traced. */
  readonly context: SagaTraceContext | undefined;
  /** The saga is stored: ends the `trigger` span (and the root, for a saga rejected at its start). */
  stored(saga: TracedSaga): void;
}

export interface SagaTracing {
  /** False for `noSagaTracing`: callers may skip work only tracing needs. */
  readonly enabled: boolean;
  /** A new saga's trace: its root span starts at `saga.createdAt`; `trigger` absent for a saga started from code. */
  sagaStarting(saga: TracedSaga, trigger?: TriggerOrigin): SagaStartTrace;
  /** The span of attempt `ref` of `saga` (parent: the job's trace, else the saga's). */
  attempt(ref: StepJobRef, saga: TracedSaga, details: AttemptDetails): AttemptTrace;
  /** A wait step's wait ended (`outcome`: matched, signalled, timed-out): its `wait <name>` span, since `since`. */
  waitEnded(saga: TracedSaga, stepName: string, since: Date, outcome: string): void;
  /**
   * An operator redrives `saga` (ended, its root span recorded) at `at`: the trace context of its new generation, a
   * span under the root that the generation's spans are children of, recorded when the saga ends again. Undefined
   * when the saga is not traced.
   */
  sagaRedriven(saga: TracedSaga, at: Date): SagaTraceContext | undefined;
  /**
   * The saga reached a terminal state (`outcome`, else its status): records its root span, from `createdAt` to
   * now, with that outcome. Called once per saga, by the process whose write ended it. Ignored if not terminal.
   */
  sagaEnded(saga: TracedSaga, outcome?: SagaStatus): void;
}

const untracedAttempt: AttemptTrace = {
  span: noopStepSpan,
  logFields: {},
  wrap: (fn) => fn,
  end: () => undefined,
};

const untracedStart: SagaStartTrace = { context: undefined, stored: () => undefined };

/** Tracing off (or @opentelemetry/api not installed): every call returns at once. */
export const noSagaTracing: SagaTracing = {
  enabled: false,
  sagaStarting: () => untracedStart,
  attempt: () => untracedAttempt,
  waitEnded: () => undefined,
  sagaRedriven: () => undefined,
  sagaEnded: () => undefined,
};

/** Shared by the implementations: the untraced answers, for a saga whose trace is missing or invalid. */
export const UNTRACED = { attempt: untracedAttempt, start: untracedStart } as const;
