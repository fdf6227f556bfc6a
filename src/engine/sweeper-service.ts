// Runs the recovery sweeper on one process at a time: whoever holds the `sweeper` lease sweeps; the others wait.
import type { SagaLogger } from '../logging/saga-logger.js';
import { within } from '../errors/index.js';
import { HolderHealth } from '../store/holder-health.js';
import { Lease, type LeaseStore } from '../store/lease.js';
import type { RecoverySweeper } from './recovery-sweeper.js';

export interface SweeperServiceOptions {
  holderId: string;
  intervalMs: number;
  leaseTtlMs: number;
  /**
   * Throws when the queues do not answer (SagaQueues.ping): a sweeper that cannot queue leaves the lease to one
   * that can, as the trigger watchers do.
   */
  queueHealth?: () => Promise<void>;
}

/** A sweep that has not ended after this long is waited for no more (a half-open connection never answers). */
const SWEEP_TIMEOUT_MS = 60_000;
/** How long stop() waits for a sweep in progress. */
const STOP_TIMEOUT_MS = 2_000;

import { SWEEPER_LEASE_ID } from '../store/sweeper-marks.js';

export { SWEEPER_LEASE_ID };

export class SweeperService {
  private lease: Lease | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly health: HolderHealth;

  constructor(
    private readonly sweeper: RecoverySweeper,
    private readonly leases: LeaseStore,
    private readonly logger: SagaLogger,
    private readonly options: SweeperServiceOptions,
  ) {
    this.health = new HolderHealth(async () => options.queueHealth?.(), logger, 'sweep for lost jobs');
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.logger.error({ err: error }, 'recovery sweep failed; will try again'))
        .finally(() => this.schedule(this.options.intervalMs));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    if (!this.lease?.isHeld()) {
      if (!(await this.health.passes())) return;
      this.lease = await Lease.acquire(this.leases, {
        leaseId: SWEEPER_LEASE_ID,
        holder: this.options.holderId,
        ttlMs: this.options.leaseTtlMs,
        logger: this.logger,
        healthCheck: () => this.health.check(),
      });
      if (!this.lease) return;
    }
    await within(this.sweeper.sweep(), SWEEP_TIMEOUT_MS, 'the recovery sweep');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await within(this.sweeper.stop(), STOP_TIMEOUT_MS, 'the recovery sweep').catch(() => undefined);
    await this.lease?.release().catch(() => undefined);
  }
}
