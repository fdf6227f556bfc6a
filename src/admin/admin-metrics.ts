// Prometheus metrics. Saga and step counters come from the saga collection's change stream (so they count
// what happened while this server ran, in every process); gauges are read from MongoDB and Redis per scrape.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SagaRegistry } from '../definition/index.js';
import type { SagaRuntime } from '../engine/saga-runtime.js';
import type { SagaDocument, StepRecord } from '../store/saga-document.js';
import type { SagaChange } from './saga-change-feed.js';
import { deadLetterCount, queueDepths, sagaCounts, watcherReports } from './system-status.js';

const STEP_PATH = /^steps\.(\d+)\.(status|compensation|compensation\.status)$/;
const TERMINAL_COUNTERS = ['completed', 'compensated', 'failed', 'rejected'] as const;
type TerminalCounter = (typeof TERMINAL_COUNTERS)[number];

function seconds(from: Date | undefined, to: Date | undefined): number | null {
  if (!from || !to) return null;
  return Math.max(0, (to.getTime() - from.getTime()) / 1000);
}

export class AdminMetrics {
  readonly registry = new Registry();
  private readonly started: Counter<'saga'>;
  private readonly ended: Record<TerminalCounter, Counter<'saga'>>;
  private readonly stepDuration: Histogram<'saga' | 'step' | 'outcome'>;
  private readonly retries: Counter<'saga' | 'step' | 'phase'>;
  private readonly sagas: Gauge<'saga' | 'status'>;
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly deadLetters: Gauge;
  private readonly watcherLag: Gauge<'saga'>;
  private readonly watcherActive: Gauge<'saga'>;

