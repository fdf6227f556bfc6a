import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine } from '../../../../src/embedded/storage/engine.js';
import { TtlMonitor } from '../../../../src/embedded/storage/ttl-monitor.js';

const ns = { db: 'db', coll: 'sessions' };

afterEach(() => {
  vi.useRealTimers();
});

describe('TtlMonitor', () => {
  it('runs a pass every interval (60 s as mongod) and deletes what has expired by then', () => {
    vi.useFakeTimers({ now: Date.parse('2030-01-01T00:00:00Z') });
    const engine = new Engine({ historySize: 100 });
    engine.createIndexes(ns, [{ key: { at: 1 }, name: 'at_1', expireAfterSeconds: 30 }]);
    const collection = engine.requireCollection(ns);
    engine.write(() => {
      engine.insertDocument(collection, { _id: 1, at: new Date(Date.now()) });
      engine.insertDocument(collection, { _id: 2, at: new Date(Date.now() + 3_600_000) });
    });
    const monitor = new TtlMonitor(engine, {
      intervalMs: () => 60_000,
      clock: Date.now,
      onError: () => undefined,
    });
    monitor.start();
    try {
      vi.advanceTimersByTime(59_999);
      expect(collection.size).toBe(2);
      vi.advanceTimersByTime(1);
      expect([...collection.documents.values()].map((doc): unknown => doc._id)).toEqual([2]);
      const deletes = engine.oplog
        .entriesAfter(engine.oplog.retained()[0]!.ts)
        .filter((entry) => entry.op === 'delete');
      expect(deletes.map((entry) => entry.documentKey)).toEqual([{ _id: 1 }]);
    } finally {
      monitor.stop();
    }
  });

  it('ignores compound indexes with expireAfterSeconds, as mongod does', () => {
    const engine = new Engine({ historySize: 100 });
    engine.createIndexes(ns, [{ key: { at: 1, kind: 1 }, name: 'at_1_kind_1', expireAfterSeconds: 0 }]);
    const collection = engine.requireCollection(ns);
    engine.write(() => engine.insertDocument(collection, { _id: 1, at: new Date(0), kind: 'a' }));
    const monitor = new TtlMonitor(engine, {
      intervalMs: () => 1,
      clock: Date.now,
      onError: () => undefined,
    });
    expect(monitor.pass()).toBe(0);
    expect(collection.size).toBe(1);
  });
});
