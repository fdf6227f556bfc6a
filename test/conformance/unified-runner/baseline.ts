// The conformance baseline: the ids of the tests that pass, not how many, so a new failure cannot hide behind a
// new pass. An id is "<suite folder>/<file>: <description>" (with " #2", " #3" … on a repeated description).
import { readFile, writeFile } from 'node:fs/promises';
import type { FileResults } from './report.js';
import { SUITES } from './spec-files.js';
import type { TestStatus } from './test-file-runner.js';

/** baseline.json: the sorted ids of every test that passed when it was last updated. */
interface BaselineFile {
  passed: string[];
}

/** Each reported test's id and status, in run order. */
export function testStatuses(files: readonly FileResults[]): Map<string, TestStatus> {
  const statuses = new Map<string, TestStatus>();
  for (const file of files) {
    const seen = new Map<string, number>();
    for (const result of file.results) {
      const occurrence = (seen.get(result.description) ?? 0) + 1;
      seen.set(result.description, occurrence);
      const suffix = occurrence > 1 ? ` #${occurrence}` : '';
      statuses.set(`${SUITES[file.suite]}/${file.name}: ${result.description}${suffix}`, result.status);
    }
  }
  return statuses;
}

export async function readBaseline(path: string): Promise<Set<string>> {
  const raw = JSON.parse(await readFile(path, 'utf8')) as Partial<BaselineFile>;
  if (!Array.isArray(raw.passed) || raw.passed.some((id) => typeof id !== 'string')) {
    throw new Error(`${path} must be {"passed": [test ids]}; regenerate it with --update-baseline`);
  }
  return new Set(raw.passed);
}

/** One pretty-printed id per line, as Prettier formats it, so `npm run format:check` stays clean. */
export async function writeBaseline(path: string, passed: Iterable<string>): Promise<void> {
  const file: BaselineFile = { passed: [...new Set(passed)].sort() };
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
}

export interface Regression {
  id: string;
  /** What the test did this run; `missing` when it was not run at all (file gone, renamed, or unloadable). */
  status: Exclude<TestStatus, 'passed'> | 'missing';
}

export interface BaselineComparison {
  /** Baseline tests that did not pass this run. */
  regressed: Regression[];
  /** Tests that passed this run and are not in the baseline. */
  newlyPassing: string[];
}

/**
 * Compares a run with the baseline. With `partial` (a --filter run), baseline tests that were not run are not
 * regressions: only what ran is judged.
 */
export function compareWithBaseline(
  statuses: ReadonlyMap<string, TestStatus>,
  baseline: ReadonlySet<string>,
  partial: boolean,
): BaselineComparison {
  const regressed: Regression[] = [];
  for (const id of [...baseline].sort()) {
    const status = statuses.get(id);
    if (status === 'passed') continue;
    if (status === undefined) {
      if (!partial) regressed.push({ id, status: 'missing' });
    } else {
      regressed.push({ id, status });
    }
  }
  const newlyPassing = [...statuses]
    .filter(([id, status]) => status === 'passed' && !baseline.has(id))
    .map(([id]) => id)
    .sort();
  return { regressed, newlyPassing };
}

/** The baseline after --update-baseline: it gains the new passes and keeps every test it had. */
export function raisedBaseline(baseline: ReadonlySet<string>, comparison: BaselineComparison): string[] {
  return [...baseline, ...comparison.newlyPassing];
}
