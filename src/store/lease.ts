// One active watcher per trigger across processes: a lease document taken by compare-and-set, renewed while
// held, with a fencing token that grows on every acquisition so writes of a deposed holder can be refused.
import { MongoServerError, type Collection, type Db } from 'mongodb';
import { within } from '../errors/index.js';
import type { SagaLogger } from '../logging/saga-logger.js';

export interface LeaseDocument {
  /** `trigger:<saga name>`, `trigger:<saga name>#<i>/<N>` or `wait:<db>.<collection>`. */
  _id: string;
  holder: string;
  expiresAt: Date;
  /** Incremented on every acquisition, so it changes with every change of holder. */
  fencingToken: number;
  renewedAt: Date;
  acquiredAt: Date;
  /** A standby's request to take this lease over (partitioned triggers balance their leases with it). */
  handover?: HandoverRequest;
}

/** Who asks for a lease, how many leases of the same group it holds already, and when it asked. */
export interface HandoverRequest {
  readonly to: string;
  readonly holds: number;
  readonly at: Date;
}

/** A lease as granted to one holder at one acquisition. */
export interface LeaseGrant {
  readonly leaseId: string;
  readonly holder: string;
  readonly fencingToken: number;
  readonly expiresAt: Date;
  /** The latest handover request seen with it (cleared on every acquisition). */
  readonly handover?: HandoverRequest;
}

const DUPLICATE_KEY = 11000;

/**
 * The leases collection. Expiry is compared with this process's clock in the update filter, not left to a TTL
 * index (those run once a minute); clocks of the watcher processes must agree to well within the lease TTL.
 */
export class LeaseStore {
  readonly collection: Collection<LeaseDocument>;

  constructor(db: Db, collectionName = 'leases') {
    this.collection = db.collection<LeaseDocument>(collectionName);
  }

  /** Takes the lease when it is free, expired or already ours; null when another holder has it. */
  async tryAcquire(
    leaseId: string,
    holder: string,
    ttlMs: number,
    now = new Date(),
  ): Promise<LeaseGrant | null> {
    try {
      const lease = await this.collection.findOneAndUpdate(
        { _id: leaseId, $or: [{ holder }, { expiresAt: { $lte: now } }] },
        {
          $set: { holder, expiresAt: new Date(now.getTime() + ttlMs), renewedAt: now, acquiredAt: now },
          $inc: { fencingToken: 1 },
          $unset: { handover: '' },
        },
        { upsert: true, returnDocument: 'after' },
      );
      return lease ? grantOf(lease) : null;
    } catch (error) {
      // The upsert tried to insert because the filter missed: the lease exists and is held by someone else.
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return null;
      throw error;
    }
  }

  /** Extends a lease that is still ours and unexpired; null when it was lost. */
  async renew(grant: LeaseGrant, ttlMs: number, now = new Date()): Promise<LeaseGrant | null> {
    const lease = await this.collection.findOneAndUpdate(
      {
        _id: grant.leaseId,
        holder: grant.holder,
        fencingToken: grant.fencingToken,
        expiresAt: { $gt: now },
      },
      { $set: { expiresAt: new Date(now.getTime() + ttlMs), renewedAt: now } },
      { returnDocument: 'after' },
    );
    return lease ? grantOf(lease) : null;
  }

  /**
   * Asks the holder of a lease held by someone else to hand it over; `holds` is how many leases of the same group
   * the asker holds. Written when there is no fresh request yet (younger than `refreshMs`) or the asker holds fewer
   * than the one stored, so standbys polling every second write about once per `refreshMs`.
   */
  async requestHandover(
    leaseId: string,
    asker: string,
    holds: number,
    refreshMs: number,
    now = new Date(),
  ): Promise<void> {
    await this.collection.updateOne(
      {
        _id: leaseId,
        holder: { $ne: asker },
        $or: [
          { handover: { $exists: false } },
          { 'handover.at': { $lte: new Date(now.getTime() - refreshMs) } },
          { 'handover.holds': { $gt: holds } },
        ],
      },
      { $set: { handover: { to: asker, holds, at: now } } },
    );
  }

  /** Expires the lease now so a standby takes over at its next poll; no-op when it is no longer ours. */
  async release(grant: LeaseGrant, now = new Date()): Promise<boolean> {
    const result = await this.collection.updateOne(
      { _id: grant.leaseId, holder: grant.holder, fencingToken: grant.fencingToken },
      { $set: { expiresAt: now, renewedAt: now } },
    );
    return result.modifiedCount === 1;
  }

  get(leaseId: string): Promise<LeaseDocument | null> {
    return this.collection.findOne({ _id: leaseId });
  }

  /** The current holder, or null when nobody holds an unexpired lease. */
  async holderOf(leaseId: string, now = new Date()): Promise<string | null> {
    const lease = await this.get(leaseId);
    return lease && lease.expiresAt > now ? lease.holder : null;
  }
}

function grantOf(lease: LeaseDocument): LeaseGrant {
  return {
    leaseId: lease._id,
    holder: lease.holder,
    fencingToken: lease.fencingToken,
    expiresAt: lease.expiresAt,
    ...(lease.handover ? { handover: lease.handover } : {}),
  };
}

