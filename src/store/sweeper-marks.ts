// What the recovery sweeper keeps between sweeps, on its lease's document, so that a sweeper that takes over (another
// process) goes on from where the last one stood.
import type { Collection, Db } from 'mongodb';

/** The recovery sweeper's lease (one sweeper sweeps at a time). */
export const SWEEPER_LEASE_ID = 'sweeper';

interface SweeperLeaseDocument {
  _id: string;
  /** Every wait entered before this (less the sweeper's margin) had its document looked for after its write. */
  waitsRecheckedFrom?: Date;
}

export class SweeperMarks {
  private readonly collection: Collection<SweeperLeaseDocument>;

  constructor(db: Db, collectionName = 'leases') {
    this.collection = db.collection<SweeperLeaseDocument>(collectionName);
  }

  /** Where the sweeper's repeat of entering reads stands; null before any sweeper finished one. */
  async waitsRecheckedFrom(): Promise<Date | null> {
    const lease = await this.collection.findOne(
      { _id: SWEEPER_LEASE_ID },
      { projection: { waitsRecheckedFrom: 1 } },
    );
    return lease?.waitsRecheckedFrom ?? null;
  }

  /**
   * Moves the mark on to `at` (never back: `$max`); the lease's own fields are left as they are. The sweeper holds
   * its lease, so the document exists; it is never created here (a lease document without a holder and expiry
   * could not be taken).
   */
  async saveWaitsRecheckedFrom(at: Date): Promise<void> {
    await this.collection.updateOne({ _id: SWEEPER_LEASE_ID }, { $max: { waitsRecheckedFrom: at } });
  }
}
