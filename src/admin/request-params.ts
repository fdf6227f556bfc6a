// zod validation of path and query parameters; a refusal is a 400 naming each bad parameter.
import { z } from 'zod';
import { isSagaId } from '../model/saga-id.js';
import { DEAD_LETTER_ID_FORMS, parseDeadLetterJobId } from '../queue/queue-names.js';
import { AdminHttpError } from './admin-http-error.js';

const SAGA_ID_FORM =
  'a saga id like sg-65edeea1bbe5e6b5316d9f81eb34af78 ("sg-" and 32 hex digits; or, for a saga stored by an ' +
  'earlier version, like sg0mabc1234a1b2c3d4e5f6: "sg", 9 base-36 digits, 12 hex digits)';

export const sagaIdParams = z.strictObject({
  id: z.string().refine(isSagaId, { message: `must be ${SAGA_ID_FORM}` }),
});

/** Every form queue-names.ts makes: a final failure's entry and a stuck saga's report. */
export function isDeadLetterId(value: string): boolean {
  const parts = parseDeadLetterJobId(value);
  return parts !== null && isSagaId(parts.sagaId);
}

export const deadLetterIdParams = z.strictObject({
  id: z.string().refine(isDeadLetterId, {
    message: `must be a dead-letter id: ${DEAD_LETTER_ID_FORMS.join(' or ')}`,
  }),
});

export function parseParams<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: 'path' | 'query' | 'body',
): z.output<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.map(String).join('.');
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '';
    if (unknownKeys) return `unknown ${where} parameter ${unknownKeys}`;
    return `${where} parameter ${name || '(root)'}: ${issue.message}`;
  });
  throw new AdminHttpError('BAD_REQUEST', problems.join('; '));
}
