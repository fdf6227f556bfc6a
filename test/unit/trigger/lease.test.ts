import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Lease, type LeaseGrant, type LeaseStore } from '../../../src/trigger/lease.js';

const logger = pino({ level: 'silent' });

function grant(fencingToken: number): LeaseGrant {
  return { leaseId: 'trigger:t', holder: 'me', fencingToken, expiresAt: new Date(Date.now() + 300) };
}

/** A store whose renewals behave as given: MongoDB unreachable (never answers) or answering. */
function fakeStore(renew: () => Promise<LeaseGrant | null>): LeaseStore {
  return {
    tryAcquire: () => Promise.resolve(grant(7)),
    renew,
    release: () => Promise.resolve(true),
  } as unknown as LeaseStore;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

describe('Lease', () => {
  it('gives up by itself when no renewal gets through before the lease expires', async () => {
    const lease = await Lease.acquire(
      fakeStore(() => new Promise<never>(() => undefined)),
      { leaseId: 'trigger:t', holder: 'me', ttlMs: 300, logger },
    );
    expect(lease?.fencingToken).toBe(7);
    expect(lease?.isHeld()).toBe(true);
    await aborted(lease!.signal);
    expect(lease!.isHeld()).toBe(false);
  });

  it('stays held while renewals succeed and stops when one finds the lease taken', async () => {
    let renewals = 0;
    const lease = await Lease.acquire(
      fakeStore(() => {
        renewals += 1;
        return Promise.resolve(renewals < 5 ? grant(7) : null);
      }),
      { leaseId: 'trigger:t', holder: 'me', ttlMs: 300, logger },
    );
    await aborted(lease!.signal);
    // It outlived several TTLs thanks to the renewals, and ended on the refused one.
    expect(renewals).toBe(5);
    expect(lease!.isHeld()).toBe(false);
  });
});