  constructor(
    private readonly runtime: SagaRuntime,
    private readonly sagaRegistry: SagaRegistry,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.started = new Counter({
      name: 'sagastream_sagas_started_total',
      help: 'Sagas created by a trigger (including rejected ones).',
      labelNames: ['saga'],
      registers,
    });
    this.ended = {
      completed: new Counter({
        name: 'sagastream_sagas_completed_total',
        help: 'Sagas that ran every step.',
        labelNames: ['saga'],
        registers,
      }),
      compensated: new Counter({
        name: 'sagastream_sagas_compensated_total',
        help: 'Sagas whose completed steps were compensated (step failure, deadline or cancel).',
        labelNames: ['saga'],
        registers,
      }),
      failed: new Counter({
        name: 'sagastream_sagas_failed_total',
        help: 'Sagas whose compensation failed; each has a dead letter.',
        labelNames: ['saga'],
        registers,
      }),
      rejected: new Counter({
        name: 'sagastream_sagas_rejected_total',
        help: 'Trigger documents refused by the saga input schema.',
        labelNames: ['saga'],
        registers,
      }),
    };
    this.stepDuration = new Histogram({
      name: 'sagastream_step_duration_seconds',
      help: 'Duration of step attempts (outcome completed, failed, timed-out) and compensations (compensated, compensation-failed).',
      labelNames: ['saga', 'step', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.retries = new Counter({
      name: 'sagastream_step_retries_total',
      help: 'Failed attempts that were scheduled to run again.',
      labelNames: ['saga', 'step', 'phase'],
      registers,
    });
    this.sagas = new Gauge({
      name: 'sagastream_sagas',
      help: 'Sagas stored, by saga and status.',
      labelNames: ['saga', 'status'],
      registers,
    });
    this.queueJobs = new Gauge({
      name: 'sagastream_queue_jobs',
      help: 'Jobs in each BullMQ queue, by state.',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.deadLetters = new Gauge({
      name: 'sagastream_dead_letters',
      help: 'Dead letters waiting for an operator.',
      registers,
    });
    this.watcherLag = new Gauge({
      name: 'sagastream_watcher_lag_seconds',
      help: 'Change-stream lag of the trigger watchers active in this process.',
      labelNames: ['saga'],
      registers,
    });
    this.watcherActive = new Gauge({
      name: 'sagastream_watcher_active',
      help: '1 when this process holds the trigger lease and watches, else 0.',
      labelNames: ['saga'],
      registers,
    });
  }

  /** Counts what a change to a saga document means: a start, an end, a finished attempt or a retry. */
  observe(change: SagaChange): void {
    const saga = change.saga;
    if (!saga) return;
    if (change.operation === 'insert') {
      this.started.inc({ saga: saga.saga });
      if (saga.status === 'rejected') this.ended.rejected.inc({ saga: saga.saga });
      return;
    }
    if (change.operation !== 'update') return;
    const status = change.updatedFields.status;
    if (typeof status === 'string' && (TERMINAL_COUNTERS as readonly string[]).includes(status)) {
      this.ended[status as TerminalCounter].inc({ saga: saga.saga });
    }
    for (const path of Object.keys(change.updatedFields)) {
      const match = STEP_PATH.exec(path);
      const step = match ? saga.steps[Number(match[1])] : undefined;
      if (!match || !step) continue;
      if (match[2] === 'status') this.observeForward(saga, step);
      else this.observeCompensation(saga, step);
    }
  }

  private observeForward(saga: SagaDocument, step: StepRecord): void {
    const labels = { saga: saga.saga, step: step.name };
    const outcome =
      step.status === 'completed'
        ? 'completed'
        : step.status === 'timed-out' || (step.status === 'retrying' && step.error?.code === 'STEP_TIMEOUT')
          ? 'timed-out'
          : step.status === 'failed' || step.status === 'retrying'
            ? 'failed'
            : null;
    if (outcome === null) return;
    if (step.status === 'retrying') this.retries.inc({ ...labels, phase: 'forward' });
    const duration = seconds(step.attemptStartedAt ?? step.startedAt, step.endedAt ?? saga.updatedAt);
    if (duration !== null) this.stepDuration.observe({ ...labels, outcome }, duration);
  }

  private observeCompensation(saga: SagaDocument, step: StepRecord): void {
    const compensation = step.compensation;
    if (!compensation) return;
    const labels = { saga: saga.saga, step: step.name };
    if (compensation.status === 'retrying') this.retries.inc({ ...labels, phase: 'compensate' });
    const outcome =
      compensation.status === 'completed'
        ? 'compensated'
        : compensation.status === 'failed'
          ? 'compensation-failed'
          : null;
    if (outcome === null) return;
    // Only the first attempt's start is stored: the duration spans every attempt of the compensation.
    const duration = seconds(compensation.startedAt, compensation.endedAt ?? saga.updatedAt);
    if (duration !== null) this.stepDuration.observe({ ...labels, outcome }, duration);
  }

  /** Refreshes the gauges, then renders every metric in the Prometheus text format. */
  async render(): Promise<string> {
    const [counts, queues, deadLetters, watchers] = await Promise.all([
      sagaCounts(this.runtime, this.sagaRegistry),
      queueDepths(this.runtime, this.sagaRegistry),
      deadLetterCount(this.runtime),
      watcherReports(this.runtime, this.sagaRegistry),
    ]);
    this.sagas.reset();
    for (const { saga, counts: byStatus } of counts.sagas) {
      for (const [status, count] of Object.entries(byStatus)) this.sagas.set({ saga, status }, count);
    }
    this.queueJobs.reset();
    for (const { queue, ...states } of queues) {
      for (const [state, count] of Object.entries(states)) this.queueJobs.set({ queue, state }, count);
    }
    this.deadLetters.set(deadLetters);
    this.watcherLag.reset();
    this.watcherActive.reset();
    for (const watcher of watchers) {
      if (watcher.state === 'not-here') continue;
      this.watcherActive.set({ saga: watcher.saga }, watcher.state === 'active' ? 1 : 0);
      if (watcher.lagSeconds !== null) this.watcherLag.set({ saga: watcher.saga }, watcher.lagSeconds);
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
