// Validation of a trigger document against a saga's input schema, as the engine does it.
import { ValidationError } from '../errors/validation-error.js';
import type { SagaDefinition } from './saga-definition.js';
import { describeIssues, validateValue } from './validate-value.js';

/**
 * Parses a trigger document with the saga's `input` schema.
 * @throws ValidationError `INPUT_VALIDATION_FAILED` with the issues; the watcher stores the saga as rejected.
 */
export async function parseSagaInput<TInput>(
  definition: SagaDefinition<TInput>,
  document: unknown,
): Promise<TInput> {
  const result = await validateValue(definition.input, document);
  if (result.success) return result.data;
  throw new ValidationError(
    'INPUT_VALIDATION_FAILED',
    `The input does not match the input schema of saga "${definition.name}": ` +
      `${describeIssues(result.issues)}. Fix the input (the trigger document, or what is passed to start) or widen ` +
      'the schema.',
    result.issues,
  );
}
