// The admin's Prometheus metrics: gauges read from MongoDB and Redis at each scrape (sagas per status, queue
// depths, dead letters) and the event stream's clients. Counters of saga outcomes and step attempts are counted
// where they happen, by the workers and watchers (src/metrics/); a process that also runs those roles passes
// its own PrometheusSagaMetrics and they are served here too. Nothing is derived from a change stream, so
// several admin replicas each report the same gauges and no counter twice.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SagaRegistry } from '../definition/index.js';
import type { AdminBackend } from './admin-backend.js';
import type { PrometheusSagaMetrics } from '../metrics/index.js';
import { deadLetterCount, queueDepths, sagaCounts } from './system-status.js';
import { versionReports } from './version-reports.js';

export class AdminMetrics {
  private readonly registry = new Registry();
  /** The admin's registry, merged with the engine's when this process runs other roles too. */
  private readonly served: Registry;
  private readonly sagas: Gauge<'saga' | 'status'>;
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly deadLetters: Gauge;
  private readonly inFlightByVersion: Gauge<'saga' | 'version'>;
  private readonly waitingForVersion: Gauge<'saga' | 'version'>;
  private readonly eventStreamClients: Gauge;
  private readonly eventStreamDrops: Counter;

  constructor(
    private readonly backend: AdminBackend,
    private readonly sagaRegistry: SagaRegistry,
    /** How many event stream clients are connected now. */
    private readonly connectedClients: () => number,
    /** This process's engine metrics (which hold the process metrics); absent in an admin-only process. */
    engine?: PrometheusSagaMetrics,
  ) {
    const registers = [this.registry];
    if (!engine) collectDefaultMetrics({ register: this.registry });
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
    this.inFlightByVersion = new Gauge({
      name: 'sagastream_sagas_in_flight',
      help: 'Sagas running or compensating, by saga and the definition version they run on.',
      labelNames: ['saga', 'version'],
      registers,
    });
    this.waitingForVersion = new Gauge({
      name: 'sagastream_sagas_waiting_for_version',
      help: 'Sagas in flight whose version no running worker loads, by saga and version.',
      labelNames: ['saga', 'version'],
      registers,
    });
    this.deadLetters = new Gauge({
      name: 'sagastream_dead_letters',
      help: 'Dead letters waiting for an operator.',
      registers,
    });
    this.eventStreamClients = new Gauge({
      name: 'sagastream_event_stream_clients',
      help: 'Clients connected to GET /api/events on this admin server.',
      registers,
    });
    this.eventStreamDrops = new Counter({
      name: 'sagastream_event_stream_dropped_total',
      help: 'Event stream clients disconnected because they did not read their output.',
      registers,
    });
    // Merged once: both registries are complete by now, and a name in both throws here rather than per scrape.
    this.served = engine ? Registry.merge([this.registry, engine.registry]) : this.registry;
  }

  eventStreamClientDropped(): void {
    this.eventStreamDrops.inc();
  }

  /** Refreshes the gauges, then renders every metric in the Prometheus text format. */
  async render(): Promise<string> {
    const [counts, queues, deadLetters] = await Promise.all([
      sagaCounts(this.backend, this.sagaRegistry),
      queueDepths(this.backend, this.sagaRegistry),
      deadLetterCount(this.backend),
    ]);
    const versions = await versionReports(this.backend, this.sagaRegistry, counts.inFlight);
    this.inFlightByVersion.reset();
    this.waitingForVersion.reset();
    for (const { saga, version, inFlight, waitingForVersion } of versions) {
      this.inFlightByVersion.set({ saga, version: String(version) }, inFlight);
      this.waitingForVersion.set({ saga, version: String(version) }, waitingForVersion);
    }
    this.sagas.reset();
    for (const { saga, counts: byStatus } of counts.sagas) {
      for (const [status, count] of Object.entries(byStatus)) this.sagas.set({ saga, status }, count);
    }
    this.queueJobs.reset();
    for (const { queue, ...states } of queues) {
      for (const [state, count] of Object.entries(states)) this.queueJobs.set({ queue, state }, count);
    }
    this.deadLetters.set(deadLetters);
    this.eventStreamClients.set(this.connectedClients());
    return this.served.metrics();
  }

  get contentType(): string {
    return this.served.contentType;
  }
}
