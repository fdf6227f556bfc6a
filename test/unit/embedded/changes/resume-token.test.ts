import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import {
  compareResumePoints,
  decodeResumeToken,
  encodeResumeToken,
  type ResumePoint,
} from '../../../../src/embedded/changes/index.js';

const at = (t: number, i: number, kind: ResumePoint['kind']): ResumePoint => ({
  ts: new Timestamp({ t, i }),
  kind,
});

describe('resume tokens', () => {
  it('round-trips every kind through an uppercase hex string', () => {
    for (const kind of ['startAt', 'event', 'invalidate', 'highWaterMark'] as const) {
      const point = at(1_700_000_000, 42, kind);
      const token = encodeResumeToken(point);
      expect(token._data).toMatch(/^[0-9A-F]+$/);
      const decoded = decodeResumeToken(token);
      expect(decoded.kind).toBe(kind);
      expect(decoded.ts.equals(point.ts)).toBe(true);
    }
  });

  it('orders as strings exactly as the positions they encode', () => {
    const points = [
      at(0, 0, 'highWaterMark'),
      at(5, 0xffffffff, 'event'),
      at(6, 1, 'startAt'),
      at(6, 1, 'event'),
      at(6, 1, 'invalidate'),
      at(6, 1, 'highWaterMark'),
      at(6, 2, 'event'),
      at(0xffffffff, 3, 'event'),
    ];
    for (let a = 0; a < points.length; a++) {
      for (let b = 0; b < points.length; b++) {
        const left = points[a]!;
        const right = points[b]!;
        const leftData = encodeResumeToken(left)._data;
        const rightData = encodeResumeToken(right)._data;
        const byString = leftData < rightData ? -1 : leftData > rightData ? 1 : 0;
        expect(Math.sign(compareResumePoints(left, right))).toBe(Math.sign(a - b));
        expect(byString).toBe(Math.sign(a - b));
      }
    }
  });

  it('rejects tokens this server did not produce with InvalidResumeToken (260)', () => {
    for (const bad of [
      null,
      'abc',
      [],
      {},
      { _data: 42 },
      { _data: 'zz' },
      { _data: '8200000001000000010F' },
    ]) {
      expect(() => decodeResumeToken(bad)).toThrow(expect.objectContaining({ code: 260 }));
    }
  });
});
