import { describe, expect, it } from 'vitest';
import { runAttempt } from '../../../src/engine/attempt-runner.js';
import { StepTimeoutError } from '../../../src/errors/index.js';

const options = { sagaId: 'sg1', step: 's', phase: 'forward' as const };
const never = () => new Promise<never>(() => undefined);

describe('runAttempt', () => {
  it('returns what the attempt returns', async () => {
    await expect(runAttempt({ ...options, timeoutMs: 1_000 }, () => Promise.resolve(42))).resolves.toBe(42);
  });

  it('fails with StepTimeoutError and aborts the signal when the attempt ignores its timeout', async () => {
    let seen: AbortSignal | undefined;
    const attempt = runAttempt({ ...options, timeoutMs: 20 }, (signal) => {
      seen = signal;
      return never();
    });
    await expect(attempt).rejects.toBeInstanceOf(StepTimeoutError);
    expect(seen?.aborted).toBe(true);
  });

  it('a cancel aborts the signal but waits for the attempt, which may still take effect', async () => {
    const cancel = new AbortController();
    const attempt = runAttempt({ ...options, timeoutMs: 1_000, cancel: cancel.signal }, async (signal) => {
      cancel.abort();
      expect(signal.aborted).toBe(true);
      expect((signal.reason as { code?: string }).code).toBe('CANCELLED');
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 'late result';
    });
    await expect(attempt).resolves.toBe('late result');
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
