// `ctx.span`: the span of the step attempt running the user's code. It is OpenTelemetry's own span object when
// tracing is on; this interface names the part of it a step needs, so sagastream's types do not require
// @opentelemetry/api to be installed.

export type SpanAttributeValue = string | number | boolean | string[] | number[] | boolean[];

export interface StepSpanContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

export interface StepSpan {
  spanContext(): StepSpanContext;
  setAttribute(key: string, value: SpanAttributeValue): this;
  setAttributes(attributes: Record<string, SpanAttributeValue>): this;
  addEvent(name: string, attributes?: Record<string, SpanAttributeValue>): this;
  recordException(exception: unknown): void;
  /** False when tracing is off or this saga's trace is not sampled: attributes and events go nowhere then. */
  isRecording(): boolean;
}

const INVALID_CONTEXT: StepSpanContext = {
  traceId: '00000000000000000000000000000000',
  spanId: '0000000000000000',
  traceFlags: 0,
};

/** The span of every attempt while tracing is off: records nothing, costs nothing. */
export const noopStepSpan: StepSpan = {
  spanContext: () => INVALID_CONTEXT,
  setAttribute() {
    return this;
  },
  setAttributes() {
    return this;
  },
  addEvent() {
    return this;
  },
  recordException: () => undefined,
  isRecording: () => false,
};
