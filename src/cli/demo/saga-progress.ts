// Live progress of the demo in the terminal: sagas per status and the rates, rewritten in place on a TTY and
// printed as plain periodic lines otherwise (logs, CI, pipes).
import type { Writable } from 'node:stream';
import type { Collection, Document } from 'mongodb';
import type { Logger } from 'pino';

const STATUSES = ['running', 'compensating', 'completed', 'compensated', 'failed', 'rejected'] as const;
const TERMINAL = new Set<string>(['completed', 'compensated', 'failed', 'rejected']);
const RATE_WINDOW_MS = 10_000;

export interface SagaProgressOptions {
  readonly sagas: Collection<Document>;
  readonly saga: string;
  readonly output: Writable & { isTTY?: boolean };
  /** How many orders were inserted so far, for the insert rate. */
  readonly inserted: () => number;
  readonly logger: Logger;
  /** Default: 500 ms on a TTY, 5 s otherwise. */
  readonly intervalMs?: number;
}

interface Sample {
  readonly at: number;
  readonly inserted: number;
  readonly finished: number;
}

export type StatusCounts = Record<(typeof STATUSES)[number], number>;

/** `orders 120 (2.0/s) | running 3 | … | finished 1.9/s` */
export function formatProgress(
  counts: StatusCounts,
  inserted: number,
  rates: { inserted: number; finished: number },
) {
  const statuses = STATUSES.map((status) => `${status} ${counts[status]}`).join(' | ');
  return `orders ${inserted} (${rates.inserted.toFixed(1)}/s) | ${statuses} | finished ${rates.finished.toFixed(1)}/s`;
}

export class SagaProgress {
  readonly #tty: boolean;
  readonly #samples: Sample[] = [];
  #timer: NodeJS.Timeout | undefined;
  #rendering: Promise<void> = Promise.resolve();
  #lastLine = '';

  constructor(private readonly options: SagaProgressOptions) {
    this.#tty = options.output.isTTY === true;
  }

  start(): void {
    const intervalMs = this.options.intervalMs ?? (this.#tty ? 500 : 5_000);
    this.#timer = setInterval(() => {
      this.#rendering = this.#rendering.then(() => this.render());
    }, intervalMs);
  }

  async counts(): Promise<StatusCounts> {
    const counts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as StatusCounts;
    const groups = await this.options.sagas
      .aggregate<{ _id: string; count: number }>([
        { $match: { saga: this.options.saga } },
        { $group: { _id: '$status', count: { $sum: 1 } } },
      ])
      .toArray();
    for (const group of groups) {
      if (group._id in counts) counts[group._id as keyof StatusCounts] = group.count;
    }
    return counts;
  }

  /** Writes one progress line (in place on a TTY). */
  async render(): Promise<void> {
    let counts: StatusCounts;
    try {
      counts = await this.counts();
    } catch (error) {
      this.options.logger.debug({ err: error }, 'reading saga counts failed');
      return;
    }
    const now = Date.now();
    const inserted = this.options.inserted();
    const finished = Object.entries(counts).reduce(
      (sum, [status, count]) => (TERMINAL.has(status) ? sum + count : sum),
      0,
    );
    this.#samples.push({ at: now, inserted, finished });
    while (this.#samples.length > 2 && (this.#samples[0]?.at ?? now) < now - RATE_WINDOW_MS)
      this.#samples.shift();
    const oldest = this.#samples[0] ?? { at: now, inserted, finished };
    const seconds = Math.max((now - oldest.at) / 1000, 0.001);
    const rates = {
      inserted: now === oldest.at ? 0 : (inserted - oldest.inserted) / seconds,
      finished: now === oldest.at ? 0 : (finished - oldest.finished) / seconds,
    };
    const line = formatProgress(counts, inserted, rates);
    this.#lastLine = line;
    this.options.output.write(this.#tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  /** Stops refreshing and leaves the last line standing on its own line. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#rendering;
    if (this.#tty && this.#lastLine !== '') this.options.output.write('\n');
  }
}
