// Whether the sagas collection still holds sagas with the random ids of earlier versions. Only then can a trigger
// event or a `start` meet its saga under another `_id` than the one derived from its key, so only then does the
// starter look its keys up before inserting (saga-starter.ts); a database without such sagas pays nothing for them.
import type { Collection } from 'mongodb';
import { LEGACY_SAGA_ID_RANGE } from '../model/saga-id.js';
import type { SagaDocument } from '../model/saga-document.js';

/** How long a "yes" is trusted: retention removes old sagas over time, and then the lookups can stop. */
export const LEGACY_RECHECK_MS = 3_600_000;

export class LegacySagaIds {
  private answer: { holds: boolean; checkedAt: number } | null = null;
  private checking: Promise<boolean> | null = null;

  constructor(
    private readonly collection: Collection<SagaDocument>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * True while at least one saga has a legacy id. Asked once per process; a "no" is final, since no process of this
   * version stores a legacy id (processes of an earlier version still running in a rolling upgrade are covered by the
   * unique {saga, key} index, which is kept until an operator drops it: README, Sharded MongoDB). A "yes" is asked
   * again after LEGACY_RECHECK_MS.
   */
  holds(): Promise<boolean> {
    const answer = this.answer;
    if (answer && (!answer.holds || this.now() - answer.checkedAt < LEGACY_RECHECK_MS)) {
      return Promise.resolve(answer.holds);
    }
    this.checking ??= this.check().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async check(): Promise<boolean> {
    const checkedAt = this.now();
    // One seek on the `_id` index: legacy ids sort in a range of their own.
    const found = await this.collection.findOne({ _id: LEGACY_SAGA_ID_RANGE }, { projection: { _id: 1 } });
    this.answer = { holds: found !== null, checkedAt };
    return this.answer.holds;
  }
}
