// The `tracing` option of SagaRuntime.start (and the CLI's environment): validated once, defaults filled in.
import { z } from 'zod';

/** The part of OpenTelemetry's TracerProvider sagastream uses. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}

const isTracerProvider = (value: unknown): value is TracerProviderLike =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { getTracer?: unknown }).getTracer === 'function';

export const tracingOptionsSchema = z.strictObject({
  /**
   * Trace sagas with OpenTelemetry when @opentelemetry/api is installed (an optional peer dependency): spans go to
   * the SDK the process registered, or to `tracerProvider`. Without the API installed this is a no-op. Default true.
   */
  enabled: z.boolean().default(true),
  /**
   * The trigger document field holding the W3C `traceparent` of the request that wrote it: its saga's spans link
   * to that trace. Default `traceparent`.
   */
  traceparentField: z.string().min(1).default('traceparent'),
  /** Where this process's spans go, instead of the globally registered provider (tests, several providers). */
  tracerProvider: z
    .custom<TracerProviderLike>(isTracerProvider, { error: 'tracerProvider must have getTracer()' })
    .optional(),
});

export type TracingOptions = z.input<typeof tracingOptionsSchema>;
export type ResolvedTracingOptions = z.output<typeof tracingOptionsSchema>;
