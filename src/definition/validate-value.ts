// The one way the engine checks a value against a user's zod schema: async (refinements may be), and a schema
// that throws fails the value instead of the caller, so a bad document or output can never stall the engine.
import type { z } from 'zod';
import type { ValidationIssue } from '../errors/validation-error.js';

export type Validated<T> = { success: true; data: T } | { success: false; issues: ValidationIssue[] };

export async function validateValue<T>(schema: z.ZodType<T>, value: unknown): Promise<Validated<T>> {
  try {
    const result = await schema.safeParseAsync(value);
    if (result.success) return { success: true, data: result.data };
    return { success: false, issues: toValidationIssues(result.error) };
  } catch (error) {
    // A refinement or transform threw: the value cannot be accepted, and retrying would throw again.
    const message = error instanceof Error ? error.message : String(error);
    return { success: false, issues: [{ path: '', message: `the schema threw: ${message}` }] };
  }
}

export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`))
    .join('; ');
}
