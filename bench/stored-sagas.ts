// Finished sagas the growth runs store up front (insertMany in bulk), shaped like the orchestrator's own.
const STEPS = ['step-1', 'step-2', 'step-3', 'step-4'];

export function storedSagas(saga: string, offset: number, count: number): Record<string, unknown>[] {
  const base = Date.UTC(2020, 0, 1);
  return Array.from({ length: count }, (_, index) => {
    const n = offset + index;
    const at = new Date(base + n * 10);
    return {
      _id: `stored-${n.toString(36).padStart(8, '0')}`,
      saga,
      version: 1,
      key: `stored-${n}`,
      status: 'completed',
      stepIndex: STEPS.length,
      generation: 0,
      input: { seq: -n, insertedAt: at.getTime() },
      steps: STEPS.map((name) => ({
        name,
        status: 'completed',
        attempts: 1,
        startedAt: at,
        endedAt: at,
        output: null,
      })),
      trigger: {
        ns: { db: 'bench', coll: 'bench_orders' },
        documentKey: { _id: n },
        operationType: 'insert',
      },
      deadline: new Date(at.getTime() + 600_000),
      revision: 8,
      history: [
        { at, type: 'saga-started' },
        { at, type: 'saga-completed', step: 'step-4', attempt: 1 },
      ],
      createdAt: at,
      updatedAt: at,
      endedAt: at,
    };
  });
}
