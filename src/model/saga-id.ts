// Saga ids. A saga's `_id` is derived from its (saga name, key), so that `_id` uniqueness is the one-saga-per-key
// dedup and a hashed `_id` shard key keeps every hot-path read and write on one shard (README, Scaling out).
import { createHash } from 'node:crypto';

const DERIVED_PREFIX = 'sg-';
const DERIVED_PATTERN = /^sg-[0-9a-f]{32}$/;
/** The ids of earlier versions: `sg` + 9 base-36 digits of creation milliseconds + 12 random hex digits. */
const LEGACY_PATTERN = /^sg[0-9a-z]{9}[0-9a-f]{12}$/;

/**
 * The id of the saga of `sagaName` under `key`: `sg-` + the first 128 bits of a SHA-256 over both, in lowercase hex
 * (35 characters). The same on every process and every replay; never contains ':' or '.' (BullMQ job ids and
 * dead-letter ids are built on it) nor starts with a digit. The name and key are hashed as a JSON array, so no
 * two (name, key) pairs share an input.
 */
export function sagaIdFor(sagaName: string, key: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([sagaName, key]))
    .digest('hex');
  return `${DERIVED_PREFIX}${digest.slice(0, 32)}`;
}

/** A saga id of either form: derived (`sagaIdFor`) or stored by an earlier version (`isLegacySagaId`). */
export function isSagaId(value: string): boolean {
  return DERIVED_PATTERN.test(value) || LEGACY_PATTERN.test(value);
}

/** An id of the random, time-ordered form earlier versions gave sagas; such sagas keep it for good. */
export function isLegacySagaId(value: string): boolean {
  return LEGACY_PATTERN.test(value);
}

/**
 * The `_id` range that holds every legacy id and no derived one: legacy ids go on with a digit or letter after `sg`,
 * which sorts after the '-' of `sg-`. A range, so the check for legacy sagas is one index seek.
 */
export const LEGACY_SAGA_ID_RANGE = { $gte: 'sg0', $lt: 'sh' } as const;
