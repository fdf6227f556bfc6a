import { z } from 'zod';

/** Names and `.step()` names end up in queue job ids and idempotency keys, which use `:` as separator. */
export const NAME_SHAPE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
export const NAME_RULE = '1-64 letters, digits, "-" or "_", starting with a letter (like order-fulfilment)';

/** Accepts any zod 4 schema, including one from another copy of zod, by its shape rather than instanceof. */
export function isZodSchema(value: unknown): value is z.ZodType {
  return (
    typeof value === 'object' &&
    value !== null &&
    '_zod' in value &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}

export function zodSchemaField(what: string) {
  return z.custom<z.ZodType>(isZodSchema, { error: `${what} must be a zod schema, like z.object({ ... })` });
}

export function functionField<T extends (...args: never[]) => unknown>(what: string) {
  return z.custom<T>((value) => typeof value === 'function', { error: `${what} must be a function` });
}
