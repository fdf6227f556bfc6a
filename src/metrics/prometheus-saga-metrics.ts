// The Prometheus implementation of the engine's SagaMetrics sink: one registry per process with the saga and
// step counters, the step duration histogram, the watcher gauges, the connection states and Node's process
// metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import type {
  ConnectionMetrics,
  ConnectionRole,
  ConnectionTarget,
} from '../connections/connection-states.js';
import type { StepPhase } from '../definition/index.js';
import type { SagaMetrics, SagaOutcome, StepOutcome } from '../engine/saga-metrics.js';

export const prometheusSagaMetricsOptionsSchema = z.strictObject({
  /** Node's process metrics (CPU, memory, event loop lag, GC) in the same registry. */
  processMetrics: z.boolean().default(true),
  /** A monotonic clock in milliseconds for step durations; tests inject their own. */
  now: z
    .custom<() => number>((value) => typeof value === 'function', 'now must be a function')
    .default(() => () => performance.now()),
});

export type PrometheusSagaMetricsOptions = z.input<typeof prometheusSagaMetricsOptionsSchema>;

const STEP_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class PrometheusSagaMetrics implements SagaMetrics, ConnectionMetrics {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly started: Counter<'saga'>;
  private readonly ended: Record<SagaOutcome, Counter<'saga'>>;
  private readonly stepDuration: Histogram<'saga' | 'step' | 'outcome'>;
  private readonly retries: Counter<'saga' | 'step' | 'phase'>;
  private readonly lag: Gauge<'saga'>;
  private readonly active: Gauge<'saga'>;
  private readonly connectionsUp: Gauge<'target' | 'role'>;
  private readonly reconnects: Counter<'target' | 'role'>;

  constructor(options: PrometheusSagaMetricsOptions = {}) {
    const { processMetrics, now } = prometheusSagaMetricsOptionsSchema.parse(options);
    this.now = now;
    const registers = [this.registry];
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
    this.started = new Counter({
      name: 'sagastream_sagas_started_total',
      help: 'Sagas created from trigger documents by this process (rejected ones included).',
      labelNames: ['saga'],
      registers,
    });
    const endedCounter = (outcome: SagaOutcome, help: string): Counter<'saga'> =>
      new Counter({ name: `sagastream_sagas_${outcome}_total`, help, labelNames: ['saga'], registers });
    this.ended = {
      completed: endedCounter('completed', 'Sagas whose last step this process completed.'),
      compensated: endedCounter(
        'compensated',
        'Sagas this process finished compensating (step failure, deadline or cancel).',
      ),
      failed: endedCounter(
        'failed',
        'Sagas whose compensation failed for good here; each has a dead letter.',
      ),
      rejected: endedCounter('rejected', 'Trigger documents refused by the saga input schema.'),
    };
    this.stepDuration = new Histogram({
      name: 'sagastream_step_duration_seconds',
      help:
        'Duration of each attempt run here: forward (outcome completed, failed, timed-out) and compensation ' +
        '(compensated, compensation-failed).',
      labelNames: ['saga', 'step', 'outcome'],
      buckets: STEP_BUCKETS_SECONDS,
      registers,
    });
    this.retries = new Counter({
      name: 'sagastream_step_retries_total',
      help: 'Failed attempts scheduled to run again (phase forward or compensate).',
      labelNames: ['saga', 'step', 'phase'],
      registers,
    });
    this.lag = new Gauge({
      name: 'sagastream_watcher_lag_seconds',
      help: 'Change-stream lag of the trigger watcher active in this process (absent while standby).',
      labelNames: ['saga'],
      registers,
    });
    this.active = new Gauge({
      name: 'sagastream_watcher_active',
      help: '1 while this process holds the trigger lease and watches, else 0.',
      labelNames: ['saga'],
      registers,
    });
    this.connectionsUp = new Gauge({
      name: 'sagastream_connection_up',
      help:
        '1 while every connection of this process to target (redis, mongodb) in role (producer, worker, ' +
        'worker-blocking, client) is up; 0 while one is lost or not connected yet.',
      labelNames: ['target', 'role'],
      registers,
    });
    this.reconnects = new Counter({
      name: 'sagastream_connection_reconnects_total',
      help: 'Connections of this process that came back up after being lost.',
      labelNames: ['target', 'role'],
      registers,
    });
  }

  connectionUp(target: ConnectionTarget, role: ConnectionRole, up: boolean): void {
    this.connectionsUp.set({ target, role }, up ? 1 : 0);
  }

  connectionReconnected(target: ConnectionTarget, role: ConnectionRole): void {
    this.reconnects.inc({ target, role });
  }

  sagasStarted(saga: string, count: number): void {
    this.started.inc({ saga }, count);
  }

  sagasEnded(saga: string, outcome: SagaOutcome, count: number): void {
    this.ended[outcome].inc({ saga }, count);
  }

  stepAttemptStarted(saga: string, step: string): (outcome: StepOutcome) => void {
    const startedAt = this.now();
    return (outcome) =>
      this.stepDuration.observe({ saga, step, outcome }, Math.max(0, this.now() - startedAt) / 1000);
  }

  stepRetried(saga: string, step: string, phase: StepPhase): void {
    this.retries.inc({ saga, step, phase });
  }

  watcherActive(saga: string, active: boolean): void {
    this.active.set({ saga }, active ? 1 : 0);
    // A standby's last lag would look current; only the active watcher reports one.
    if (!active) this.lag.remove({ saga });
  }

  watcherLag(saga: string, seconds: number): void {
    this.lag.set({ saga }, seconds);
  }

  /** Every metric in the Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
