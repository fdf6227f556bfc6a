import { describe, expect, it } from 'vitest';
import { formatTraceparent, isSampled, parseTraceparent } from '../../../src/tracing/traceparent.js';

describe('traceparent', () => {
  it('parses a version-00 value and formats it back', () => {
    const value = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const parsed = parseTraceparent(value);
    expect(parsed).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    });
    expect(formatTraceparent(parsed!)).toBe(value);
    expect(isSampled(parsed!)).toBe(true);
    expect(isSampled(parseTraceparent(value.replace(/01$/, '00'))!)).toBe(false);
  });

  it('refuses malformed values and the all-zero ids', () => {
    for (const value of [
      undefined,
      42,
      '',
      '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
    ]) {
      expect(parseTraceparent(value), String(value)).toBeUndefined();
    }
  });
});
