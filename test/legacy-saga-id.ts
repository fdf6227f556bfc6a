// The random, time-ordered saga ids of earlier versions, for tests of databases that still hold such sagas.
import { randomBytes } from 'node:crypto';

/** `sg` + 9 base-36 digits of milliseconds + 12 random hex digits, as earlier versions made them. */
export function legacySagaId(now = Date.now()): string {
  return `sg${now.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}
