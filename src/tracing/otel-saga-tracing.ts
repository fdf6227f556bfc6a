// SagaTracing over OpenTelemetry's API, given as a loaded module (load-saga-tracing.ts imports it only if installed).
// One trace per saga: its root span `saga <name>` is recorded by the process that ends the saga (ARCHITECTURE.md).
import type * as OtelApi from '@opentelemetry/api';
import type {
  Attributes,
  Context,
  Link,
  Span,
  SpanContext,
  Tracer,
  TracerProvider,
} from '@opentelemetry/api';
import { isTerminal, type SagaStatus, type SagaTraceContext } from '../model/saga-document.js';
import type { StepJobRef } from '../model/step-job-ref.js';
import { withPinnedIds } from './saga-id-generator.js';
import {
  UNTRACED,
  type AttemptDetails,
  type AttemptTrace,
  type SagaStartTrace,
  type SagaTracing,
  type TracedSaga,
  type TriggerOrigin,
} from './saga-tracing.js';
import { formatTraceparent, isSampled, parseTraceparent, type ParsedTraceparent } from './traceparent.js';

export type OpenTelemetryApi = typeof OtelApi;

export interface OtelSagaTracingOptions {
  /** The trigger document's field holding the `traceparent` of the request that wrote it. */
  traceparentField: string;
  /** Where spans go; the global provider (the SDK the process registered) when absent. */
  tracerProvider?: TracerProvider;
  /** Told once when root spans cannot take their stored ids (the SDK lacks SagaIdGenerator). */
  warn?: (message: string) => void;
}

const TRACER_NAME = 'sagastream';

/** `messaging.system` of the queue hops: BullMQ is not in the semantic conventions' list, so its own name. */
const MESSAGING_SYSTEM = 'bullmq';

function sagaAttributes(saga: TracedSaga): Attributes {
  return {
    'sagastream.saga.id': saga._id,
    'sagastream.saga.name': saga.saga,
    'sagastream.saga.version': saga.version ?? 1,
    'sagastream.saga.key': saga.key,
  };
}

