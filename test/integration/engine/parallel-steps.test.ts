// Parallel groups (`.parallel`): members run as separate jobs at the same time; the saga moves past the group once,
// when the last member succeeds; a member that fails for good compensates the members that succeeded (at the same
// time), then the steps before the group in reverse order.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SagaRegistry, defineSaga, type SagaDefinition } from '../../../src/index.js';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import type { StepJobRef } from '../../../src/model/step-job-ref.js';
import { mongoAndCleanups } from '../helpers.js';
import { RecoverySweeper } from '../../../src/engine/recovery-sweeper.js';
import { SagaStore } from '../../../src/store/saga-store.js';
import { FAST_WORKER, engineTest, sagasCollection, testLogger, type EngineTest } from './engine-test-kit.js';

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

  it('stop every member when the saga is cancelled, and compensate those that may have acted after they report', async () => {
    const journal: Journal = { events: [], confirmSaw: [] };
    const release = gate();
    const running = barrier(3);
    const allRunning = gate();
    const definition = groupSaga('parallel-cancel', journal, {
      inRun: async (step) => {
        if (step === 'reserve') return;
        void running().then(allRunning.open);
        await release.wait;
      },
    });
    const { test, registry } = await started('parallel-cancel', definition);
    const client = await test.client(registry);
    const handle = await client.start(definition.name, { orderId: 'o-5' });
    await allRunning.wait;

    const cancelled = await test.runtimes[0]!.operations.cancel(handle.id);

    expect(cancelled.status).toBe('compensating');
    expect(cancelled.steps.slice(1, 4).map((step) => step.status)).toEqual(['running', 'running', 'running']);
    release.open();
    const saga = await finished(test, handle.id);
    expect(saga.status).toBe('compensated');
    expect(saga.reason).toBe('cancelled');
    expect(saga.steps.slice(1, 4).map((step) => [step.status, step.late])).toEqual([
      ['completed', true],
      ['completed', true],
      ['completed', true],
    ]);
    expect(journal.events.slice(-4).sort()).toEqual(
      ['undo:courier', 'undo:inventory', 'undo:invoice', 'undo:reserve'].sort(),
    );
    expect(journal.events.at(-1)).toBe('undo:reserve');
  });

  it('are moved past by the recovery sweeper when the last member process died before the move', async () => {
    const journal: Journal = { events: [], confirmSaw: [] };
    const definition = groupSaga('parallel-sweep', journal);
    const { test, registry } = await started('parallel-sweep', definition);
    // This worker records each member's result but never moves the saga past the group, as if it died in between.
    const worker = test.runtimes[0]!;
    worker.store.advancePastGroup = () => Promise.resolve(false);
    const handle = await (await test.client(registry)).start(definition.name, { orderId: 'o-6' });
    await expect
      .poll(async () => {
        const saga = await sagasCollection(test.db).findOne({ _id: handle.id });
        return saga?.steps.slice(1, 4).map((step) => step.status);
      }, POLL)
      .toEqual(['completed', 'completed', 'completed']);
    expect((await sagasCollection(test.db).findOne({ _id: handle.id }))?.stepIndex).toBe(1);

    // Another process's sweeper (its own store) finds the group done and moves the saga on.
    const sweeper = new RecoverySweeper(
      registry,
      new SagaStore(test.db),
      worker.queues,
      worker.operations,
      testLogger('parallel-sweep'),
      { batchSize: 100, stuckAfter: 3, idleBeforeRestoreMs: 0 },
    );
    expect(await sweeper.sweep()).toMatchObject({ checked: 1, requeued: 1 });

    const saga = await finished(test, handle.id);
    expect(saga.status).toBe('completed');
    expect(journal.events.filter((event) => event === 'run:confirm')).toHaveLength(1);
  });

  it('start with every member of a group that comes first, and complete after a group that comes last', async () => {
    const runs: string[] = [];
    const member = (name: string) => ({
      name,
      run: () => {
        runs.push(name);
        return Promise.resolve(name);
      },
    });
    const definition = defineSaga({ name: 'parallel-only', input: z.object({}) })
      .parallel('first', (p) => p.step(member('a')).step(member('b')))
      .parallel('last', (p) => p.step(member('c')).step(member('d')))
      .build();
    const { test, registry } = await started('parallel-only', definition);
    const handle = await (await test.client(registry)).start(definition.name, {});

    const saga = await finished(test, handle.id);

    expect(saga.status).toBe('completed');
    expect(runs.slice(0, 2).sort()).toEqual(['a', 'b']);
    expect(runs.slice(2).sort()).toEqual(['c', 'd']);
    expect(saga.steps.map((step) => step.output)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('resume a compensation wave after an operator retries the saga it failed', async () => {
    const journal: Journal = { events: [], confirmSaw: [] };
    let invoiceUndoBroken = true;
    const definition = groupSaga('parallel-redrive', journal, {
      fail: ['confirm-never', 'courier'],
      inCompensate: (step) =>
        step === 'invoice' && invoiceUndoBroken
          ? Promise.reject(new Error('invoicing is down'))
          : Promise.resolve(),
    });
    const { test, registry } = await started('parallel-redrive', definition);
    const handle = await (await test.client(registry)).start(definition.name, { orderId: 'o-7' });
    const failed = await finished(test, handle.id);
    expect(failed.status).toBe('failed');
    expect(failed.steps[3]?.compensation?.status).toBe('failed');
    expect(failed.steps[1]?.compensation?.status).toBe('completed');
    expect(journal.events).not.toContain('undo:reserve');

    invoiceUndoBroken = false;
    await test.runtimes[0]!.operations.retry(handle.id);

    await expect
      .poll(async () => (await sagasCollection(test.db).findOne({ _id: handle.id }))?.status, POLL)
      .toBe('compensated');
    expect(journal.events.filter((event) => event === 'undo:inventory')).toHaveLength(1);
    expect(journal.events.filter((event) => event === 'undo:invoice')).toHaveLength(1);
    expect(journal.events.at(-1)).toBe('undo:reserve');
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
