// On vitest's fake timers: the timeout fires when the test advances the clock, never because the machine is slow.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runAttempt } from '../../../src/engine/attempt-runner.js';
import { StepTimeoutError } from '../../../src/errors/index.js';

const options = { sagaId: 'sg1', step: 's', phase: 'forward' as const };
const never = () => new Promise<never>(() => undefined);

/** Resolves with `value` once the (fake) clock has advanced by `ms`. */
function after<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('runAttempt', () => {
  it('returns what the attempt returns', async () => {
    await expect(runAttempt({ ...options, timeoutMs: 1_000 }, () => Promise.resolve(42))).resolves.toBe(42);
  });

  it('lets an attempt finish 1 ms before its timeout, and leaves no timer behind', async () => {
    const attempt = runAttempt({ ...options, timeoutMs: 1_000 }, () => after(999, 'in time'));
    await vi.advanceTimersByTimeAsync(999);
    await expect(attempt).resolves.toBe('in time');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails with StepTimeoutError and aborts the signal when the attempt ignores its timeout', async () => {
    let seen: AbortSignal | undefined;
    let settled = false;
    const attempt = runAttempt({ ...options, timeoutMs: 1_000 }, (signal) => {
      seen = signal;
      return never();
    });
    attempt.then(
      () => (settled = true),
      () => (settled = true),
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(attempt).rejects.toBeInstanceOf(StepTimeoutError);
    await expect(attempt).rejects.toMatchObject({ code: 'STEP_TIMEOUT', sagaId: 'sg1', step: 's' });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(StepTimeoutError);
  });

  it('a cancel aborts the signal but waits for the attempt, which may still take effect', async () => {
    const cancel = new AbortController();
    let seen: AbortSignal | undefined;
    const attempt = runAttempt({ ...options, timeoutMs: 1_000, cancel: cancel.signal }, (signal) => {
      seen = signal;
      return after(500, 'late result');
    });
    cancel.abort();
    expect(seen?.aborted).toBe(true);
    expect((seen?.reason as { code?: string }).code).toBe('CANCELLED');
    await vi.advanceTimersByTimeAsync(500);
    await expect(attempt).resolves.toBe('late result');
  });

  it('a cancelled attempt that ignores the cancel still ends at its timeout', async () => {
    const cancel = new AbortController();
    const attempt = runAttempt({ ...options, timeoutMs: 1_000, cancel: cancel.signal }, () => never());
    const outcome = attempt.catch((error: unknown) => error);
    cancel.abort();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await outcome).toBeInstanceOf(StepTimeoutError);
  });

  it('an attempt that honours a cancel fails with what it threw', async () => {
    const cancel = new AbortController();
    cancel.abort();
    const attempt = runAttempt({ ...options, timeoutMs: 1_000, cancel: cancel.signal }, (signal) =>
      Promise.reject(signal.reason as Error),
    );
    await expect(attempt).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