export interface LeaseOptions {
  readonly leaseId: string;
  readonly holder: string;
  readonly ttlMs: number;
  readonly logger: SagaLogger;
  /**
   * Whether the holder can still do the work the lease is for (its Redis answers, say). Called before every
   * renewal; when it throws, the lease is given up at once and released, so a healthy standby takes over.
   */
  readonly healthCheck?: () => Promise<void>;
  /**
   * How long before the stored expiry this holder stops trusting the lease: a holder cut off from MongoDB stops
   * acting this long before a standby can take the lease, whatever its requests in flight and the clocks'
   * skew. Default: a fifth of the TTL, at most 2 s.
   */
  readonly safetyMarginMs?: number;
}

/** How long a release or a stand-down waits for MongoDB; the lease expires on its own otherwise. */
const RELEASE_TIMEOUT_MS = 2_000;

/**
 * A held lease that renews itself every ttl/3. `signal` aborts the moment the lease can no longer be trusted:
 * a renewal found it taken or expired, the holder's health check failed, or no renewal succeeded before the
 * last known expiry less a safety margin (measured on this process's clock from the start of the request that
 * set it, so the local view ends before the stored one: the fence by deadline; the fencing token is the fence
 * by epoch for the writes that still arrive late).
 */
export class Lease {
  private readonly controller = new AbortController();
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private validUntil: number;
  private released = false;

  private constructor(
    private readonly store: LeaseStore,
    private grant: LeaseGrant,
    private readonly options: LeaseOptions,
    requestStartedAt: number,
  ) {
    this.validUntil = requestStartedAt + this.trustedMs;
    this.armExpiry();
    this.scheduleRenewal();
  }

  /** Tries once; null when another holder has the lease. */
  static async acquire(store: LeaseStore, options: LeaseOptions): Promise<Lease | null> {
    const requestStartedAt = Date.now();
    const grant = await store.tryAcquire(
      options.leaseId,
      options.holder,
      options.ttlMs,
      new Date(requestStartedAt),
    );
    return grant ? new Lease(store, grant, options, requestStartedAt) : null;
  }

  /** How long after a renewal's start this holder acts on it: the TTL less the safety margin. */
  private get trustedMs(): number {
    const margin = this.options.safetyMarginMs ?? Math.min(2_000, this.options.ttlMs / 5);
    return Math.max(1, this.options.ttlMs - margin);
  }

  get fencingToken(): number {
    return this.grant.fencingToken;
  }

  get holder(): string {
    return this.grant.holder;
  }

  /** The handover request the last renewal found on the lease, if any. */
  get handoverRequest(): HandoverRequest | undefined {
    return this.grant.handover;
  }

  /** Aborted when the lease is lost or released; the holder must stop watching at once. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  isHeld(): boolean {
    return !this.controller.signal.aborted && Date.now() < this.validUntil;
  }

  /** Stops renewing and expires the stored lease, so a standby takes over without waiting for the TTL. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const wasHeld = this.isHeld();
    this.lose('released');
    if (!wasHeld) return;
    try {
      await within(
        this.store.release(this.grant),
        RELEASE_TIMEOUT_MS,
        `releasing lease ${this.grant.leaseId}`,
      );
    } catch (error) {
      this.options.logger.warn(
        { err: error, leaseId: this.grant.leaseId },
        'could not release the lease; it expires on its own',
      );
    }
  }

  private lose(reason: string): void {
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
    if (this.controller.signal.aborted) return;
    if (reason !== 'released') {
      this.options.logger.warn(
        { leaseId: this.grant.leaseId, fencingToken: this.grant.fencingToken, reason },
        'lease lost',
      );
    }
    this.controller.abort(new Error(`lease ${this.grant.leaseId} ${reason}`));
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(
      () => this.lose('expired before it could be renewed'),
      this.validUntil - Date.now(),
    );
  }

  private scheduleRenewal(): void {
    this.renewTimer = setTimeout(() => void this.renew(), Math.max(1, Math.floor(this.options.ttlMs / 3)));
  }

  private async renew(): Promise<void> {
    if (this.controller.signal.aborted) return;
    if (this.options.healthCheck) {
      try {
        await this.options.healthCheck();
      } catch (error) {
        if (this.controller.signal.aborted) return;
        this.options.logger.warn(
          { err: error, leaseId: this.grant.leaseId },
          'the lease holder cannot do its work; handing the lease over',
        );
        await this.release();
        return;
      }
      if (this.controller.signal.aborted) return;
    }
    const requestStartedAt = Date.now();
    try {
      const renewed = await this.store.renew(this.grant, this.options.ttlMs, new Date(requestStartedAt));
      if (this.controller.signal.aborted) return;
      if (!renewed) {
        this.lose('taken by another holder or expired');
        return;
      }
      this.grant = renewed;
      this.validUntil = requestStartedAt + this.trustedMs;
      this.armExpiry();
    } catch (error) {
      // Keep trying until the expiry timer says it is too late.
      this.options.logger.warn({ err: error, leaseId: this.grant.leaseId }, 'lease renewal failed; retrying');
    }
    if (!this.controller.signal.aborted) this.scheduleRenewal();
  }
}
