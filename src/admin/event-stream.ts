// GET /api/events: Server-Sent Events for the dashboard. Every saga change is pushed as a `saga` event; after a
// burst of changes one `stats` event follows (computed once for all clients, not per client). A client that
// stops reading is dropped once its unsent output passes a bound, so it cannot make the server buffer forever.
import type { ServerResponse } from 'node:http';
import type { SagaLogger } from '../logging/saga-logger.js';
import type { SagaChange, SagaChangeFeed } from './saga-change-feed.js';
import { sagaSummary } from './saga-views.js';
import type { AdminStats } from './system-status.js';

const STATS_DEBOUNCE_MS = 250;
const KEEPALIVE_MS = 15_000;

export interface EventStreamOptions {
  /** A client whose unsent output (response buffer and socket) passes this many bytes is disconnected. */
  maxBufferedBytes: number;
  /** Called once per dropped client (the admin metrics count them). */
  onDrop(): void;
}

export class EventStreamHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly unsubscribe: () => void;
  private readonly keepalive: NodeJS.Timeout;
  private statsTimer: NodeJS.Timeout | null = null;
  private statsRunning = false;
  private statsAgain = false;

  constructor(
    feed: SagaChangeFeed,
    private readonly stats: () => Promise<AdminStats>,
    private readonly logger: SagaLogger,
    private readonly options: EventStreamOptions,
  ) {
    this.unsubscribe = feed.subscribe((change) => this.onChange(change));
    this.keepalive = setInterval(() => this.broadcast(': keepalive\n\n'), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes over a hijacked response and keeps it open until the client leaves or the server closes. */
  attach(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n\nevent: hello\ndata: {}\n\n');
    this.clients.add(response);
    response.on('close', () => this.clients.delete(response));
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.keepalive);
    if (this.statsTimer) clearTimeout(this.statsTimer);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private onChange(change: SagaChange): void {
    if (this.clients.size === 0) return;
    const data = change.saga ? sagaSummary(change.saga) : { id: change.sagaId, deleted: true };
    this.broadcast(`event: saga\ndata: ${JSON.stringify(data)}\n\n`);
    this.scheduleStats();
  }

  private scheduleStats(): void {
    if (this.statsRunning) {
      this.statsAgain = true;
      return;
    }
    this.statsTimer ??= setTimeout(() => void this.pushStats(), STATS_DEBOUNCE_MS);
  }

  private async pushStats(): Promise<void> {
    this.statsTimer = null;
    this.statsRunning = true;
    try {
      const stats = await this.stats();
      this.broadcast(`event: stats\ndata: ${JSON.stringify(stats)}\n\n`);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not compute stats for the event stream');
    } finally {
      this.statsRunning = false;
      if (this.statsAgain) {
        this.statsAgain = false;
        this.scheduleStats();
      }
    }
  }

  private broadcast(text: string): void {
    for (const client of this.clients) {
      // write() returning false only means "above the high-water mark"; the bound is what decides.
      client.write(text);
      if (client.writableLength > this.options.maxBufferedBytes) this.drop(client);
    }
  }

  private drop(client: ServerResponse): void {
    this.clients.delete(client);
    this.logger.warn(
      { bufferedBytes: client.writableLength, maxBufferedBytes: this.options.maxBufferedBytes },
      'event stream client does not keep up; disconnecting it (it reconnects and reloads)',
    );
    // destroy, not end: end would wait behind the very output the client is not reading.
    client.destroy();
    this.options.onDrop();
  }
}
