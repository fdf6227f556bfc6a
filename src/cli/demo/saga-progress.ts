// Live progress of the demo in the terminal: sagas per status and the rates, one line per demo saga, rewritten in
// place on a TTY and printed as plain periodic lines otherwise (logs, CI, pipes).
import type { Writable } from 'node:stream';
import type { Collection, Document } from 'mongodb';
import type { SagaLogger } from '../../logging/saga-logger.js';

const STATUSES = ['running', 'compensating', 'completed', 'compensated', 'failed', 'rejected'] as const;
const TERMINAL = new Set<string>(['completed', 'compensated', 'failed', 'rejected']);
const RATE_WINDOW_MS = 10_000;

/** One saga's line: `orders 120 (2.0/s) | running 3 | …`. */
export interface ProgressRow {
  readonly saga: string;
  /** What the line counts, first on it: `orders`, `checkouts`. */
  readonly label: string;
  /** How many of them were inserted so far, for the insert rate. */
  readonly inserted: () => number;
  /** Shows the running sagas held in a wait step apart, as `waiting N` (for a saga with wait steps). */
  readonly showWaiting?: boolean;
}

export interface SagaProgressOptions {
  readonly sagas: Collection<Document>;
  readonly rows: readonly ProgressRow[];
  /** On a TTY (`isTTY`), lines are rewritten in place and cut to `columns`. */
  readonly output: Writable & { isTTY?: boolean; columns?: number };
  readonly logger: SagaLogger;
  /** Default: 500 ms on a TTY, 5 s otherwise. */
  readonly intervalMs?: number;
}

interface Sample {
  readonly at: number;
  readonly inserted: number;
  readonly finished: number;
}

/** Sagas per status; `waiting` (when counted) is the part of `running` held in a wait step, not in `running`. */
export type StatusCounts = Record<(typeof STATUSES)[number], number> & { waiting?: number };

export interface ProgressRates {
  inserted: number;
  finished: number;
}

/** `orders 120 (2.0/s) | running 3 | … | finished 1.9/s`; without rates until there are two readings. */
export function formatProgress(
  counts: StatusCounts,
  inserted: number,
  rates: ProgressRates | null,
  label = 'orders',
) {
  const statuses = STATUSES.flatMap((status) => {
    const shown = [`${status} ${counts[status]}`];
    if (status === 'running' && counts.waiting !== undefined) shown.push(`waiting ${counts.waiting}`);
    return shown;
  }).join(' | ');
  if (rates === null) return `${label} ${inserted} | ${statuses}`;
  return `${label} ${inserted} (${rates.inserted.toFixed(1)}/s) | ${statuses} | finished ${rates.finished.toFixed(1)}/s`;
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

  constructor(private readonly label = 'orders') {}

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
    return formatProgress(counts, inserted, rates, this.label);
  }
}

export class SagaProgress {
  readonly #tty: boolean;
  readonly #meters: ProgressMeter[];
  #timer: NodeJS.Timeout | undefined;
  #rendering: Promise<void> = Promise.resolve();
  /** Lines written by the last render on a TTY, which the next one moves back up over. */
  #drawn = 0;

  constructor(private readonly options: SagaProgressOptions) {
    this.#tty = options.output.isTTY === true;
    this.#meters = options.rows.map((row) => new ProgressMeter(row.label));
  }

  start(): void {
    const intervalMs = this.options.intervalMs ?? (this.#tty ? 500 : 5_000);
    this.#timer = setInterval(() => {
      this.#rendering = this.#rendering.then(() => this.render());
    }, intervalMs);
  }

  async counts(row: ProgressRow): Promise<StatusCounts> {
    const counts: StatusCounts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as StatusCounts;
    if (row.showWaiting === true) counts.waiting = 0;
    const groups = await this.options.sagas
      .aggregate<{ _id: { status: string; waiting: boolean }; count: number }>([
        { $match: { saga: row.saga } },
        {
          $group: {
            // A saga in a wait step is `running` with a `waiting` field.
            _id: { status: '$status', waiting: { $gt: ['$waiting', null] } },
            count: { $sum: 1 },
          },
        },
      ])
      .toArray();
    for (const { _id: group, count } of groups) {
      if (!(group.status in counts)) continue;
      const status =
        group.waiting && group.status === 'running' && row.showWaiting === true ? 'waiting' : group.status;
      counts[status as keyof StatusCounts] = (counts[status as keyof StatusCounts] ?? 0) + count;
    }
    return counts;
  }

  /** Writes one progress line per row (in place on a TTY, each cut to the terminal's width). */
  async render(): Promise<void> {
    let counts: StatusCounts[];
    try {
      counts = await Promise.all(this.options.rows.map((row) => this.counts(row)));
    } catch (error) {
      this.options.logger.debug({ err: error }, 'reading saga counts failed');
      return;
    }
    const at = Date.now();
    const lines = this.options.rows.map((row, index) =>
      this.#meters[index]!.line({ at, counts: counts[index]!, inserted: row.inserted() }),
    );
    const { output } = this.options;
    if (!this.#tty) {
      output.write(lines.map((line) => `${line}\n`).join(''));
      return;
    }
    // Back up to the first line drawn last time, then clear and redraw each one. The width is read at every
    // render: the terminal may have been resized.
    const up = this.#drawn > 1 ? `\x1b[${this.#drawn - 1}A` : '';
    output.write(`${up}\r${lines.map((line) => `\x1b[2K${fitToWidth(line, output.columns)}`).join('\n')}`);
    this.#drawn = lines.length;
  }

  /** Stops refreshing and leaves the last lines standing on their own. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#rendering;
    if (this.#tty && this.#drawn > 0) this.options.output.write('\n');
  }
}
