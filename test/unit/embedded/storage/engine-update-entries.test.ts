import { describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecord } from '../../../../src/embedded/persistence/record-codec.js';
import { applyUpdate, type Document } from '../../../../src/embedded/query/index.js';
import { Engine } from '../../../../src/embedded/storage/engine.js';
import type { OplogEntry, UpdateEntry } from '../../../../src/embedded/storage/oplog-entry.js';

const ns = { db: 'db', coll: 'sagas' };

function sagaDocument(): Document {
  return {
    _id: 's1',
    status: 'running',
    stepIndex: 0,
    steps: [
      { name: 'reserve', status: 'pending', attempts: 0 },
      { name: 'charge', status: 'pending', attempts: 0 },
    ],
    history: [{ type: 'saga-started' }],
  };
}

const completeStep: Document = {
  $set: { 'steps.0.status': 'completed', 'steps.0.output': { ok: true }, stepIndex: 1 },
  $unset: { 'steps.0.error': '' },
  $inc: { revision: 1 },
  $push: { history: { $each: [{ type: 'step-completed' }], $slice: -100 } },
};

const completeStepDescription = {
  updatedFields: {
    'steps.0.status': 'completed',
    'steps.0.output': { ok: true },
    stepIndex: 1,
    revision: 1,
    'history.1': { type: 'step-completed' },
  },
  removedFields: [],
  truncatedArrays: [],
};

/** Applies `update` to the stored document through the engine, as the update command does. */
function updateStored(engine: Engine, update: Document, onDescribe: () => void = () => {}): void {
  const collection = engine.requireCollection(ns);
  const previous = collection.findById('s1')!;
  const outcome = applyUpdate(previous, update);
  engine.replaceDocument(collection, previous, outcome.document, () => {
    onDescribe();
    return outcome.updateDescription;
  });
}

describe('Engine update entries', () => {
  it('computes an update description only when it is read, with the diff of that write', () => {
    const engine = new Engine({ historySize: 100 });
    engine.insertDocument(engine.ensureCollection(ns), sagaDocument());
    let describeCalls = 0;
    updateStored(engine, completeStep, () => (describeCalls += 1));
    // A later write to the same document must not change what the first entry describes.
    updateStored(engine, { $set: { status: 'completed' } });
    expect(describeCalls).toBe(0);

    const [first, second] = engine.oplog
      .retained()
      .filter((entry): entry is UpdateEntry => entry.op === 'update') as [UpdateEntry, UpdateEntry];
    expect(first.updateDescription).toEqual(completeStepDescription);
    // Memoized: every reader (several streams, the journal) gets the same description object.
    expect(first.updateDescription).toBe(first.updateDescription);
    expect(second.updateDescription).toEqual({
      updatedFields: { status: 'completed' },
      removedFields: [],
      truncatedArrays: [],
    });
  });

  it('journals update entries with their description as a plain field', () => {
    const engine = new Engine({ historySize: 100 });
    const journaled: Buffer[] = [];
    engine.onCommit((entries) => journaled.push(...entries.map((entry) => encodeRecord({ e: entry }))));
    engine.insertDocument(engine.ensureCollection(ns), sagaDocument());
    updateStored(engine, completeStep);

    const records = decodeRecords(Buffer.concat(journaled)).records.map((record) => record.e as OplogEntry);
    const update = records.find((entry): entry is UpdateEntry => entry.op === 'update');
    expect(update?.updateDescription).toEqual(completeStepDescription);
    expect(update?.postImage).toMatchObject({ stepIndex: 1, revision: 1 });
  });

  it('keeps index entries right when only some indexed fields change', () => {
    const engine = new Engine({ historySize: 100 });
    engine.createIndexes(ns, [
      { name: 'status_1', key: { status: 1 } },
      { name: 'steps_status_1', key: { 'steps.status': 1 } },
      { name: 'history_type_1', key: { 'history.type': 1 } },
    ]);
    engine.insertDocument(engine.requireCollection(ns), sagaDocument());
    updateStored(engine, completeStep);
    const collection = engine.requireCollection(ns);
    const ids = (filter: Document): unknown[] =>
      [...collection.candidates(filter)].map((doc) => doc._id as unknown);
    expect(ids({ status: 'running' })).toEqual(['s1']);
    expect(ids({ 'steps.status': 'completed' })).toEqual(['s1']);
    expect(ids({ 'steps.status': 'pending' })).toEqual(['s1']);
    expect(ids({ 'history.type': 'step-completed' })).toEqual(['s1']);

    updateStored(engine, { $set: { status: 'failed', 'steps.1.status': 'completed' } });
    expect(ids({ status: 'running' })).toEqual([]);
    expect(ids({ status: 'failed' })).toEqual(['s1']);
    expect(ids({ 'steps.status': 'pending' })).toEqual([]);
    expect(ids({ 'history.type': 'step-completed' })).toEqual(['s1']);
  });
});
