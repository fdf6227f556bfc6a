// What a cancel learns from the job of the attempt a saga has scheduled (stopStepJob), against a real Redis: a job
// never taken is removed (the attempt never began), any other is left alone and may have acted, and a missing
// one gets a placeholder under its id so that its late add is a no-op.
import { Worker, type Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { stopStepJob } from '../../../src/engine/step-job-stop.js';
import type { StepJobRef } from '../../../src/model/step-job-ref.js';
import type { StepJobData } from '../../../src/queue/job-data.js';
import { stepJobId, stepQueueName } from '../../../src/queue/queue-names.js';
import { SagaQueues } from '../../../src/queue/saga-queues.js';
import { redisUrl, uniqueName } from '../helpers.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The test server's Redis as BullMQ connection options. */
function connection() {
  const url = new URL(redisUrl());
  return { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
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
      prefix: queues.prefix,
    });
    cleanups.push(() => started.close(true));
    return started;
  };
  return { queues, ref, queue, worker };
}

const NOW = new Date('2030-01-01T00:00:00Z');

describe('stopStepJob', () => {
  it('removes a job no worker took: the attempt never began, and a placeholder holds its id', async () => {
    const { queues, ref, queue } = setUp();
    await queues.enqueueSteps([{ ref }]);
    expect(await stopStepJob(queues, ref, 'cancelled', () => NOW)).toEqual({ mayHaveStarted: false });
    const held = await queue.getJob(stepJobId(ref));
    expect(held?.data).toMatchObject({ ...ref, placeholder: 'cancelled' });
    expect(await held?.getState()).toBe('delayed');
    // The real job's add is now a no-op.
    await queues.enqueueSteps([{ ref }]);
    expect((await queue.getJob(stepJobId(ref)))?.data.placeholder).toBe('cancelled');
  });

  it('takes the id of a missing job, and counts the attempt as may-have-acted from now', async () => {
    const { queues, ref, queue } = setUp();
    expect(await stopStepJob(queues, ref, 'cancelled', () => NOW)).toEqual({
      mayHaveStarted: true,
      since: NOW,
    });
    expect((await queue.getJob(stepJobId(ref)))?.data.placeholder).toBe('cancelled');
    // A second stop (a deadline after a cancel) finds the placeholder, not a job it removed.
    expect(await stopStepJob(queues, ref, 'cancelled', () => NOW)).toEqual({
      mayHaveStarted: true,
      since: NOW,
    });
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
    expect(job?.data.placeholder).toBeUndefined();
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
    expect((await queue.getJob(stepJobId(ref)))?.data.placeholder).toBeUndefined();
  });
});
