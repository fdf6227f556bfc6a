// Live progress of the demo in the terminal: sagas per status and the rates, rewritten in place on a TTY and
// printed as plain periodic lines otherwise (logs, CI, pipes).
import type { Writable } from 'node:stream';
import type { Collection, Document } from 'mongodb';
import type { SagaLogger } from '../../logging/saga-logger.js';

const STATUSES = ['running', 'compensating', 'completed', 'compensated', 'failed', 'rejected'] as const;
const TERMINAL = new Set<string>(['completed', 'compensated', 'failed', 'rejected']);
const RATE_WINDOW_MS = 10_000;

export interface SagaProgressOptions {
  readonly sagas: Collection<Document>;
  readonly saga: string;
  /** On a TTY (`isTTY`), lines are rewritten in place and cut to `columns`. */
  readonly output: Writable & { isTTY?: boolean; columns?: number };
  /** How many orders were inserted so far, for the insert rate. */
  readonly inserted: () => number;
  readonly logger: SagaLogger;
  /** Default: 500 ms on a TTY, 5 s otherwise. */
  readonly intervalMs?: number;
}

interface Sample {
  readonly at: number;
  readonly inserted: number;
  readonly finished: number;
}

export type StatusCounts = Record<(typeof STATUSES)[number], number>;

export interface ProgressRates {
  inserted: number;
  finished: number;
}

/** `orders 120 (2.0/s) | running 3 | … | finished 1.9/s`; without rates until there are two readings. */
export function formatProgress(counts: StatusCounts, inserted: number, rates: ProgressRates | null) {
  const statuses = STATUSES.map((status) => `${status} ${counts[status]}`).join(' | ');
  if (rates === null) return `orders ${inserted} | ${statuses}`;
  return `orders ${inserted} (${rates.inserted.toFixed(1)}/s) | ${statuses} | finished ${rates.finished.toFixed(1)}/s`;
}

/**
 * Cut to the terminal's width, with an ellipsis. The last column stays free: a terminal that wraps a full line
 * would leave the `\r` that rewrites it on the wrapped half, and the line would scroll instead of updating.
 */
export function fitToWidth(line: string, columns: number | undefined): string {
  if (columns === undefined || columns < 2 || line.length < columns) return line;
  return `${line.slice(0, columns - 2)}…`;
}

/** Rates over the readings of the last 10 s: none from one reading, which has no interval to divide by. */
export class ProgressMeter {
  readonly #samples: Sample[] = [];

  line(reading: { at: number; counts: StatusCounts; inserted: number }): string {
    const { at, counts, inserted } = reading;
    const finished = Object.entries(counts).reduce(
      (sum, [status, count]) => (TERMINAL.has(status) ? sum + count : sum),
      0,
    );
    this.#samples.push({ at, inserted, finished });
    while (this.#samples.length > 2 && (this.#samples[0]?.at ?? at) < at - RATE_WINDOW_MS) {
      this.#samples.shift();
    }
    const oldest = this.#samples[0]!;
    const seconds = (at - oldest.at) / 1000;
    const rates =
      seconds > 0
        ? {
            inserted: (inserted - oldest.inserted) / seconds,
            finished: (finished - oldest.finished) / seconds,
          }
        : null;
    return formatProgress(counts, inserted, rates);
  }
}

export class SagaProgress {
  readonly #tty: boolean;
  readonly #meter = new ProgressMeter();
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

  /** Writes one progress line (in place on a TTY, cut to the terminal's width). */
  async render(): Promise<void> {
    let counts: StatusCounts;
    try {
      counts = await this.counts();
    } catch (error) {
      this.options.logger.debug({ err: error }, 'reading saga counts failed');
      return;
    }
    const line = this.#meter.line({ at: Date.now(), counts, inserted: this.options.inserted() });
    this.#lastLine = line;
    // Read at every line: the terminal may have been resized.
    const { output } = this.options;
    output.write(this.#tty ? `\r\x1b[2K${fitToWidth(line, output.columns)}` : `${line}\n`);
  }

  /** Stops refreshing and leaves the last line standing on its own line. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#rendering;
    if (this.#tty && this.#lastLine !== '') this.options.output.write('\n');
  }
}
