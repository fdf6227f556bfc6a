// What a cancel learns about the attempt a saga has scheduled (stopStepJob), against a real Redis: it sets the
// attempt's gate to `stopped` first, so a worker that comes later never runs it; a gate a worker set first, or one
// marked `lost`, means may-have-acted; with the gate won, a job never taken is removed (the attempt never began),
// any other job, or none, may have acted.
import { Worker, type Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { stopStepJob } from '../../../src/engine/step-job-stop.js';
import { letsRun } from '../../../src/queue/attempt-gate.js';
import type { StepJobRef } from '../../../src/model/step-job-ref.js';
import type { StepJobData } from '../../../src/queue/job-data.js';
import { stepJobId, stepQueueName } from '../../../src/queue/queue-names.js';
import { SagaQueues } from '../../../src/queue/saga-queues.js';
import { redisClient, redisUrl, uniqueName } from '../helpers.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A client of the test server's Redis (or Redis Cluster) for BullMQ, closed after the test. */
function connection() {
  const client = redisClient(redisUrl(), { maxRetriesPerRequest: null });
  cleanups.push(async () => void (await client.quit().catch(() => client.disconnect())));
  return client;
}

function setUp() {
  const queues = new SagaQueues({
    connection: connection(),
    prefix: uniqueName('stop-q'),
  });
  cleanups.push(() => queues.close());
  const ref: StepJobRef = {
    sagaId: 'sg0000000001abcdefabcdef',
    saga: 'stop',
    phase: 'forward',
    step: 1,
    stepName: 'charge',
    attempt: 1,
    generation: 0,
  };
  const queue = queues.stepQueue(ref.saga);
  const worker = (processor: (job: Job<StepJobData>) => Promise<void>) => {
    const started = new Worker<StepJobData>(stepQueueName(ref.saga), processor, {
      connection: connection(),
      prefix: queues.keyPrefix(stepQueueName(ref.saga)),
    });
    cleanups.push(() => started.close(true));
    return started;
  };
  return { queues, ref, queue, worker };
}

const NOW = new Date('2030-01-01T00:00:00Z');

describe('stopStepJob', () => {
  it('removes a job no worker took: the attempt never began, and its gate keeps any worker from running it', async () => {
    const { queues, ref, queue } = setUp();
    await queues.enqueueSteps([{ ref }]);
    expect(await stopStepJob(queues, ref, 'cancelled', () => NOW)).toEqual({ mayHaveStarted: false });
    expect(await queue.getJob(stepJobId(ref))).toBeUndefined();
    expect(await queues.attemptMark(ref)).toBe('stopped:cancelled:not-started');
    // A worker that gets to the attempt now (a re-queued job, a stale view) loses the gate.
    const mark = await queues.markAttempt(ref, 'started', 60_000);
    expect(letsRun(mark)).toBe(false);
    // A second stop (a deadline after a cancel) gives the same answer without the job.
    expect(await stopStepJob(queues, ref, 'deadline', () => NOW)).toEqual({ mayHaveStarted: false });
  });

  it('counts an attempt with no gate mark and no job (what FLUSHALL leaves, or the write→add window) as may-have-acted from now', async () => {
    const { queues, ref, queue } = setUp();
    expect(await stopStepJob(queues, ref, 'cancelled', () => NOW)).toEqual({
      mayHaveStarted: true,
      since: NOW,
    });
    expect(await queues.attemptMark(ref)).toBe('stopped:cancelled:may-have-acted');
    // The job's late add queues it, but no worker passes the gate; a second stop answers as the first.
    await queues.enqueueSteps([{ ref }]);
    expect(letsRun(await queues.markAttempt(ref, 'started', 60_000))).toBe(false);
    expect(await stopStepJob(queues, ref, 'deadline', () => NOW)).toEqual({
      mayHaveStarted: true,
      since: NOW,
    });
    expect(await queue.getJob(stepJobId(ref))).toBeDefined();
  });

  it('leaves an attempt a worker passed the gate of first: it may have acted, even while its job looks untaken', async () => {
    const { queues, ref, queue } = setUp();
    // The job went back to the queue (here: a fresh copy), but the gate remembers that a worker ran the attempt.
    await queues.enqueueSteps([{ ref }]);
    expect(await queues.markAttempt(ref, 'started', 60_000)).toBeNull();
    expect(await stopStepJob(queues, ref, 'cancelled', () => NOW)).toEqual({
      mayHaveStarted: true,
      since: NOW,
    });
    expect(await queue.getJob(stepJobId(ref))).toBeDefined();
    expect(await queues.attemptMark(ref)).toBe('started');
    // A stalled re-run of the same attempt still passes.
    expect(letsRun(await queues.markAttempt(ref, 'started', 60_000))).toBe(true);
  });

  it('counts a job the sweeper re-added after Redis lost it as may-have-acted, though it waits untaken', async () => {
    const { queues, ref, queue } = setUp();
    expect(await queues.restoreStep({ ref })).toBe('added');
    expect(await queues.attemptMark(ref)).toBe('lost');
    // A worker still runs it (the attempt is re-run); a stop does not take it as never begun.
    expect(letsRun(await queues.markAttempt(ref, 'started', 60_000))).toBe(true);
    expect(await stopStepJob(queues, ref, 'cancelled', () => NOW)).toEqual({
      mayHaveStarted: true,
      since: NOW,
    });
    expect(await queue.getJob(stepJobId(ref))).toBeDefined();
  });

  it('counts an attempt as may-have-acted when an earlier stop set the gate but did not record what it found', async () => {
    const { queues, ref, queue } = setUp();
    // That stop was cut off between its two calls; since then Redis may have lost the job and the sweeper re-added
    // it (the gate, already stopped, could not take `lost`), so an untaken job proves nothing.
    expect(await queues.markAttempt(ref, 'stopped:cancelled', 60_000)).toBeNull();
    await queues.enqueueSteps([{ ref }]);
    expect(await stopStepJob(queues, ref, 'deadline', () => NOW)).toEqual({
      mayHaveStarted: true,
      since: NOW,
    });
    expect(await queue.getJob(stepJobId(ref))).toBeDefined();
    expect(await queues.attemptMark(ref)).toBe('stopped:cancelled');
  });

  it('leaves an active job alone: it may be running since the worker took it', async () => {
    const { queues, ref, queue, worker } = setUp();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    cleanups.push(() => Promise.resolve(release()));
    worker(() => held);
    await queues.enqueueSteps([{ ref }]);
    await expect.poll(async () => (await queue.getJob(stepJobId(ref)))?.getState()).toBe('active');
    const stop = await stopStepJob(queues, ref, 'cancelled', () => NOW);
    const job = await queue.getJob(stepJobId(ref));
    expect(stop).toEqual({ mayHaveStarted: true, since: new Date(job!.processedOn!) });
    expect(await job?.getState()).toBe('active');
  });

  it('does not take a job that a worker ran before (an infrastructure retry waits) for one that never began', async () => {
    const { queues, ref, queue, worker } = setUp();
    const running = worker(() => Promise.reject(new Error('MongoDB unreachable')));
    await queues.enqueueSteps([{ ref }]);
    await expect.poll(async () => (await queue.getJob(stepJobId(ref)))?.attemptsMade).toBe(1);
    await running.close(true);
    const job = await queue.getJob(stepJobId(ref));
    expect(await job?.getState()).toBe('delayed');
    expect(await stopStepJob(queues, ref, 'cancelled', () => NOW)).toEqual({
      mayHaveStarted: true,
      since: new Date(job!.processedOn!),
    });
    expect(await (await queue.getJob(stepJobId(ref)))?.getState()).toBe('delayed');
  });
});
