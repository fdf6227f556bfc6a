// Replies of retryable writes by (session, txnNumber), so a retry after a lost reply is not applied twice.
import type { Document } from 'bson';
import { valueKey } from '../query/index.js';

export class RetryableWriteCache {
  private readonly replies = new Map<string, Document>();

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
    this.replies.set(key, reply);
    if (this.replies.size > this.capacity) {
      const oldest = this.replies.keys().next().value;
      if (oldest !== undefined) this.replies.delete(oldest);
    }
    return reply;
  }
}
