// Runs the recovery sweeper on one process at a time: whoever holds the `sweeper` lease sweeps; the others wait.
import type { SagaLogger } from '../logging/saga-logger.js';
import { Lease, type LeaseStore } from '../store/lease.js';
import type { RecoverySweeper } from './recovery-sweeper.js';

export interface SweeperServiceOptions {
  holderId: string;
  intervalMs: number;
  leaseTtlMs: number;
}

export const SWEEPER_LEASE_ID = 'sweeper';

export class SweeperService {
  private lease: Lease | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly sweeper: RecoverySweeper,
    private readonly leases: LeaseStore,
    private readonly logger: SagaLogger,
    private readonly options: SweeperServiceOptions,
  ) {}

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
      this.lease = await Lease.acquire(this.leases, {
        leaseId: SWEEPER_LEASE_ID,
        holder: this.options.holderId,
        ttlMs: this.options.leaseTtlMs,
        logger: this.logger,
      });
      if (!this.lease) return;
    }
    await this.sweeper.sweep();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.sweeper.stop();
    await this.lease?.release().catch(() => undefined);
  }
}
