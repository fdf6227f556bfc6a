// The soak's goals, judged from its samples: RSS and open descriptors of each sagastream process flat within 10 %
// from the sample after warm-up to the last one, and sagas/s of every window within 15 % of the first window's.
// Watchers can swap roles (a leader that cannot reach Redis hands its lease over, by design, so a redis-server
// restart may end with the other one leading). A leader holds more memory than a standby, and a standby that led
// keeps a leader-sized heap, so a watcher that changed role is not judged against itself: the leader is judged
// from the process that led at the start to the one that leads at the end, and the watchers' sum from start to
// end, which a leak in either still moves.
import type { ProcessSample } from './process-probe.js';

/** RSS and descriptors may end at most this fraction above (or below) where they were after warm-up. */
export const FLAT_WITHIN = 0.1;
/** Every window's sagas/s within this fraction of the first window's. */
export const STEADY_WITHIN = 0.15;

export interface ProcessSamples {
  start?: ProcessSample;
  middle?: ProcessSample;
  end?: ProcessSample;
}

export type ProcessVerdict =
  | { judged: true; rssChange: number; fdsChange: number; flat: boolean }
  /** Not judged: restarted between the samples (a fault killed it), not sampled, or named in `notJudged`. */
  | { judged: false; why: string };

export interface SoakGoals {
  processes: Record<string, ProcessVerdict>;
  /** Every judged process flat in RSS and descriptors. */
  flat: boolean;
  /** Largest deviation of a window's sagas/s from the first window's, as a fraction. */
  throughputDeviation: number | null;
  steady: boolean;
  met: boolean;
}

function change(from: number, to: number): number {
  return Math.round(((to - from) / from) * 1_000) / 1_000;
}

function roleOf(sample: ProcessSample): string {
  return sample.watcherActive ? 'leader' : 'standby';
}

/** RSS and descriptors from `start` to `end`, which may be samples of different processes. */
function judgeChange(start: ProcessSample | undefined, end: ProcessSample | undefined): ProcessVerdict {
  if (!start || !end || start.rssMb === null || end.rssMb === null || start.fds === null || end.fds === null)
    return { judged: false, why: 'not sampled at the start and the end' };
  const rssChange = change(start.rssMb, end.rssMb);
  const fdsChange = change(start.fds, end.fds);
  return {
    judged: true,
    rssChange,
    fdsChange,
    flat: Math.abs(rssChange) <= FLAT_WITHIN && Math.abs(fdsChange) <= FLAT_WITHIN,
  };
}

export function judgeProcess(samples: ProcessSamples): ProcessVerdict {
  const { start, end } = samples;
  if (start && end && start.pid !== end.pid)
    return { judged: false, why: 'restarted between the start and the end' };
  if (
    start?.watcherActive != null &&
    end?.watcherActive != null &&
    start.watcherActive !== end.watcherActive
  ) {
    return {
      judged: false,
      why: `changed role (${roleOf(start)} → ${roleOf(end)}): judged with the other watchers`,
    };
  }
  return judgeChange(start, end);
}

/** Adds the RSS and descriptors of `samples`; undefined when one is missing or not measured. */
function sumOf(samples: readonly (ProcessSample | undefined)[]): ProcessSample | undefined {
  if (samples.some((sample) => sample?.rssMb == null || sample.fds === null)) return undefined;
  const present = samples as ProcessSample[];
  return {
    ...present[0]!,
    rssMb: present.reduce((sum, sample) => sum + sample.rssMb!, 0),
    fds: present.reduce((sum, sample) => sum + sample.fds!, 0),
  };
}

/**
 * When a watcher changed role: `watchers (leader)` from the leader's start sample to the end sample of the
 * watcher leading then, and `watchers (sum)` of every watcher from start to end. None when no watcher changed role
 * (each is judged on its own), or when a watcher was restarted.
 */
function judgeWatcherRoles(processes: Record<string, ProcessSamples>): Record<string, ProcessVerdict> {
  const watchers = Object.values(processes).filter(
    ({ start, end }) => start?.watcherActive != null && end?.watcherActive != null,
  );
  const swapped = watchers.some(({ start, end }) => start!.watcherActive !== end!.watcherActive);
  if (!swapped || watchers.some(({ start, end }) => start!.pid !== end!.pid)) return {};
  return {
    'watchers (leader)': judgeChange(
      watchers.find(({ start }) => start!.watcherActive)?.start,
      watchers.find(({ end }) => end!.watcherActive)?.end,
    ),
    'watchers (sum)': judgeChange(
      sumOf(watchers.map(({ start }) => start)),
      sumOf(watchers.map(({ end }) => end)),
    ),
  };
}

/**
 * `notJudged` names processes left out of the flatness goal, with the reason (the MongoDB server's memory grows
 * with the data it stores, which a soak keeps adding).
 */
export function judgeSoak(
  processes: Record<string, ProcessSamples>,
  sagasPerSecond: readonly number[],
  notJudged: Record<string, string> = {},
): SoakGoals {
  const verdicts: Record<string, ProcessVerdict> = {};
  for (const [name, samples] of Object.entries(processes)) {
    const why = notJudged[name];
    verdicts[name] = why === undefined ? judgeProcess(samples) : { judged: false, why };
  }
  Object.assign(verdicts, judgeWatcherRoles(processes));
  const judged = Object.values(verdicts).filter(
    (verdict): verdict is Extract<ProcessVerdict, { judged: true }> => verdict.judged,
  );
  const flat = judged.length > 0 && judged.every((verdict) => verdict.flat);
  const first = sagasPerSecond[0];
  const throughputDeviation =
    first === undefined || first <= 0
      ? null
      : Math.max(...sagasPerSecond.map((value) => Math.abs(change(first, value))));
  const steady = throughputDeviation !== null && throughputDeviation <= STEADY_WITHIN;
  return { processes: verdicts, flat, throughputDeviation, steady, met: flat && steady };
}
