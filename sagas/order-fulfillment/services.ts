// The order-fulfillment saga's "services": payments, reservations, shipments and notifications, played by
// MongoDB collections in the saga's own database so every effect and every undo is visible as data.
//
// Every effect is keyed by the step's idempotency key, so a retried attempt finds its earlier effect instead of
// acting twice. An undo of an effect that never happened leaves a `voided` record under the same key, so a late
// write from a timed-out attempt cannot create the effect after its compensation ran.
import { hostname } from 'node:os';
import type { Collection, Db } from 'mongodb';
import { createOutages, type Outages } from './outages.js';

/** The process that applied an effect; shows which worker ran a step when several share the work. */
export const PROCESS_MARKER = `${hostname()}:${process.pid}`;

export const SERVICE_COLLECTIONS = {
  payments: 'payments',
  reservations: 'reservations',
  shipments: 'shipments',
  notifications: 'notifications',
} as const;

export interface EffectRecord {
  _id: string;
  orderId: string;
  status: string;
  handledBy: string;
  createdAt: Date;
  [field: string]: unknown;
}

/** One service: records effects by idempotency key and undoes them. */
export class EffectLedger {
  constructor(readonly collection: Collection<EffectRecord>) {}

  /** Applies the effect once per key; a repeat (or a late attempt after an undo) returns what is stored. */
  async apply(key: string, status: string, fields: Record<string, unknown>): Promise<EffectRecord> {
    const now = new Date();
    await this.collection.updateOne(
      { _id: key },
      { $setOnInsert: { ...fields, status, handledBy: PROCESS_MARKER, createdAt: now } },
      { upsert: true },
    );
    const stored = await this.collection.findOne({ _id: key });
    if (stored === null)
      throw new Error(`${this.collection.collectionName} ${key} vanished after its upsert`);
    return stored;
  }

  /**
   * Moves the effect stored under `key` from `from` to `to`. Repeating it is harmless; when no effect was ever
   * stored, a `voided` record takes its place so that a late `apply` finds it and does nothing.
   */
  async undo(key: string, from: string, to: string, fields: Record<string, unknown>): Promise<string> {
    const now = new Date();
    const undone = await this.collection.updateOne(
      { _id: key, status: from },
      { $set: { ...fields, status: to, undoneAt: now, undoneBy: PROCESS_MARKER } },
    );
    if (undone.modifiedCount === 1) return to;
    const orderId = typeof fields.orderId === 'string' ? fields.orderId : '';
    await this.collection.updateOne(
      { _id: key },
      {
        $setOnInsert: {
          ...fields,
          orderId,
          status: 'voided',
          handledBy: PROCESS_MARKER,
          createdAt: now,
          undoneAt: now,
        },
      },
      { upsert: true },
    );
    const stored = await this.collection.findOne({ _id: key });
    return stored?.status ?? 'voided';
  }
}

export interface OrderServices {
  readonly payments: EffectLedger;
  readonly reservations: EffectLedger;
  readonly shipments: EffectLedger;
  readonly notifications: EffectLedger;
  /** Outages the user switches on (see outages.ts); the compensations check them first. */
  readonly outages: Outages;
}

export function createOrderServices(db: Db): OrderServices {
  const ledger = (name: string) => new EffectLedger(db.collection<EffectRecord>(name));
  return {
    payments: ledger(SERVICE_COLLECTIONS.payments),
    reservations: ledger(SERVICE_COLLECTIONS.reservations),
    shipments: ledger(SERVICE_COLLECTIONS.shipments),
    notifications: ledger(SERVICE_COLLECTIONS.notifications),
    outages: createOutages(db),
  };
}
