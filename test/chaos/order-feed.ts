// Inserts chaos orders at a steady rate, in 200 ms batches, until a total is reached or it is stopped. Every
// insert is retried until it lands (MongoDB may be restarting), and the insertion time of each order is kept so
// a scenario can ask which orders arrived during a fault.
import type { Db } from 'mongodb';
import type { SagaDocument } from '../../src/model/saga-document.js';
import { TERMINAL_STATUSES } from '../../src/model/saga-document.js';
import type { Say } from './chaos-cluster.js';
import { sleep } from './chaos-cluster.js';
import { chaosOrder, type ChaosOrder } from './order-mix.js';
import type { SeededRandom } from './seeded-random.js';

const TICK_MS = 200;

/** Inserts `orders` (into `collection`), retrying until they land (true) or `stopped()` says to give up (false). */
export async function insertWithRetry<T extends { _id: string }>(
  db: Db,
  orders: T[],
  say: Say,
  stopped: () => boolean = () => false,
  collection = 'orders',
): Promise<boolean> {
  for (let attempt = 1; !stopped(); attempt += 1) {
    try {
      await db.collection<{ _id: string }>(collection).insertMany(orders, { ordered: false });
      return true;
    } catch (error) {
      // A retry after a lost acknowledgement meets its own earlier insert: duplicates mean "already there".
      const writeErrors = (error as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
      const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      if (list.length > 0 && list.every((writeError) => writeError.code === 11000)) return true;
      if (attempt % 10 === 1) say(`${collection} insert failed (${(error as Error).message}); retrying`);
      await sleep(500);
    }
  }
  return false;
}

export interface OrderFeedOptions {
  readonly db: Db;
  readonly random: SeededRandom;
  /** Prefix of the order ids. */
  readonly runId: string;
  /** Orders per second. */
  readonly rate: number;
  /** Stop after this many orders (default: run until `stop()`). */
  readonly total?: number;
  readonly say: Say;
}

export class OrderFeed {
  private inserted = 0;
  private stopped = false;
  /** Per batch: when its insert returned, and the index of its last order + 1. */
  private readonly batches: { at: number; end: number }[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly options: OrderFeedOptions) {}

  /** Orders inserted so far. */
  get count(): number {
    return this.inserted;
  }

  /** Starts feeding; the promise resolves when `total` is reached or `stop()` was called. */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops after the batch in flight; resolves once it has landed. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** A progress line: orders inserted, sagas created, sagas not ended. */
  async progress(): Promise<string> {
    try {
      const sagas = this.options.db.collection<SagaDocument>('sagas');
      const [total, open] = await Promise.all([
        sagas.countDocuments({ saga: 'order-fulfillment' }),
        sagas.countDocuments({ status: { $nin: [...TERMINAL_STATUSES] } }),
      ]);
      return `progress: ${this.inserted} orders, ${total} sagas, ${open} not ended`;
    } catch (error) {
      return `progress: ${this.inserted} orders (counting sagas failed: ${(error as Error).message})`;
    }
  }

  /** The ids of the orders whose insert returned within [from, to] (epoch ms). */
  idsInsertedBetween(from: number, to: number): string[] {
    const ids: string[] = [];
    let start = 0;
    for (const batch of this.batches) {
      if (batch.at >= from && batch.at <= to) {
        for (let index = start; index < batch.end; index += 1) ids.push(this.orderId(index));
      }
      start = batch.end;
    }
    return ids;
  }

  private orderId(index: number): string {
    return `${this.options.runId}-${String(index).padStart(6, '0')}`;
  }

  private async loop(): Promise<void> {
    const { db, random, runId, rate, total = Number.POSITIVE_INFINITY, say } = this.options;
    const begin = Date.now();
    for (let tick = 1; !this.stopped && this.inserted < total; tick += 1) {
      const due = Math.min(total, Math.round((rate * tick * TICK_MS) / 1000));
      const batch: ChaosOrder[] = [];
      for (let index = this.inserted; index < due; index += 1) batch.push(chaosOrder(index, runId, random));
      if (batch.length > 0) {
        if (!(await insertWithRetry(db, batch, say, () => this.stopped))) break;
        this.inserted = due;
        this.batches.push({ at: Date.now(), end: due });
      }
      await sleep(Math.max(0, begin + tick * TICK_MS - Date.now()));
    }
  }
}
