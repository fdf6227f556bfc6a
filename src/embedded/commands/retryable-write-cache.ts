// Replies of retryable writes by (session, txnNumber), so a retry after a lost reply is not applied twice.
import type { Document } from 'bson';
import { valueKey } from '../query/index.js';

export class RetryableWriteCache {
  private readonly replies = new Map<string, Document>();
  /** Keys in insertion order; `head` is the oldest one still cached. */
  private readonly order: string[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  async run(
    lsid: Document,
    txnNumber: number,
    execute: () => Document | Promise<Document>,
  ): Promise<Document> {
    const key = `${valueKey(lsid.id ?? lsid)}#${txnNumber}`;
    const cached = this.replies.get(key);
    if (cached) return cached;
    const reply = await execute();
    if (!this.replies.has(key)) this.order.push(key);
    this.replies.set(key, reply);
    // Evicted through a FIFO of keys: `replies.keys().next()` after many deletes walks the Map's tombstones.
    while (this.replies.size > this.capacity && this.head < this.order.length) {
      this.replies.delete(this.order[this.head++]!);
    }
    if (this.head > this.capacity) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    return reply;
  }
}
