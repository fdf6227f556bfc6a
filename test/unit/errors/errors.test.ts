import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  isErrorCode,
  isRetryable,
  SagastreamError,
  serializeError,
  StepTimeoutError,
  TerminalError,
  ValidationError,
} from '../../../src/errors/index.js';

describe('SagastreamError', () => {
  it('carries a registered code, saga id, step and cause', () => {
    const cause = new Error('socket closed');
    const error = new SagastreamError('STEP_FAILED', 'step failed', { sagaId: 's1', step: 'charge', cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SagastreamError');
    expect(error.code).toBe('STEP_FAILED');
    expect(error.sagaId).toBe('s1');
    expect(error.step).toBe('charge');
    expect(error.cause).toBe(cause);
    expect(error.retryable).toBe(true);
  });

  it('leaves cause unset when none is given', () => {
    const error = new SagastreamError('INVALID_STATE', 'nope');
    expect('cause' in error).toBe(false);
    expect(error.sagaId).toBeUndefined();
  });

  it('takes retryability from the registry', () => {
    for (const [code, { retryable }] of Object.entries(ERROR_CODES)) {
      if (!isErrorCode(code)) throw new Error(`bad registry key ${code}`);
      expect(new SagastreamError(code, 'x').retryable).toBe(retryable);
    }
    expect(isErrorCode('STEP_TIMEOUT')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });
});

describe('TerminalError', () => {
  it('defaults its code to TERMINAL and is never retryable', () => {
    const error = new TerminalError('card declined');
    expect(error).toBeInstanceOf(SagastreamError);
    expect(error.name).toBe('TerminalError');
    expect(error.code).toBe('TERMINAL');
    expect(error.retryable).toBe(false);
    expect(isRetryable(error)).toBe(false);
  });

  it('keeps a code chosen by user code, and never throws on a bad one', () => {
    expect(new TerminalError('declined', { code: 'CARD_DECLINED' }).code).toBe('CARD_DECLINED');
    expect(new TerminalError('declined', { code: '  ' }).code).toBe('TERMINAL');
    expect(new TerminalError('declined', { code: 'x'.repeat(100) }).code).toHaveLength(64);
  });
});

describe('StepTimeoutError', () => {
  it('names the saga, step and timeout and is retryable', () => {
    const error = new StepTimeoutError({ sagaId: 's1', step: 'reserve', timeoutMs: 30_000 });
    expect(error.code).toBe('STEP_TIMEOUT');
    expect(error.sagaId).toBe('s1');
    expect(error.step).toBe('reserve');
    expect(error.timeoutMs).toBe(30_000);
    expect(error.phase).toBe('forward');
    expect(error.message).toMatch(/Step "reserve" of saga s1 timed out after 30000 ms/);
    expect(error.message).toMatch(/ctx\.signal/);
    expect(isRetryable(error)).toBe(true);
    expect(
      new StepTimeoutError({ sagaId: 's', step: 'a', timeoutMs: 1, phase: 'compensate' }).message,
    ).toMatch(/^Compensation of step "a"/);
  });
});

describe('isRetryable', () => {
  it('says no for terminal and validation errors, yes for ordinary failures', () => {
    expect(isRetryable(new ValidationError('INPUT_VALIDATION_FAILED', 'bad', []))).toBe(false);
    expect(isRetryable(new ValidationError('OUTPUT_VALIDATION_FAILED', 'bad', []))).toBe(false);
    expect(isRetryable(new SagastreamError('CANCELLED', 'cancelled'))).toBe(false);
    expect(isRetryable(new Error('ECONNRESET'))).toBe(true);
    expect(isRetryable('a string')).toBe(true);
    expect(isRetryable(undefined)).toBe(true);
  });
});

describe('serializeError', () => {
  it('keeps message, code, name and retryable, and no stack by default', () => {
    const serialized = serializeError(new TerminalError('card declined', { code: 'CARD_DECLINED' }));
    expect(serialized).toEqual({
      message: 'card declined',
      code: 'CARD_DECLINED',
      name: 'TerminalError',
      retryable: false,
    });
  });

  it('uses string codes of library errors and codeName of MongoDB errors', () => {
    const nodeError = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(serializeError(nodeError)).toMatchObject({ code: 'ECONNREFUSED', retryable: true });
    const mongoError = Object.assign(new Error('dup'), { code: 11000, codeName: 'DuplicateKey' });
    expect(serializeError(mongoError).code).toBe('DuplicateKey');
    expect(serializeError(Object.assign(new Error('x'), { code: 42 })).code).toBe('42');
    expect(serializeError(new TypeError('x is undefined'))).toEqual({
      message: 'x is undefined',
      code: 'UNEXPECTED',
      name: 'TypeError',
      retryable: true,
    });
  });

  it('describes thrown non-errors', () => {
    expect(serializeError('boom')).toEqual({
      message: 'boom',
      code: 'UNEXPECTED',
      name: 'NonError',
      retryable: true,
    });
    expect(serializeError({ reason: 'x' }).message).toBe('{"reason":"x"}');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(serializeError(circular).message).toBe('[object Object]');
    expect(serializeError(undefined).message).toBe('undefined');
  });

  it('truncates huge messages to about 4 KB', () => {
    const serialized = serializeError(new Error('x'.repeat(100_000)));
    expect(serialized.message.length).toBe(4096);
    expect(serialized.message).toMatch(/… \[truncated \d+ characters\]$/);
    expect(serializeError(new Error('abcdef'), { maxLength: 3 }).message.length).toBeLessThanOrEqual(40);
  });

  it('does not split a surrogate pair when truncating', () => {
    const message = 'a'.repeat(10) + '😀'.repeat(100);
    const cut = serializeError(new Error(message), { maxLength: 50 }).message;
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('includes the stack only when asked', () => {
    const error = new Error('with stack');
    expect(serializeError(error)).not.toHaveProperty('stack');
    expect(serializeError(error, { includeStack: true }).stack).toMatch(/with stack/);
  });
});
