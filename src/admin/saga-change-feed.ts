// One change stream on the saga collection for the whole admin server, feeding the dashboard's live updates
// (SSE); metrics do not use it. Reopens after errors, resuming after the last event it saw.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChangeStream, ChangeStreamDocument, Collection, ResumeToken } from 'mongodb';
import type { SagaLogger } from '../logging/saga-logger.js';
import type { SagaDocument } from '../model/saga-document.js';

export interface SagaChange {
  operation: 'insert' | 'update' | 'replace' | 'delete';
  sagaId: string;
  /** The saga after the change (without its history); null for deletes or when it is already gone. */
  saga: SagaDocument | null;
}

export type SagaChangeListener = (change: SagaChange) => void;

const REOPEN_DELAY_MS = 1_000;

export class SagaChangeFeed {
  private readonly listeners = new Set<SagaChangeListener>();
  private readonly stopController = new AbortController();
  private stream: ChangeStream<SagaDocument> | null = null;
  /** The last event seen (`ResumeToken` is `unknown`; undefined until the first event). */
  private resumeToken: ResumeToken = undefined;
  private running: Promise<void> | null = null;
  private opened: Promise<void>;
  private markOpened: () => void = () => undefined;

  constructor(
    private readonly collection: Collection<SagaDocument>,
    private readonly logger: SagaLogger,
  ) {
    this.opened = new Promise((resolve) => (this.markOpened = resolve));
  }

  /** Starts watching; resolves once the first stream is open, so later changes are seen. */
  async start(): Promise<void> {
    this.running ??= this.run();
    await Promise.race([this.opened, this.running]);
  }

  subscribe(listener: SagaChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.stream?.close().catch(() => undefined);
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    while (!signal.aborted) {
      try {
        const stream = this.collection.watch<SagaDocument, ChangeStreamDocument<SagaDocument>>(
          // The history can hold 200 events per saga; listeners only need the current state.
          [{ $project: { 'fullDocument.history': 0 } }],
          {
            fullDocument: 'updateLookup',
            ...(this.resumeToken === undefined ? {} : { resumeAfter: this.resumeToken }),
          },
        );
        this.stream = stream;
        // The driver opens the cursor lazily; one round trip here makes "started" mean "watching".
        await stream.tryNext().then((first) => {
          this.markOpened();
          if (first) this.handle(first);
        });
        for await (const event of stream) {
          this.handle(event);
          if (signal.aborted) break;
        }
      } catch (error) {
        if (signal.aborted) break;
        this.logger.warn({ err: error }, 'saga change stream failed; reopening');
        await sleep(REOPEN_DELAY_MS, undefined, { signal }).catch(() => undefined);
      } finally {
        await this.stream?.close().catch(() => undefined);
        this.stream = null;
      }
    }
    this.markOpened();
  }

  private handle(event: ChangeStreamDocument<SagaDocument>): void {
    this.resumeToken = event._id;
    if (
      event.operationType !== 'insert' &&
      event.operationType !== 'update' &&
      event.operationType !== 'replace' &&
      event.operationType !== 'delete'
    ) {
      return;
    }
    const change: SagaChange = {
      operation: event.operationType,
      sagaId: String(event.documentKey._id),
      saga: event.operationType === 'delete' ? null : (event.fullDocument ?? null),
    };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error({ err: error }, 'saga change listener failed');
      }
    }
  }
}
