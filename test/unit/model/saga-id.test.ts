import { describe, expect, it } from 'vitest';
import { isLegacySagaId, isSagaId, LEGACY_SAGA_ID_RANGE, sagaIdFor } from '../../../src/model/saga-id.js';
import { legacySagaId } from '../../legacy-saga-id.js';

describe('saga ids derived from (saga, key)', () => {
  it('are stable across processes and releases: a fixed value for a fixed pair', () => {
    // Pinned: a change here would give every running saga's replayed trigger a second saga.
    expect(sagaIdFor('orders', 'o-1')).toBe('sg-65edeea1bbe5e6b5316d9f81eb34af78');
    expect(sagaIdFor('orders', 'o-1')).toBe(sagaIdFor('orders', 'o-1'));
  });

  it('have a fixed length and a readable prefix, whatever the name and key', () => {
    const keys = ['', 'o-1', 'x'.repeat(5_000), 'ключ:🙂', '{"a":1}', 'invalid-key:{"$oid":"0"}'];
    for (const key of keys) {
      const id = sagaIdFor('order-fulfillment', key);
      expect(id).toMatch(/^sg-[0-9a-f]{32}$/);
      expect(isSagaId(id)).toBe(true);
      expect(isLegacySagaId(id)).toBe(false);
    }
  });

  it('differ for different pairs, including ones a plain join of name and key would confuse', () => {
    const pairs: [string, string][] = [
      ['orders', 'o-1'],
      ['orders', 'o-2'],
      ['payments', 'o-1'],
      ['a', 'b:c'],
      ['a:b', 'c'],
      ['a', '","b'],
      ['a","', 'b'],
    ];
    const ids = pairs.map(([name, key]) => sagaIdFor(name, key));
    expect(new Set(ids).size).toBe(pairs.length);
  });

  it('still accepts the random ids of earlier versions, and nothing else', () => {
    const legacy = legacySagaId(Date.parse('2026-01-01T00:00:00Z'));
    expect(isSagaId(legacy)).toBe(true);
    expect(isLegacySagaId(legacy)).toBe(true);
    for (const bad of [
      '',
      'sg-',
      'sg-65EDEEA1BBE5E6B5316D9F81EB34AF78',
      `${sagaIdFor('a', 'b')}0`,
      'not-a-saga-id',
    ]) {
      expect(isSagaId(bad), bad).toBe(false);
    }
  });

  it('keep legacy ids in a range of their own, so one index seek tells whether any remain', () => {
    const inRange = (id: string) => id >= LEGACY_SAGA_ID_RANGE.$gte && id < LEGACY_SAGA_ID_RANGE.$lt;
    for (const time of [0, 1_000, Date.parse('2026-01-01T00:00:00Z'), 36 ** 9 - 1]) {
      expect(inRange(legacySagaId(time)), String(time)).toBe(true);
    }
    for (const key of ['a', 'b', 'zzz', '0']) expect(inRange(sagaIdFor('orders', key))).toBe(false);
    expect(inRange('sg-ffffffffffffffffffffffffffffffff')).toBe(false);
  });
});
