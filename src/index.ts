/**
 * sagastream: sagas started by MongoDB change streams, run as BullMQ jobs, compensated when a step fails.
 *
 * Define sagas in a module of your project and point the CLI at it
 * (`sagastream worker --sagas-module ./sagas.ts`, or `SAGAS=./sagas.ts`):
 *
 * ```ts
 * import { defineSaga, SagaRegistry, TerminalError, type SagasSetupContext } from 'sagastream';
 * import { z } from 'zod';
 * import { PaymentsClient } from './payments.js'; // your service client
 *
 * export const chargeOrder = defineSaga({
 *   name: 'charge-order',
 *   trigger: { collection: 'orders', filter: { status: 'pending' } }, // optional: without, start it from code
 *   input: z.object({ _id: z.unknown(), customerId: z.string(), total: z.number().positive() }),
 *   services: {} as { payments: PaymentsClient }, // the type of ctx.services; setup() below returns them
 *   timeout: '5m',
 * })
 *   .step({
 *     name: 'charge-card',
 *     timeout: '30s',
 *     retry: { attempts: 3, backoff: { type: 'exponential', delay: '1s' } },
 *     output: z.object({ chargeId: z.string() }),
 *     run: async (ctx) => {
 *       const charge = await ctx.services.payments.charge(ctx.input.customerId, ctx.input.total, {
 *         idempotencyKey: ctx.idempotencyKey, // the same on every attempt: a retry cannot charge twice
 *         signal: ctx.signal, // aborted on timeout or cancel
 *       });
 *       if (charge.declined) throw new TerminalError('card declined'); // no retries: compensate now
 *       return { chargeId: charge.id };
 *     },
 *     compensate: async (ctx) => {
 *       // ctx.output is undefined when the step timed out: look the charge up by its forward key instead.
 *       await ctx.services.payments.refund(ctx.output?.chargeId ?? ctx.forwardIdempotencyKey);
 *     },
 *   })
 *   .step({ name: 'notify', run: async (ctx) => ({ chargeId: ctx.outputs['charge-card'].chargeId }) })
 *   .build();
 *
 * export default new SagaRegistry([chargeOrder]);
 *
 * // Called once per process after it connected, before any step runs: what it returns is ctx.services.
 * export async function setup({ logger }: SagasSetupContext) {
 *   return { payments: await PaymentsClient.connect(process.env.PAYMENTS_URL, { logger }) };
 * }
 * ```
 *
 * Start sagas from code with {@link SagaClient}; embed the roles in your own process with {@link SagaRuntime}.
 * To run sagas in your tests, with their timeouts and backoffs shrunk, see `sagastream/testing`.
 *
 * @module
 */

// Defining sagas
export { defineSaga, type LooseOutputs, type SagaSpecWithSteps } from './definition/define-saga.js';
export { SagaBuilder } from './definition/saga-builder.js';
export { SagaRegistry } from './definition/saga-registry.js';
export type { SagaDefinition, SagaOptionsSpec } from './definition/saga-definition.js';
export {
  idempotencyKeyFor,
  type CompensationContext,
  type StepContext,
  type StepPhase,
} from './definition/step-context.js';
export type {
  LooseStepSpec,
  ResolvedStep,
  StepSpecWithoutSchema,
  StepSpecWithSchema,
} from './definition/step-definition.js';
export type { TriggerDocument } from './definition/trigger-key.js';
export type { TriggerKeyFunction, TriggerOperation, TriggerSpec } from './definition/trigger.js';
export { parseDuration, type DurationInput } from './definition/duration.js';
export { parseRetention, type Retention, type RetentionInput } from './definition/retention.js';
export type { Stored } from './definition/stored-value.js';
export type { BackoffType, RetryPolicyInput } from './definition/retry-policy.js';

// Errors
export { SagastreamError, type SagastreamErrorOptions } from './errors/sagastream-error.js';
export { TerminalError, type TerminalErrorOptions } from './errors/terminal-error.js';
export { StepTimeoutError } from './errors/step-timeout-error.js';
export { ValidationError, type ValidationIssue } from './errors/validation-error.js';
export { ERROR_CODES, type ErrorCode } from './errors/error-codes.js';
export { isRetryable } from './errors/is-retryable.js';

// Starting and awaiting sagas from code
export {
  SagaClient,
  SagaHandle,
  type ResultOptions,
  type SagaClientOptions,
  type SagaResult,
  type StartOptions,
  type StartedSaga,
} from './client/index.js';

// Running sagas
export { SagaRuntime, type SagaRuntimeOptions } from './runtime/saga-runtime.js';
export type { DeadLetterEntry, DeadLetterPage } from './engine/saga-operations.js';
export {
  isTerminal,
  SAGA_STATUSES,
  TERMINAL_STATUSES,
  type SagaDocument,
  type SagaStatus,
  type StepRecord,
  type StepStatus,
} from './model/saga-document.js';
export type { SagasModule, SagasSetupContext } from './runtime/sagas-module.js';

// Metrics: give a SagaRuntime a PrometheusSagaMetrics and serve it, or pass your own SagaMetrics sink
export type { SagaMetrics, SagaOutcome, StepOutcome } from './engine/saga-metrics.js';
export {
  PrometheusSagaMetrics,
  startMetricsServer,
  type MetricsServer,
  type MetricsServerOptions,
  type MetricsSource,
  type PrometheusSagaMetricsOptions,
} from './metrics/index.js';

// Logging: give SagaRuntime.start a pino logger, or any logger with pino's methods
export type { LogMethod, SagaLogger } from './logging/saga-logger.js';

// Tracing: one OpenTelemetry trace per saga when @opentelemetry/api is installed (README, Tracing). Set up the SDK
// yourself with `idGenerator: new SagaIdGenerator()`, or let the CLI do it (OTEL_EXPORTER_OTLP_ENDPOINT).
export { SagaIdGenerator } from './tracing/saga-id-generator.js';
export type { SpanAttributeValue, StepSpan, StepSpanContext } from './tracing/step-span.js';
export type { TracingOptions, TracerProviderLike } from './tracing/tracing-options.js';
export type { SagaTraceContext } from './model/saga-document.js';
