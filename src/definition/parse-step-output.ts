import { ValidationError } from '../errors/validation-error.js';
import type { ResolvedStep } from './step-definition.js';
import { describeIssues, validateValue } from './validate-value.js';

/**
 * Checks what a step's `run` returned against its `output` schema (when it has one) and returns the parsed
 * value to record; without a schema the value is returned as is.
 * @throws ValidationError `OUTPUT_VALIDATION_FAILED`, which is not retried.
 */
export async function parseStepOutput(step: ResolvedStep, value: unknown, sagaId?: string): Promise<unknown> {
  if (step.output === undefined) return value;
  const result = await validateValue(step.output, value);
  if (result.success) return result.data;
  throw new ValidationError(
    'OUTPUT_VALIDATION_FAILED',
    `Step "${step.name}" returned a value that does not match its output schema: ${describeIssues(result.issues)}. ` +
      'Make run return what the schema describes, or change the schema.',
    result.issues,
    { step: step.name, ...(sagaId === undefined ? {} : { sagaId }) },
  );
}
