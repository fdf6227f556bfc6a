// Sagas of the wait phase stored up front, already in their wait step, shaped as the engine stores them: the
// phase measures how payments resume them, not how they got there.
import { EJSON } from 'bson';
import { waitKeysOfFilter } from '../src/model/wait-keys.js';
import { BENCH_PAYMENTS, BENCH_WAIT_SAGA } from './bench-sagas.js';

/** `count` waiting sagas from `offset`, waiting for a payment of order `<prefix>-<n>` in database `db`. */
export function waitingSagas(
  db: string,
  prefix: string,
  offset: number,
  count: number,
): Record<string, unknown>[] {
  const ns = `${db}.${BENCH_PAYMENTS}`;
  // Older than the sweeper's recent-wait window: their timers come from its once-per-epoch pass only.
  const since = new Date(Date.now() - 3_600_000);
  const deadline = new Date(Date.now() + 3_600_000);
  return Array.from({ length: count }, (_, index) => {
    const orderId = `${prefix}-${offset + index}`;
    const filter = { orderId };
    return {
      _id: `wait-${prefix}-${(offset + index).toString(36).padStart(8, '0')}`,
      saga: BENCH_WAIT_SAGA,
      version: 1,
      key: orderId,
      status: 'running',
      stepIndex: 0,
      generation: 0,
      input: { orderId },
      steps: [
        { name: 'paid', status: 'waiting', attempts: 1, startedAt: since, attemptStartedAt: since },
        { name: 'after', status: 'pending', attempts: 0 },
      ],
      waiting: {
        step: 0,
        ns,
        on: ['insert'],
        filter: EJSON.stringify(filter, { relaxed: false }),
        keys: waitKeysOfFilter(ns, filter),
        since,
      },
      deadline,
      revision: 1,
      history: [{ at: since, type: 'wait-started', step: 'paid' }],
      createdAt: since,
      updatedAt: since,
    };
  });
}