/** The span of a redriven saga's generation `generation`, under its root. */
function redriveSpanName(saga: TracedSaga, generation: number): string {
  return `saga ${saga.saga} (redrive ${generation})`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class OtelSagaTracing implements SagaTracing {
  readonly enabled = true;
  private readonly tracer: Tracer;
  /** False once a root span did not take its pinned ids: roots are then recorded as children of the stored one. */
  private pinning = true;

  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly options: OtelSagaTracingOptions,
  ) {
    const provider = options.tracerProvider ?? api.trace.getTracerProvider();
    this.tracer = provider.getTracer(TRACER_NAME);
  }

  private remote(parsed: ParsedTraceparent): Context {
    const { api } = this;
    const spanContext: SpanContext = { ...parsed, isRemote: true };
    return api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext);
  }

  private link(value: unknown): Link[] {
    const parsed = parseTraceparent(value);
    return parsed ? [{ context: { ...parsed, isRemote: true } }] : [];
  }

  /** The trigger document's traceparent, else (a saga started from code) the caller's active span. */
  private linkOf(trigger: TriggerOrigin | undefined): string | undefined {
    if (trigger) {
      const value = trigger.document[this.options.traceparentField];
      return parseTraceparent(value) ? String(value).trim().toLowerCase() : undefined;
    }
    const active = this.api.trace.getSpanContext(this.api.context.active());
    return active && this.api.trace.isSpanContextValid(active) ? formatTraceparent(active) : undefined;
  }

  sagaStarting(saga: TracedSaga, trigger?: TriggerOrigin): SagaStartTrace {
    const { api } = this;
    const link = this.linkOf(trigger);
    const links = this.link(link);
    // Started for its ids and the sampler's decision; a running saga's root is recorded again at its end.
    const root = this.tracer.startSpan(
      `saga ${saga.saga}`,
      { root: true, startTime: saga.createdAt, attributes: sagaAttributes(saga), links },
      api.ROOT_CONTEXT,
    );
    const rootContext = root.spanContext();
    if (!api.trace.isSpanContextValid(rootContext)) return UNTRACED.start;
    const triggerSpan = trigger
      ? this.tracer.startSpan(
          'trigger',
          {
            kind: api.SpanKind.CONSUMER,
            startTime: trigger.receivedAt,
            links,
            attributes: {
              ...sagaAttributes(saga),
              'db.system.name': 'mongodb',
              'db.namespace': trigger.ns.db,
              'db.collection.name': trigger.ns.coll,
              'sagastream.trigger.operation': trigger.operationType,
            },
          },
          api.trace.setSpan(api.ROOT_CONTEXT, root),
        )
      : undefined;
    return {
      context: { traceparent: formatTraceparent(rootContext), ...(link ? { link } : {}) },
      stored: (stored) => {
        triggerSpan?.setAttribute('sagastream.saga.outcome', stored.status);
        triggerSpan?.end();
        // Rejected at its start: this process ends it, and still holds its root.
        if (isTerminal(stored.status)) this.finishRoot(root, stored, stored.status);
      },
    };
  }

  attempt(ref: StepJobRef, saga: TracedSaga, details: AttemptDetails): AttemptTrace {
    const parent = parseTraceparent(ref.trace ?? saga.trace?.traceparent);
    if (!parent) return UNTRACED.attempt;
    const { api } = this;
    const forward = ref.phase === 'forward';
    const span = this.tracer.startSpan(
      `${forward ? 'step' : 'compensate'} ${ref.stepName}`,
      {
        kind: api.SpanKind.CONSUMER,
        attributes: {
          ...sagaAttributes(saga),
          'sagastream.saga.step': ref.stepName,
          'sagastream.saga.attempt': ref.attempt,
          'sagastream.saga.generation': ref.generation,
          'sagastream.step.phase': ref.phase,
          'sagastream.step.timeout_ms': details.timeoutMs,
          'messaging.system': MESSAGING_SYSTEM,
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': details.queue,
          ...(details.jobId === undefined ? {} : { 'messaging.message.id': details.jobId }),
        },
      },
      this.remote(parent),
    );
    const spanContext = span.spanContext();
    let ended = false;
    return {
      span,
      logFields: {
        trace_id: spanContext.traceId,
        span_id: spanContext.spanId,
        trace_flags: `0${spanContext.traceFlags.toString(16)}`.slice(-2),
      },
      wrap: (fn) => (arg) =>
        api.context.with(api.trace.setSpan(api.context.active(), span), fn, undefined, arg),
      end: (outcome, result = {}) => {
        if (ended) return;
        ended = true;
        span.setAttribute('sagastream.saga.outcome', outcome);
        if (result.retryDelayMs !== undefined)
          span.setAttribute('sagastream.step.retry_delay_ms', result.retryDelayMs);
        if (result.error !== undefined) {
          span.recordException(result.error instanceof Error ? result.error : errorMessage(result.error));
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorMessage(result.error) });
        }
        span.end();
      },
    };
  }

  waitEnded(saga: TracedSaga, stepName: string, since: Date, outcome: string): void {
    const parent = parseTraceparent(saga.trace?.traceparent);
    if (!parent) return;
    const span = this.tracer.startSpan(
      `wait ${stepName}`,
      {
        startTime: since,
        attributes: {
          ...sagaAttributes(saga),
          'sagastream.saga.step': stepName,
          'sagastream.saga.outcome': outcome,
        },
      },
      this.remote(parent),
    );
    if (outcome === 'timed-out')
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: 'wait timed out' });
    span.end();
  }

  sagaRedriven(saga: TracedSaga, at: Date): SagaTraceContext | undefined {
    const rootValue = saga.trace?.root ?? saga.trace?.traceparent;
    const root = parseTraceparent(rootValue);
    if (!root) return undefined;
    // Started for its id; recorded again, with that id, when the redriven saga ends (as the root is).
    const generation = saga.generation + 1;
    const span = this.tracer.startSpan(
      redriveSpanName(saga, generation),
      { startTime: at, attributes: { ...sagaAttributes(saga), 'sagastream.saga.generation': generation } },
      this.remote(root),
    );
    const context = span.spanContext();
    if (!this.api.trace.isSpanContextValid(context)) return undefined;
    return {
      traceparent: formatTraceparent(context),
      root: String(rootValue).trim().toLowerCase(),
      since: at,
      ...(saga.trace?.link ? { link: saga.trace.link } : {}),
    };
  }

  sagaEnded(saga: TracedSaga, outcome: SagaStatus = saga.status): void {
    if (!isTerminal(outcome)) return;
    const own = parseTraceparent(saga.trace?.traceparent);
    // Not sampled at its start: none of its spans were recorded, nor is its root.
    if (!own || !isSampled(own)) return;
    // A redriven saga ends its generation's span; its root was recorded when it first ended.
    const root = parseTraceparent(saga.trace?.root);
    const span = root
      ? this.startStored(
          redriveSpanName(saga, saga.generation),
          own,
          {
            startTime: saga.trace?.since ?? saga.createdAt,
            attributes: { ...sagaAttributes(saga), 'sagastream.saga.generation': saga.generation },
          },
          root,
        )
      : this.startStoredRoot(saga, own);
    this.finishRoot(span, saga, outcome);
  }

  /**
   * The root span again, with the ids its trace already names: SagaIdGenerator gives the SDK the stored ones.
   * Without it the SDK picks its own, so the saga's span becomes a child of the stored root (ARCHITECTURE.md).
   */
  private startStoredRoot(saga: TracedSaga, root: ParsedTraceparent): Span {
    return this.startStored(`saga ${saga.saga}`, root, {
      startTime: saga.createdAt,
      attributes: sagaAttributes(saga),
      links: this.link(saga.trace?.link),
    });
  }

  /**
   * A span whose ids a trace already names (`ids`): a root (no `parent`) or a redrive's span under the root.
   * Without SagaIdGenerator, a child of the span it should have been.
   */
  private startStored(
    name: string,
    ids: ParsedTraceparent,
    options: { startTime: Date; attributes: Attributes; links?: Link[] },
    parent?: ParsedTraceparent,
  ): Span {
    const { api } = this;
    const parentContext = parent ? this.remote(parent) : api.ROOT_CONTEXT;
    if (this.pinning) {
      const span = withPinnedIds(ids, () =>
        this.tracer.startSpan(name, { ...options, root: !parent }, parentContext),
      );
      const context = span.spanContext();
      if (context.spanId === ids.spanId && context.traceId === ids.traceId) return span;
      if (!api.trace.isSpanContextValid(context)) return span;
      this.pinning = false;
      this.options.warn?.(
        "the OpenTelemetry SDK does not use sagastream's SagaIdGenerator: each saga's span is recorded under a " +
          'root that is never exported (set idGenerator: new SagaIdGenerator() in your SDK setup)',
      );
    }
    return this.tracer.startSpan(name, { ...options, root: false }, this.remote(ids));
  }

  private finishRoot(span: Span, saga: TracedSaga, outcome: SagaStatus): void {
    span.setAttribute('sagastream.saga.outcome', outcome);
    if (outcome !== 'completed') {
      span.setStatus({
        code: this.api.SpanStatusCode.ERROR,
        message: saga.error?.message ?? saga.reason ?? outcome,
      });
    }
    span.end(saga.endedAt ?? new Date());
  }
}
