// Collects what is wrong with a saga definition so one error can list every problem at once.
import type { z } from 'zod';
import { SagastreamError } from '../errors/sagastream-error.js';

/** `where` prefixes each problem, e.g. `step "reserve-stock"`; the zod path follows it. */
export function issuesToProblems(error: z.ZodError, where: string): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const subject = [where, path].filter((part) => part !== '').join(' ');
    return subject === '' ? issue.message : `${subject}: ${issue.message}`;
  });
}

export function invalidDefinitionError(sagaName: unknown, problems: readonly string[]): SagastreamError {
  const saga = typeof sagaName === 'string' && sagaName !== '' ? `saga "${sagaName}"` : 'a saga';
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new SagastreamError(
    'INVALID_DEFINITION',
    `Invalid definition of ${saga} (${count}); fix it where defineSaga is called:\n  - ${problems.join('\n  - ')}`,
  );
}
