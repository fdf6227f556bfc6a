// Service outages the user switches on and off with data: while `outages` holds `{ _id: 'refund-payment' }`,
// every refund fails. A dead letter whose cause is an outage can then be fixed (delete the document) and
// redriven, which `simulate` (fixed in the saga's stored input) cannot show.
import type { Collection, Db } from 'mongodb';
import type { COMPENSATED_STEPS } from './order-schema.js';

export const OUTAGES_COLLECTION = 'outages';

/** The compensation of each step that has one, by the name an outage uses. */
export const COMPENSATION_NAMES = {
  'process-payment': 'refund-payment',
  'reserve-inventory': 'release-reservation',
  'calculate-shipping': 'cancel-shipping',
} as const satisfies Record<(typeof COMPENSATED_STEPS)[number], string>;

export type CompensationName = (typeof COMPENSATION_NAMES)[keyof typeof COMPENSATION_NAMES];

export class Outages {
  constructor(readonly collection: Collection<{ _id: string }>) {}

  /** Throws while an outage of `operation` is recorded; the compensation's retries then run into it too. */
  async assertAvailable(operation: CompensationName): Promise<void> {
    const outage = await this.collection.findOne({ _id: operation }, { projection: { _id: 1 } });
    if (outage !== null) {
      throw new Error(
        `${operation} is unavailable: ${this.collection.collectionName} holds { _id: '${operation}' }; ` +
          'delete it to end the outage, then retry the saga',
      );
    }
  }
}

export function createOutages(db: Db): Outages {
  return new Outages(db.collection<{ _id: string }>(OUTAGES_COLLECTION));
}
