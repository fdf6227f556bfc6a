// Parallel groups (`.parallel`): members run as separate jobs at the same time; the saga moves past the group once,
// when the last member succeeds; a member that fails for good compensates the members that succeeded (at the same
// time), then the steps before the group in reverse order.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SagaRegistry, defineSaga, type SagaDefinition } from '../../../src/index.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import type { StepJobRef } from '../../../src/model/step-job-ref.js';
import { mongoAndCleanups } from '../helpers.js';
import { FAST_WORKER, engineTest, sagasCollection, type EngineTest } from './engine-test-kit.js';

const { mongo, onCleanup } = mongoAndCleanups();

const POLL = { timeout: 20_000, interval: 50 };

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** Resolves once `count` callers arrived: members that reach it all ran at the same time. */
function barrier(count: number): () => Promise<void> {
  const all = gate();
  let arrived = 0;
  return async () => {
    arrived += 1;
    if (arrived >= count) all.open();
    await all.wait;
  };
}

interface Behaviour {
  /** Members whose run throws (a non-retryable failure after their retries). */
  fail?: readonly string[];
  /** Called by every member's run before it returns, and by every member's compensate. */
  inRun?: (step: string) => Promise<void>;
  inCompensate?: (step: string) => Promise<void>;
}

/** What each test's saga did, in order: `run:<step>` and `undo:<step>`, plus what confirm saw. */
interface Journal {
  events: string[];
  confirmSaw: unknown[];
}

/** reserve → parallel prepare (inventory ∥ courier ∥ invoice) → confirm. */
function groupSaga(name: string, journal: Journal, behaviour: Behaviour = {}): SagaDefinition {
  const member = (step: string) => async () => {
    journal.events.push(`run:${step}`);
    await behaviour.inRun?.(step);
    if (behaviour.fail?.includes(step)) throw new Error(`${step} refused`);
    return { [`${step}Id`]: `${step}-1` };
  };
  const undo = (step: string) => async () => {
    await behaviour.inCompensate?.(step);
    journal.events.push(`undo:${step}`);
  };
  return defineSaga({
    name,
    input: z.object({ orderId: z.string() }),
    defaults: { retry: { attempts: 2, backoff: { type: 'fixed', delay: '10ms' } } },
    compensation: { retry: { attempts: 2, backoff: { type: 'fixed', delay: '10ms' } } },
  })
    .step({ name: 'reserve', run: member('reserve'), compensate: undo('reserve') })
    .parallel('prepare', (p) =>
      p
        .step({
          name: 'inventory',
          output: z.object({ inventoryId: z.string() }),
          run: member('inventory') as () => Promise<{ inventoryId: string }>,
          compensate: undo('inventory'),
        })
        .step({
          name: 'courier',
          output: z.object({ courierId: z.string() }),
          run: member('courier') as () => Promise<{ courierId: string }>,
          compensate: undo('courier'),
        })
        .step({ name: 'invoice', run: member('invoice'), compensate: undo('invoice') }),
    )
    .step({
      name: 'confirm',
      run: (ctx) => {
        journal.events.push('run:confirm');
        // Typed: both members' outputs are known to the steps after the group.
        journal.confirmSaw.push([ctx.outputs.inventory.inventoryId, ctx.outputs.courier.courierId]);
        return Promise.resolve({ confirmed: true });
      },
    })
    .build();
}

async function started(
  name: string,
  definition: SagaDefinition,
): Promise<{ test: EngineTest; registry: SagaRegistry }> {
  const test = engineTest(mongo(), name);
  onCleanup(() => test.stop());
  const registry = new SagaRegistry([definition]);
  await test.start({ registry, roles: ['worker'], worker: FAST_WORKER });
  return { test, registry };
}

async function finished(test: EngineTest, id: string): Promise<SagaDocument> {
  let saga: SagaDocument | null = null;
  await expect
    .poll(async () => (saga = await sagasCollection(test.db).findOne({ _id: id }))?.status, POLL)
    .toBeOneOf(['completed', 'compensated', 'failed']);
  return saga!;
}

