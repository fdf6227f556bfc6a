import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { Oplog, compareTimestamps } from '../../../../src/embedded/storage/oplog.js';
import type { OplogEntry } from '../../../../src/embedded/storage/oplog-entry.js';

function entry(oplog: Oplog, id: number | string): OplogEntry {
  return {
    op: 'insert',
    ts: oplog.nextTimestamp(),
    wallTime: new Date(),
    ns: { db: 'db', coll: 'c' },
    documentKey: { _id: id },
    document: { _id: id },
  };
}

describe('Oplog', () => {
  it('hands out strictly increasing cluster times', () => {
    const oplog = new Oplog({ maxEntries: 10 });
    let previous = oplog.nextTimestamp();
    for (let i = 0; i < 1000; i++) {
      const next = oplog.nextTimestamp();
      expect(compareTimestamps(next, previous)).toBeGreaterThan(0);
      previous = next;
    }
    expect(compareTimestamps(oplog.clusterTime, previous)).toBe(0);
  });

  it('keeps a bounded history and reports what it no longer covers', () => {
    const oplog = new Oplog({ maxEntries: 3 });
    const start = oplog.clusterTime;
    const entries = Array.from({ length: 5 }, (_, i) => entry(oplog, i));
    oplog.append(entries);
    expect(oplog.size).toBe(3);
    expect(oplog.covers(start)).toBe(false);
    expect(oplog.covers(entries[1]!.ts)).toBe(true);
    expect(
      oplog.entriesAfter(entries[1]!.ts).map((e) => (e.op === 'insert' ? (e.document._id as number) : null)),
    ).toEqual([2, 3, 4]);
    expect(oplog.entriesAfter(entries[2]!.ts, 1)).toHaveLength(1);
  });

  it('wakes a waiter when a newer entry is appended, and times out otherwise', async () => {
    const oplog = new Oplog({ maxEntries: 10 });
    const after = oplog.clusterTime;
    const timedOut = await Promise.race([
      oplog.waitForNewer(after, 30).then(() => 'resolved'),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 1000)),
    ]);
    expect(timedOut).toBe('resolved');
    expect(oplog.size).toBe(0);
    const waiting = oplog.waitForNewer(after, 60_000);
    setTimeout(() => oplog.append([entry(oplog, 1)]), 10);
    await waiting;
    expect(oplog.entriesAfter(after)).toHaveLength(1);
  });

  it('wakes a waiter with a relevance test only for relevant entries', async () => {
    const oplog = new Oplog({ maxEntries: 10 });
    const after = oplog.clusterTime;
    let woken = false;
    const relevant = (candidate: OplogEntry): boolean =>
      candidate.op === 'insert' && candidate.documentKey._id === 'mine';
    const waiting = oplog.waitForNewer(after, 60_000, undefined, relevant).then(() => (woken = true));
    oplog.append([entry(oplog, 1), entry(oplog, 2)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(woken).toBe(false);
    oplog.append([entry(oplog, 3), entry(oplog, 'mine')]);
    await waiting;
    expect(woken).toBe(true);
    // Entries that were already there when the wait began resolve it at once, relevant or not.
    await oplog.waitForNewer(after, 60_000, undefined, () => false);
  });

  it('restores history and clock', () => {
    const source = new Oplog({ maxEntries: 10 });
    const entries = Array.from({ length: 4 }, (_, i) => entry(source, i));
    const restored = new Oplog({ maxEntries: 2 });
    restored.restore(entries, source.clusterTime, null);
    expect(restored.size).toBe(2);
    expect(restored.covers(entries[0]!.ts)).toBe(false);
    expect(restored.covers(entries[1]!.ts)).toBe(true);
    expect(
      compareTimestamps(restored.nextTimestamp(), new Timestamp({ t: source.clusterTime.t, i: 0 })),
    ).toBeGreaterThan(0);
  });
});
