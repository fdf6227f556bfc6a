// The saga DSL: defineSaga, the resolved SagaDefinition model the engine runs, durations and retry policies.
export { defineSaga, type LooseOutputs, type SagaSpecWithSteps } from './define-saga.js';
export {
  describeInvalidDuration,
  durationSchema,
  parseDuration,
  positiveDurationSchema,
  type DurationInput,
  type DurationUnit,
} from './duration.js';
export { parseSagaInput } from './parse-saga-input.js';
export { parseStepOutput } from './parse-step-output.js';
export { describeIssues, validateValue, type Validated } from './validate-value.js';
export {
  backoffDelay,
  backoffSchema,
  DEFAULT_RETRY_POLICY,
  resolveRetryPolicy,
  retryPolicySchema,
  TRUE_JITTER,
  type BackoffType,
  type ResolvedBackoff,
  type ResolvedRetryPolicy,
  type RetryPolicyInput,
  type RetryPolicyOutput,
} from './retry-policy.js';
export { SagaBuilder, type AddOutput, type Simplify } from './saga-builder.js';
export { ParallelBuilder, type ParallelSpec, type StepGroup } from './parallel-group.js';
export {
  DEFAULT_COMPENSATION_TIMEOUT_MS,
  DEFAULT_SAGA_TIMEOUT_MS,
  DEFAULT_STEP_TIMEOUT_MS,
  resolveSagaDefinition,
  sagaOptionsSchema,
  hasTrigger,
  requireTrigger,
  type SagaDefinition,
  type SagaOptionsSpec,
  type TriggeredSagaDefinition,
} from './saga-definition.js';
export {
  DEFAULT_RETENTION_MS,
  describeInvalidRetention,
  describeRetentions,
  expiryAfter,
  formatRetention,
  parseRetention,
  RetentionPolicy,
  retentionSchema,
  type Retention,
  type RetentionInput,
} from './retention.js';
export { SagaRegistry, isSagaRegistry, ownRegistry, sagasOption, versionOf } from './saga-registry.js';
export { scaleDefinition, scaleDuration, scaleRetryPolicy } from './scale-definition.js';
export {
  idempotencyKeyFor,
  type CompensationContext,
  type StepContext,
  type StepPhase,
} from './step-context.js';
export {
  type AnyCompensationContext,
  type AnyStepContext,
  type LooseStepSpec,
  type ResolvedStep,
  type ResolvedTaskStep,
  type ResolvedWaitStep,
  type StepSpecWithoutSchema,
  type StepSpecWithSchema,
} from './step-definition.js';
export { defaultTriggerKey, type TriggerDocument } from './trigger-key.js';
export {
  SIGNALS_COLLECTION,
  WAIT_OPERATIONS,
  type ResolvedWait,
  type SignalOutput,
  type SignalWaitSpec,
  type WaitMatchContext,
  type WaitOperation,
  type WaitOutput,
  type WaitSpec,
} from './wait-definition.js';
export {
  type ResolvedTrigger,
  type TriggerKeyFunction,
  type TriggerOperation,
  type TriggerSpec,
} from './trigger.js';
export { findFilterProblems } from './trigger-filter.js';
export {
  definitionFingerprint,
  definitionShape,
  describeShapeChanges,
  type DefinitionShape,
  type StepShape,
} from './definition-fingerprint.js';
export { NAME_RULE, NAME_SHAPE } from './zod-schema-check.js';
