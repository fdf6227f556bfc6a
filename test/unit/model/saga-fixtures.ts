// A three-step definition and saga documents in given states, for the engine's pure functions.
import { z } from 'zod';
import { defineSaga, type SagaDefinition } from '../../../src/definition/index.js';
import type { SagaDocument, StepRecord } from '../../../src/model/saga-document.js';

const ok = () => Promise.resolve({});
const undo = () => Promise.resolve();

/** a (compensable), b (nothing to undo), c (compensable). */
export const definition: SagaDefinition = defineSaga({
  name: 'unit',
  trigger: { collection: 'things' },
  input: z.object({}),
  steps: [
    { name: 'a', run: ok, compensate: undo },
    { name: 'b', run: ok },
    { name: 'c', run: ok, compensate: undo },
  ],
});

export function step(name: string, fields: Partial<StepRecord> = {}): StepRecord {
  return { name, status: 'pending', attempts: 0, ...fields };
}

export function sagaDocument(fields: Partial<SagaDocument> = {}): SagaDocument {
  const now = new Date('2030-01-01T00:00:00Z');
  return {
    _id: 'sg0000000001abcdefabcdef',
    saga: 'unit',
    version: 1,
    key: 'k1',
    status: 'running',
    stepIndex: 0,
    generation: 0,
    steps: [step('a'), step('b'), step('c')],
    input: {},
    trigger: { ns: { db: 'd', coll: 'things' }, documentKey: { _id: 'k1' }, operationType: 'insert' },
    deadline: new Date(now.getTime() + 60_000),
    revision: 0,
    createdAt: now,
    updatedAt: now,
    history: [],
    ...fields,
  };
}