describe('parallel groups', () => {
  it('run every member at the same time and move on once all of them succeeded', async () => {
    const journal: Journal = { events: [], confirmSaw: [] };
    const meet = barrier(3);
    const definition = groupSaga('parallel-all', journal, {
      inRun: (step) => (['inventory', 'courier', 'invoice'].includes(step) ? meet() : Promise.resolve()),
    });
    const { test, registry } = await started('parallel-all', definition);
    const handle = await (await test.client(registry)).start(definition.name, { orderId: 'o-1' });

    const saga = await finished(test, handle.id);

    // Each member waited at the barrier for the other two: they ran at the same time.
    expect(saga.status).toBe('completed');
    expect(saga.steps.map((step) => [step.name, step.group ?? null, step.status])).toEqual([
      ['reserve', null, 'completed'],
      ['inventory', 'prepare', 'completed'],
      ['courier', 'prepare', 'completed'],
      ['invoice', 'prepare', 'completed'],
      ['confirm', null, 'completed'],
    ]);
    expect(saga.steps[1]?.output).toEqual({ inventoryId: 'inventory-1' });
    expect(journal.confirmSaw).toEqual([['inventory-1', 'courier-1']]);
    expect(journal.events.filter((event) => event === 'run:confirm')).toHaveLength(1);
    expect(saga.stepIndex).toBe(5);
  });

  it('compensate the members that succeeded at the same time, then the steps before the group, when one fails', async () => {
    const journal: Journal = { events: [], confirmSaw: [] };
    const bothUndoing = barrier(2);
    const courierTried = gate();
    const definition = groupSaga('parallel-fails', journal, {
      fail: ['courier'],
      // courier fails only after the other two members succeeded.
      inRun: async (step) => {
        if (step === 'courier') await courierTried.wait;
      },
      inCompensate: (step) => (step === 'reserve' ? Promise.resolve() : bothUndoing()),
    });
    const { test, registry } = await started('parallel-fails', definition);
    const handle = await (await test.client(registry)).start(definition.name, { orderId: 'o-2' });
    await expect
      .poll(async () => {
        const saga = await sagasCollection(test.db).findOne({ _id: handle.id });
        return [saga?.steps[1]?.status, saga?.steps[3]?.status];
      }, POLL)
      .toEqual(['completed', 'completed']);
    courierTried.open();

    const saga = await finished(test, handle.id);

    expect(saga.status).toBe('compensated');
    expect(saga.reason).toBe('step-failed');
    expect(saga.steps[2]).toMatchObject({ name: 'courier', status: 'failed', attempts: 2 });
    // inventory and invoice waited for each other in their compensations: undone at the same time, then reserve.
    expect(journal.events.slice(-3).sort()).toEqual(
      ['undo:inventory', 'undo:invoice', 'undo:reserve'].sort(),
    );
    expect(journal.events.at(-1)).toBe('undo:reserve');
    expect(journal.events).not.toContain('undo:courier');
    expect(journal.events).not.toContain('run:confirm');
    expect(saga.steps.map((step) => step.compensation?.status ?? null)).toEqual([
      'completed',
      'completed',
      null,
      'completed',
      null,
    ]);
  });

  it('stop the members still running when one fails, and compensate those that may have acted', async () => {
    const journal: Journal = { events: [], confirmSaw: [] };
    const inventoryRunning = gate();
    const releaseInventory = gate();
    const definition = groupSaga('parallel-stops', journal, {
      fail: ['courier'],
      inRun: async (step) => {
        if (step === 'inventory') {
          inventoryRunning.open();
          await releaseInventory.wait;
        }
        if (step === 'courier') await inventoryRunning.wait;
      },
    });
    const { test, registry } = await started('parallel-stops', definition);
    const handle = await (await test.client(registry)).start(definition.name, { orderId: 'o-3' });
    // courier failed for good while inventory ran: inventory was stopped as may-have-acted.
    await expect
      .poll(async () => (await sagasCollection(test.db).findOne({ _id: handle.id }))?.status, POLL)
      .toBe('compensating');
    const compensating = (await sagasCollection(test.db).findOne({ _id: handle.id }))!;
    expect(compensating.steps[1]?.status).toBe('running');
    releaseInventory.open();

    const saga = await finished(test, handle.id);

    expect(saga.status).toBe('compensated');
    // Its late result was kept, and it was compensated after it reported.
    expect(saga.steps[1]).toMatchObject({ name: 'inventory', status: 'completed', late: true });
    expect(journal.events.indexOf('undo:inventory')).toBeGreaterThan(journal.events.indexOf('run:inventory'));
    expect(journal.events).toContain('undo:reserve');
    expect(journal.events.at(-1)).toBe('undo:reserve');
  });

  it('move past the group exactly once when members finish at the same instant', async () => {
    const journal: Journal = { events: [], confirmSaw: [] };
    const definition = groupSaga('parallel-together', journal);
    const { test, registry } = await started('parallel-together', definition);
    const runtime = test.runtimes[0]!;
    // Every member is held right before its result write until all three are there, then all write at once.
    const allThere = barrier(3);
    runtime.worker!.processor.hooks.beforeResultWrite = async (ref: StepJobRef) => {
      if (['inventory', 'courier', 'invoice'].includes(ref.stepName)) await allThere();
    };
    const enqueued: string[] = [];
    const enqueue = runtime.queues.enqueueSteps.bind(runtime.queues);
    runtime.queues.enqueueSteps = (steps) => {
      for (const step of steps) if (step.ref.stepName === 'confirm') enqueued.push(`${step.ref.attempt}`);
      return enqueue(steps);
    };
    const handle = await (await test.client(registry)).start(definition.name, { orderId: 'o-4' });

    const saga = await finished(test, handle.id);

    expect(saga.status).toBe('completed');
    expect(enqueued).toEqual(['1']);
    expect(journal.events.filter((event) => event === 'run:confirm')).toHaveLength(1);
  });

  it('are refused in a definition with a clear error for a wait member, an empty group or a taken name', () => {
    const base = { name: 'bad-groups', input: z.object({}) };
    let message = '';
    try {
      defineSaga({
        ...base,
        steps: [
          { name: 'a', run: () => Promise.resolve(1) },
          { parallel: 'a', steps: [{ name: 'b', run: () => Promise.resolve(1) }] },
          { parallel: 'empty', steps: [] },
          {
            parallel: 'waits',
            steps: [{ name: 'w', signal: 'go' } as never, { name: 'c', run: () => Promise.resolve(1) }],
          },
        ],
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('Invalid definition of saga "bad-groups" (3 problems)');
    expect(message).toContain('parallel group "a": the name is already used');
    expect(message).toContain('parallel group "empty": steps must be a non-empty array of steps');
    expect(message).toContain(
      'parallel group "waits": steps[0] is a wait step; a parallel group runs task steps only',
    );
  });
});
