// Follows one change target (change-target.ts: a saga's trigger collection, or a collection sagas wait on) while
// holding its lease, and hands each batch of events to it. Order per batch: read events → the target's work
// (durable) → checkpoint; so a crash only ever replays.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChangeStreamDocument, Collection, Document, ResumeToken, Timestamp } from 'mongodb';
import { SagastreamError, within } from '../errors/index.js';
import type { SagaLogger } from '../logging/saga-logger.js';
import { noSagaMetrics, type SagaMetrics } from '../engine/saga-metrics.js';
import type { TriggerEvent } from '../engine/trigger-event.js';
import type { ChangeTarget } from './change-target.js';
import type { Checkpoint, CheckpointStore } from './checkpoint-store.js';
import { readChangeBatch, type TriggerChangeStream } from './change-events.js';
import type { ScanReason } from './collection-scan.js';
import { changeStreamOptions, loadStreamStart, type StreamStart } from './stream-start.js';
import { isPositionLost, untilAborted } from './watch-failures.js';
import type { PartitionShare } from './partition-share.js';
import { partitionLabel } from './trigger-partition.js';
import { HolderHealth } from '../store/holder-health.js';
import { Lease, type LeaseStore } from '../store/lease.js';
import {
  triggerWatcherOptionsSchema,
  type TriggerWatcherOptions,
  type TriggerWatcherOptionsInput,
} from './trigger-watcher-options.js';

export type TriggerWatcherState = 'standby' | 'active' | 'stopped';

export interface TriggerWatcherStatus {
  /** The saga whose trigger this is, or `wait:<db>.<collection>` for the watcher of a waited collection. */
  saga: string;
  /** `i/N` for partition i of a trigger with `partitions: N`; absent for an unpartitioned one. */
  partition?: string;
  /** The id of its lease and checkpoint. */
  leaseId: string;
  state: TriggerWatcherState;
  /** This process's lease holder id. */
  holderId: string;
  /** The fencing token of the lease while active. */
  fencingToken: number | null;
  /** Change events read (including skipped ones). */
  events: number;
  /** Sagas started (by a wait watcher: resumed). */
  started: number;
  rejected: number;
  duplicates: number;
  /** Documents read by backfill and reconcile scans. */
  scanned: number;
  reconciles: number;
  lastEventAt: Date | null;
  /** now − cluster time of the last event; 0 when the last read found the stream drained; null before any. */
  lagSeconds: number | null;
  lastCheckpointAt: Date | null;
  lastError: { message: string; at: Date } | null;
}

export interface TriggerWatcherDependencies {
  /** What to follow and what to do with it. */
  target: ChangeTarget;
  leases: LeaseStore;
  checkpoints: CheckpointStore;
  logger: SagaLogger;
  /** Reports whether this watcher is active and its lag. */
  metrics?: SagaMetrics;
  /**
   * Throws when the queues the starter adds to do not answer (SagaQueues.ping). Checked before taking the
   * lease and before every renewal: a watcher that cannot queue the sagas it starts does not lead.
   */
  queueHealth?: (timeoutMs: number) => Promise<void>;
  /** For a partition of a partitioned trigger: the partitions this process leads, to balance them (partition-share.ts). */
  share?: PartitionShare;
}

class FencedOutError extends Error {}

/** Another process leads fewer partitions of this trigger and asked for this one. */
class HandOverError extends Error {}

/** How long closing a change stream may take before the watcher goes on without waiting for it. */
const STREAM_CLOSE_TIMEOUT_MS = 2_000;

export class TriggerWatcher {
  readonly options: TriggerWatcherOptions;
  /** Id of the lease and of the checkpoint. */
  readonly triggerId: string;
  private readonly target: ChangeTarget;
  private readonly source: Collection;
  private readonly pipeline: Document[];
  private readonly logger: SagaLogger;
  private readonly metrics: SagaMetrics;
  private readonly stopController = new AbortController();
  private running: Promise<void> | null = null;
  private lease: Lease | null = null;
  private streamStart: StreamStart = { kind: 'load-checkpoint' };
  private pendingCheckpoint: Checkpoint | null = null;
  private lastSaveAt = 0;
  /** How logs and metrics name this watcher: the saga, or `<saga>#<i>/<N>` for a partition. */
  private readonly metricName: string;
  private readonly counters: Omit<
    TriggerWatcherStatus,
    'saga' | 'partition' | 'leaseId' | 'state' | 'holderId' | 'fencingToken'
  > = {
    events: 0,
    started: 0,
    rejected: 0,
    duplicates: 0,
    scanned: 0,
    reconciles: 0,
    lastEventAt: null,
    lagSeconds: null,
    lastCheckpointAt: null,
    lastError: null,
  };
  private state: TriggerWatcherState = 'standby';
  /** Whether the queues answer: checked before taking the lease and before each renewal. */
  private readonly health: HolderHealth;
  /** After handing the trigger over, this watcher leaves the lease to the others until then. */
  private holdOffUntil = 0;

