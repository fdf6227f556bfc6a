// The soak's goals, judged from its samples: RSS and open descriptors of each sagastream process flat within 10 %
// from the sample after warm-up to the last one, and sagas/s of every window within 15 % of the first window's.
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

export function judgeProcess(samples: ProcessSamples): ProcessVerdict {
  const { start, end } = samples;
  if (!start || !end || start.rssMb === null || end.rssMb === null || start.fds === null || end.fds === null)
    return { judged: false, why: 'not sampled at the start and the end' };
  if (start.pid !== end.pid) return { judged: false, why: 'restarted between the start and the end' };
  const rssChange = change(start.rssMb, end.rssMb);
  const fdsChange = change(start.fds, end.fds);
  return {
    judged: true,
    rssChange,
    fdsChange,
    flat: Math.abs(rssChange) <= FLAT_WITHIN && Math.abs(fdsChange) <= FLAT_WITHIN,
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
