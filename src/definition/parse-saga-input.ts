// Validation of runtime values against a definition's schemas, turning zod failures into ValidationErrors.
import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors/validation-error.js';
import type { SagaDefinition } from './saga-definition.js';

export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`))
    .join('; ');
}

/**
 * Parses a trigger document with the saga's `input` schema.
 * @throws ValidationError `INPUT_VALIDATION_FAILED` with the issues; the watcher stores the saga as rejected.
 */
export async function parseSagaInput<TInput>(
  definition: SagaDefinition<TInput>,
  document: unknown,
): Promise<TInput> {
  // safeParseAsync: input schemas may use async refinements.
  const result = await definition.input.safeParseAsync(document);
  if (result.success) return result.data;
  const issues = toValidationIssues(result.error);
  throw new ValidationError(
    'INPUT_VALIDATION_FAILED',
    `The trigger document does not match the input schema of saga "${definition.name}": ` +
      `${describeIssues(issues)}. Fix the document or widen the schema (or trigger.filter to skip it).`,
    issues,
  );
}
