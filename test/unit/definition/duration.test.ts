import { describe, expect, it } from 'vitest';
import { durationSchema, parseDuration, positiveDurationSchema } from '../../../src/definition/duration.js';
import { SagastreamError } from '../../../src/errors/sagastream-error.js';

describe('durations', () => {
  it.each([
    [0, 0],
    [250, 250],
    [1.4, 1],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    [' 10 s ', 10_000],
  ])('%j is %d ms', (input, expected) => {
    expect(durationSchema.parse(input)).toBe(expected);
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([
    ['abc', '"abc"'],
    ['30', '"30"'],
    ['-5s', '"-5s"'],
    ['5 minutes', '"5 minutes"'],
    ['1e3ms', '"1e3ms"'],
    ['', '""'],
    [-1, '-1'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'nothing'],
    [{}, 'a object'],
    [[], 'an array'],
  ])('%j is refused, naming what it got', (input, shown) => {
    const message = `expected a duration like '30s', '5m' or a number of milliseconds, got ${shown}`;
    const result = durationSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([message]);
    expect(() => parseDuration(input)).toThrow(message);
  });

  it('throws INVALID_DURATION naming the setting', () => {
    try {
      parseDuration('soon', 'saga timeout');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SagastreamError);
      expect((error as SagastreamError).code).toBe('INVALID_DURATION');
      expect((error as SagastreamError).message).toMatch(/^Invalid saga timeout: expected a duration/);
    }
  });

  it('positiveDurationSchema refuses zero', () => {
    expect(positiveDurationSchema.safeParse(0).success).toBe(false);
    expect(positiveDurationSchema.safeParse('0s').success).toBe(false);
    expect(positiveDurationSchema.parse('1ms')).toBe(1);
  });
});
