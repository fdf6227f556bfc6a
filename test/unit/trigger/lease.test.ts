// On vitest's fake timers (Date included): renewals and expiry happen when the test advances the clock, so a slow
// machine cannot reorder them.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Lease, type LeaseGrant, type LeaseStore } from '../../../src/store/lease.js';

const logger = pino({ level: 'silent' });
const TTL = 300;
// Renewals run every ttl/3.
const RENEW_EVERY = 100;
// The holder stops trusting its lease this long before the stored expiry (the fence by deadline).
const MARGIN = 60;
const TRUSTED = TTL - MARGIN;

function grant(fencingToken: number): LeaseGrant {
  return { leaseId: 'trigger:t', holder: 'me', fencingToken, expiresAt: new Date(Date.now() + TTL) };
}

/** A store whose acquisitions and renewals behave as given: MongoDB unreachable (never answers), slow, or answering. */
function fakeStore(
  renew: () => Promise<LeaseGrant | null>,
  tryAcquire: () => Promise<LeaseGrant | null> = () => Promise.resolve(grant(7)),
): LeaseStore & { releases: number } {
  const store = {
    releases: 0,
    tryAcquire,
    renew,
    release: () => {
      store.releases += 1;
      return Promise.resolve(true);
    },
  };
  return store as unknown as LeaseStore & { releases: number };
}

const never = () => new Promise<never>(() => undefined);

function acquire(store: LeaseStore, healthCheck?: () => Promise<void>): Promise<Lease | null> {
  return Lease.acquire(store, {
    leaseId: 'trigger:t',
    holder: 'me',
    ttlMs: TTL,
    logger,
    safetyMarginMs: MARGIN,
    ...(healthCheck ? { healthCheck } : {}),
  });
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Lease', () => {
  it('gives up by itself a safety margin before the lease expires with no renewal through', async () => {
    const lease = (await acquire(fakeStore(never)))!;
    expect(lease.fencingToken).toBe(7);
    expect(lease.isHeld()).toBe(true);
    await vi.advanceTimersByTimeAsync(TRUSTED - 1);
    expect(lease.isHeld()).toBe(true);
    expect(lease.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.isHeld()).toBe(false);
  });

  it('stays held while renewals succeed and stops when one finds the lease taken', async () => {
    let renewals = 0;
    const lease = (await acquire(
      fakeStore(() => {
        renewals += 1;
        return Promise.resolve(renewals < 5 ? grant(7) : null);
      }),
    ))!;
    // Four renewals get through, well past the first TTL…
    await vi.advanceTimersByTimeAsync(4 * RENEW_EVERY);
    expect(renewals).toBe(4);
    expect(lease.isHeld()).toBe(true);
    // …and the fifth is refused: the lease ends at once, not at its expiry.
    await vi.advanceTimersByTimeAsync(RENEW_EVERY);
    expect(renewals).toBe(5);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.isHeld()).toBe(false);
    // No renewal is scheduled after the loss.
    await vi.advanceTimersByTimeAsync(10 * RENEW_EVERY);
    expect(renewals).toBe(5);
  });

  it('keeps retrying a failing renewal and gives up at the expiry of the last one that got through', async () => {
    let renewals = 0;
    const lease = (await acquire(
      fakeStore(() => {
        renewals += 1;
        return renewals === 1 ? Promise.resolve(grant(7)) : Promise.reject(new Error('connection reset'));
      }),
    ))!;
    // The renewal at 100 ms extends validity to 340 ms; those at 200 and 300 ms fail and are retried.
    await vi.advanceTimersByTimeAsync(RENEW_EVERY + TRUSTED - 1);
    expect(renewals).toBe(3);
    expect(lease.isHeld()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(lease.isHeld()).toBe(false);
    expect(lease.signal.aborted).toBe(true);
  });

  it('measures validity from the start of the acquiring request, not from its answer', async () => {
    const slowAcquire = () => new Promise<LeaseGrant>((resolve) => setTimeout(() => resolve(grant(7)), 200));
    const pending = acquire(fakeStore(never, slowAcquire));
    await vi.advanceTimersByTimeAsync(200);
    const lease = (await pending)!;
    expect(lease.isHeld()).toBe(true);
    await vi.advanceTimersByTimeAsync(TRUSTED - 200 - 1);
    expect(lease.isHeld()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(lease.isHeld()).toBe(false);
  });

  it('is not held past its validity even before the expiry timer runs', async () => {
    const lease = (await acquire(fakeStore(never)))!;
    // Moves the clock without running timers, as when the event loop is blocked.
    vi.setSystemTime(Date.now() + TRUSTED);
    expect(lease.signal.aborted).toBe(false);
    expect(lease.isHeld()).toBe(false);
  });

  it('release() stops renewing and releases the stored lease once', async () => {
    let renewals = 0;
    const store = fakeStore(() => {
      renewals += 1;
      return Promise.resolve(grant(7));
    });
    const lease = (await acquire(store))!;
    await lease.release();
    await lease.release();
    expect(store.releases).toBe(1);
    expect(lease.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(10 * RENEW_EVERY);
    expect(renewals).toBe(0);
  });

  it('hands the lease over at the next renewal once the health check fails, and renews no more', async () => {
    let renewals = 0;
    let healthy = true;
    const store = fakeStore(() => {
      renewals += 1;
      return Promise.resolve(grant(7));
    });
    const lease = (await acquire(store, () =>
      healthy ? Promise.resolve() : Promise.reject(new Error('Redis does not answer')),
    ))!;
    await vi.advanceTimersByTimeAsync(RENEW_EVERY);
    expect(renewals).toBe(1);
    healthy = false;
    await vi.advanceTimersByTimeAsync(RENEW_EVERY);
    expect(lease.signal.aborted).toBe(true);
    expect(store.releases).toBe(1);
    await vi.advanceTimersByTimeAsync(10 * RENEW_EVERY);
    expect(renewals).toBe(1);
  });

  it('a health check that never answers keeps the lease from renewing, so it ends at its deadline', async () => {
    const store = fakeStore(() => Promise.resolve(grant(7)));
    const lease = (await acquire(store, never))!;
    await vi.advanceTimersByTimeAsync(TRUSTED - 1);
    expect(lease.isHeld()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(lease.signal.aborted).toBe(true);
  });

  it('is null when another holder has the lease', async () => {
    await expect(acquire(fakeStore(never, () => Promise.resolve(null)))).resolves.toBeNull();
  });
});
