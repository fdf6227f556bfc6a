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

let bound: OrderServices | undefined;
let waiting: ((services: OrderServices) => void)[] = [];

/**
 * Points the services at a database (the sagas module's `setup` does this with the process's database).
 * Steps that started before this call are waiting for it and go on at once.
 */
export function bindServices(db: Db): OrderServices {
  bound = createOrderServices(db);
  const services = bound;
  for (const resolve of waiting.splice(0)) resolve(services);
  return services;
}

/** Forgets the binding (tests). */
export function unbindServices(): void {
  bound = undefined;
  waiting = [];
}

/**
 * The bound services. A worker may pick up a step in the moment between connecting and `bindServices`, so this
 * waits for the binding, until the step's signal aborts (its timeout).
 */
export function orderServices(signal: AbortSignal): Promise<OrderServices> {
  if (bound !== undefined) return Promise.resolve(bound);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      waiting = waiting.filter((waiter) => waiter !== settle);
      reject(
        new Error(
          'the order-fulfillment services are not bound to a database: call bindServices(db) from ' +
            "sagas/order-fulfillment/services.ts (the sagastream CLI does it through the sagas module's setup)",
        ),
      );
    };
    const settle = (services: OrderServices): void => {
      signal.removeEventListener('abort', onAbort);
      resolve(services);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    waiting.push(settle);
  });
}