  constructor(
    private readonly deps: TriggerWatcherDependencies,
    options: TriggerWatcherOptionsInput,
  ) {
    this.options = triggerWatcherOptionsSchema.parse(options);
    this.target = deps.target;
    this.triggerId = deps.target.id;
    this.pipeline = deps.target.pipeline;
    this.source = deps.target.source;
    const partition = deps.target.partition;
    this.metricName = partition ? `${deps.target.name}#${partitionLabel(partition)}` : deps.target.name;
    this.logger = deps.logger.child({
      saga: deps.target.name,
      trigger: this.source.namespace,
      ...(partition ? { partition: partitionLabel(partition) } : {}),
    });
    this.metrics = deps.metrics ?? noSagaMetrics;
    this.health = new HolderHealth(
      async () => deps.queueHealth?.(this.options.healthCheckTimeout),
      this.logger,
      'lead this trigger',
    );
  }

  /** Starts in the background: standby until the lease is ours, then watching. */
  start(): void {
    this.running ??= this.run();
  }

  /** Stops watching, saves the checkpoint and releases the lease; waits for at most `timeoutMs`. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopController.abort();
    if (this.running) {
      const timedOut = Symbol('timeout');
      const outcome = await Promise.race([this.running, sleep(timeoutMs, timedOut, { ref: false })]);
      if (outcome === timedOut) this.logger.warn({ timeoutMs }, 'trigger watcher did not stop in time');
    }
    this.state = 'stopped';
  }

  status(): TriggerWatcherStatus {
    const partition = this.target.partition;
    return {
      saga: this.target.name,
      ...(partition ? { partition: partitionLabel(partition) } : {}),
      leaseId: this.triggerId,
      state: this.state,
      holderId: this.options.holderId,
      fencingToken: this.state === 'active' && this.lease ? this.lease.fencingToken : null,
      ...this.counters,
    };
  }

  /** Who holds this trigger's lease right now (any process), or null. */
  leaseHolder(): Promise<string | null> {
    return this.deps.leases.holderOf(this.triggerId);
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.state = 'standby';
      const lease = await this.waitForLease();
      if (!lease) break;
      this.lease = lease;
      this.deps.share?.take(this.triggerId);
      this.state = 'active';
      this.metrics.watcherActive(this.metricName, true);
      this.logger.info(
        { holderId: lease.holder, fencingToken: lease.fencingToken },
        'trigger lease acquired',
      );
      try {
        await this.watchWhileHolding(lease);
      } catch (error) {
        // Not expected (watchWhileHolding handles its failures), but the watcher must never die.
        this.recordError(error, 'trigger watcher failed unexpectedly; standing down and retrying');
        await sleep(this.options.maxRetryDelay, undefined, { signal: this.stopController.signal }).catch(
          () => undefined,
        );
      } finally {
        await lease.release();
        this.deps.share?.leave(this.triggerId);
        this.lease = null;
        this.metrics.watcherActive(this.metricName, false);
        // Another holder may have moved the checkpoint since: read it again after the next acquisition.
        this.streamStart = { kind: 'load-checkpoint' };
        this.pendingCheckpoint = null;
      }
    }
    this.state = 'stopped';
  }

  private async waitForLease(): Promise<Lease | null> {
    while (!this.stopping) {
      try {
        if (Date.now() >= this.holdOffUntil && (await this.health.passes())) {
          const lease = await Lease.acquire(this.deps.leases, {
            leaseId: this.triggerId,
            holder: this.options.holderId,
            ttlMs: this.options.leaseTtl,
            logger: this.logger,
            healthCheck: () => this.health.check(),
          });
          if (lease) return lease;
          // Held elsewhere: a partition's standby asks for it, and gets it if the holder leads more than we do.
          const share = this.deps.share;
          if (share) {
            await this.deps.leases.requestHandover(
              this.triggerId,
              this.options.holderId,
              share.size,
              this.options.leaseTtl / 3,
            );
          }
        }
      } catch (error) {
        this.recordError(error, 'could not reach MongoDB to take the trigger lease');
      }
      await sleep(this.options.standbyPollInterval, undefined, { signal: this.stopController.signal }).catch(
        () => undefined,
      );
    }
    return null;
  }

  /** Watches until stopped or the lease is lost; transient failures are retried with backoff. */
  private async watchWhileHolding(lease: Lease): Promise<void> {
    const signal = AbortSignal.any([this.stopController.signal, lease.signal]);
    let failures = 0;
    while (!signal.aborted) {
      try {
        // A read or write on a half-open connection never returns: once the lease is lost, stop waiting for it.
        // Whatever it returns later is dropped (each step checks the signal first, and a checkpoint save the
        // lease). A graceful stop waits instead, so the batch in hand is checkpointed (stop() bounds the wait).
        await untilAborted(this.watchStream(lease, signal), lease.signal);
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof FencedOutError) {
          this.logger.warn('a newer lease holder saved the checkpoint; standing down');
          return;
        }
        if (error instanceof HandOverError) {
          // Leave it to the asker: everything read so far is checkpointed before the lease is released.
          await this.saveCheckpoint(lease, true).catch((saveError: unknown) =>
            this.recordError(saveError, 'could not save the checkpoint before handing the partition over'),
          );
          this.logger.info(
            { to: lease.handoverRequest?.to, leading: this.deps.share?.size },
            'handing this trigger partition over to a process that leads fewer',
          );
          this.holdOffUntil = Date.now() + this.options.leaseTtl;
          return;
        }
        if (error instanceof SagastreamError && error.code === 'CONNECTION_TIMEOUT') {
          // A batch that never ends holds the trigger still: let a watcher whose connections answer lead.
          this.recordError(error, 'a batch did not finish in time; handing the trigger over');
          this.holdOffUntil = Date.now() + this.options.leaseTtl / 3;
          return;
        }
        if (isPositionLost(error)) {
          this.recordError(error, 'change stream cannot resume from the checkpoint; reconciling by scanning');
          this.streamStart = { kind: 'now', scan: 'reconcile' };
          continue;
        }
        failures += 1;
        const delay = Math.min(this.options.maxRetryDelay, this.options.retryDelay * 2 ** (failures - 1));
        this.recordError(error, `trigger watcher failed; retrying in ${delay} ms`);
        await sleep(delay * (0.75 + Math.random() / 2), undefined, { signal }).catch(() => undefined);
      }
    }
    // Stopping (not deposed): keep what was done. A lost lease saves nothing; the fencing token would refuse it.
    if (this.stopping && lease.isHeld()) {
      await this.saveCheckpoint(lease, true).catch((error: unknown) =>
        this.recordError(
          error,
          'could not save the final checkpoint; a restart replays from the previous one',
        ),
      );
    }
  }

  /** One change stream from open to end: returns after an invalidate, throws on failures. */
  private async watchStream(lease: Lease, signal: AbortSignal): Promise<void> {
    if (this.streamStart.kind === 'load-checkpoint') {
      this.streamStart = await loadStreamStart(this.target, this.deps.checkpoints, {
        triggerId: this.triggerId,
        backfill: this.options.backfill,
        logger: this.logger,
      });
    }
    const start = this.streamStart;
    const stream: TriggerChangeStream = this.source.watch<Document, ChangeStreamDocument<Document>>(
      this.pipeline,
      changeStreamOptions(start, this.target.fullDocument, this.options),
    );
    // Closing the stream ends a read that waits on the server, so a lost lease stops the watching at once.
    const closeStream = (): void => void stream.close().catch(() => undefined);
    signal.addEventListener('abort', closeStream, { once: true });
    try {
      // The first read opens the stream, so a scan that follows it cannot miss a document written meanwhile.
      let pendingScan = start.kind === 'now' ? start.scan : null;
      // A start that is not from our own checkpoint is saved at once, so the next holder resumes from it.
      let saveNow = start.kind === 'now' || start.kind === 'time';
      while (!signal.aborted) {
        const batch = await readChangeBatch(stream, this.options.batchSize);
        if (signal.aborted) return;
        if (pendingScan) {
          await this.scan(pendingScan, signal);
          pendingScan = null;
        }
        if (batch.events.length > 0) await this.startSagas(batch.events);
        this.recordProgress(batch.received, batch.clusterTime, batch.drained);
        if (batch.invalidateToken !== undefined) {
          await this.handleInvalidate(lease, batch.invalidateToken, signal);
          return;
        }
        this.streamStart = { kind: 'token', resumeToken: batch.resumeToken, invalidated: false };
        this.pendingCheckpoint = {
          resumeToken: batch.resumeToken,
          ...(batch.clusterTime ? { clusterTime: batch.clusterTime } : {}),
        };
        await this.saveCheckpoint(lease, saveNow);
        saveNow = false;
        if (
          this.deps.share?.shouldHandOver(lease.handoverRequest, this.options.holderId, this.options.leaseTtl)
        )
          throw new HandOverError();
        // Reopened from the token just recorded, after the usual backoff.
        if (batch.ended)
          throw new Error(`the change stream on ${this.source.namespace} was closed by the server`);
      }
    } finally {
      signal.removeEventListener('abort', closeStream);
      await within(stream.close(), STREAM_CLOSE_TIMEOUT_MS, 'closing the change stream').catch(
        () => undefined,
      );
    }
  }

  /** The collection was dropped or renamed: continue after the invalidate, and scan what is there now. */
  private async handleInvalidate(
    lease: Lease,
    invalidateToken: ResumeToken,
    signal: AbortSignal,
  ): Promise<void> {
    this.recordError(
      new Error(`${this.source.namespace} was dropped or renamed (change stream invalidated)`),
      'trigger collection invalidated; reconciling by scanning and watching on',
    );
    await this.scan('reconcile', signal);
    this.streamStart = { kind: 'token', resumeToken: invalidateToken, invalidated: true };
    this.pendingCheckpoint = { resumeToken: invalidateToken, invalidated: true };
    await this.saveCheckpoint(lease, true);
  }

  /** Feeds every document matching the trigger filter to the starter; existing sagas count as duplicates. */
  private async scan(reason: ScanReason, signal: AbortSignal): Promise<void> {
    const startedBefore = this.counters.started;
    this.logger.info({ reason }, 'scanning the trigger collection for documents without a saga');
    const options = { batchSize: this.options.batchSize, signal };
    const scanned = await this.target.scan(reason, options, (events) => this.startSagas(events));
    this.counters.scanned += scanned;
    if (reason === 'reconcile') this.counters.reconciles += 1;
    const started = this.counters.started - startedBefore;
    this.logger.info({ reason, scanned, started }, 'trigger collection scan finished');
  }

  private async startSagas(events: TriggerEvent[]): Promise<void> {
    // Invalid input does not throw here: the starter stores it as a `rejected` saga with a dead letter.
    const result = await within(
      this.target.handle(events),
      this.options.batchTimeout,
      `starting the sagas of ${events.length} trigger events`,
    );
    this.counters.started += result.started;
    this.counters.rejected += result.rejected;
    this.counters.duplicates += result.duplicates;
  }

  private recordProgress(received: number, clusterTime: Timestamp | undefined, drained: boolean): void {
    if (received > 0) {
      this.counters.events += received;
      this.counters.lastEventAt = new Date();
    }
    if (drained) this.counters.lagSeconds = 0;
    else if (clusterTime) this.counters.lagSeconds = Math.max(0, Date.now() / 1000 - clusterTime.t);
    if (this.counters.lagSeconds !== null) this.metrics.watcherLag(this.metricName, this.counters.lagSeconds);
  }

  /** Writes the pending checkpoint when forced or when the last write is older than `checkpointInterval`. */
  private async saveCheckpoint(lease: Lease, force: boolean): Promise<void> {
    const checkpoint = this.pendingCheckpoint;
    if (!checkpoint) return;
    if (!force && Date.now() - this.lastSaveAt < this.options.checkpointInterval) return;
    if (!lease.isHeld()) return;
    const saved = await this.deps.checkpoints.save(this.triggerId, checkpoint, lease.fencingToken);
    if (!saved) throw new FencedOutError();
    if (this.pendingCheckpoint === checkpoint) this.pendingCheckpoint = null;
    this.lastSaveAt = Date.now();
    this.counters.lastCheckpointAt = new Date(this.lastSaveAt);
  }

  private recordError(error: unknown, message: string): void {
    this.counters.lastError = {
      message: error instanceof Error ? error.message : String(error),
      at: new Date(),
    };
    this.logger.error({ err: error }, message);
  }
}
