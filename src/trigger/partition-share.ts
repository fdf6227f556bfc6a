// Spreads the partitions of a trigger over the processes that watch it. Each process counts the partitions it
// leads; a standby asks the holder of a partition to hand it over (LeaseStore.requestHandover, with its own
// count), and a holder that leads at least two more partitions than the asker hands that one over at its next
// batch (checkpoint saved, lease released, out of the race for a lease TTL). Counts then differ by at most one:
// 3 partitions on 3 processes end up one each, whichever process started first.
import type { HandoverRequest } from '../store/lease.js';

export class PartitionShare {
  private readonly held = new Set<string>();

  /** How many partitions of this trigger this process leads. */
  get size(): number {
    return this.held.size;
  }

  take(leaseId: string): void {
    this.held.add(leaseId);
  }

  leave(leaseId: string): void {
    this.held.delete(leaseId);
  }

  /**
   * Whether to hand over a partition whose lease carries `request`: another process asked within `freshMs` and
   * would still lead fewer partitions than this one after taking it.
   */
  shouldHandOver(
    request: HandoverRequest | undefined,
    holder: string,
    freshMs: number,
    now = Date.now(),
  ): boolean {
    if (!request || request.to === holder) return false;
    if (now - request.at.getTime() > freshMs) return false;
    return this.held.size - request.holds >= 2;
  }
}
