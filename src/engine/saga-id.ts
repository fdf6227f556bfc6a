// Saga ids: time-ordered (so `_id` order is creation order for pagination) and safe inside BullMQ job ids.
import { randomBytes } from 'node:crypto';

/** `sg` + 9 base-36 digits of milliseconds + 12 random hex digits; never contains ':' nor starts with a digit. */
export function newSagaId(now = Date.now()): string {
  return `sg${now.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

const SAGA_ID_PATTERN = /^sg[0-9a-z]{9}[0-9a-f]{12}$/;

export function isSagaId(value: string): boolean {
  return SAGA_ID_PATTERN.test(value);
}
