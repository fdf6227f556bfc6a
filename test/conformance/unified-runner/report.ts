// Output of a conformance run: the per-file table, failures and skips, and the summary JSON (baseline.ts checks).
import { SUITES, type SuiteName } from './spec-files.js';
import type { TestResult } from './test-file-runner.js';

export interface FileResults {
  suite: SuiteName;
  name: string;
  results: TestResult[];
}

export interface SuiteCounts {
  runnable: number;
  passed: number;
  failed: number;
  skipped: number;
}

export type Summary = Record<SuiteName, SuiteCounts>;

function count(results: TestResult[]): SuiteCounts {
  const passed = results.filter((result) => result.status === 'passed').length;
  const failed = results.filter((result) => result.status === 'failed').length;
  const skipped = results.filter((result) => result.status === 'skipped').length;
  return { runnable: passed + failed, passed, failed, skipped };
}

export function summarize(files: FileResults[]): Summary {
  const summary = {} as Summary;
  for (const suite of Object.keys(SUITES) as SuiteName[]) {
    summary[suite] = count(files.filter((file) => file.suite === suite).flatMap((file) => file.results));
  }
  return summary;
}

export function formatTable(files: FileResults[]): string {
  const rows = files.map((file) => [`${SUITES[file.suite]}/${file.name}`, count(file.results)] as const);
  const width = Math.max(4, ...rows.map(([name]) => name.length));
  const header = `${'file'.padEnd(width)}  runnable  passed  failed  skipped`;
  const lines = rows.map(
    ([name, counts]) =>
      `${name.padEnd(width)}  ${String(counts.runnable).padStart(8)}  ${String(counts.passed).padStart(6)}  ` +
      `${String(counts.failed).padStart(6)}  ${String(counts.skipped).padStart(7)}`,
  );
  return [header, '-'.repeat(header.length), ...lines].join('\n');
}

/** Failed tests, one per line, with the reason when verbose. */
export function formatFailures(files: FileResults[], verbose: boolean): string {
  const lines: string[] = [];
  for (const file of files) {
    for (const result of file.results.filter((r) => r.status === 'failed')) {
      lines.push(`FAIL ${SUITES[file.suite]}/${file.name}: ${result.description}`);
      if (verbose && result.reason) lines.push(`     ${result.reason.replaceAll('\n', '\n     ')}`);
    }
  }
  return lines.join('\n');
}

/** Skipped tests grouped by reason; every test is named when verbose. */
export function formatSkips(files: FileResults[], verbose: boolean): string {
  const byReason = new Map<string, string[]>();
  for (const file of files) {
    for (const result of file.results.filter((r) => r.status === 'skipped')) {
      const reason = result.reason ?? 'no reason given';
      const tests = byReason.get(reason) ?? [];
      tests.push(`${SUITES[file.suite]}/${file.name}: ${result.description}`);
      byReason.set(reason, tests);
    }
  }
  const lines: string[] = [];
  for (const [reason, tests] of [...byReason].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`SKIP ${String(tests.length).padStart(3)} × ${reason}`);
    if (verbose) for (const test of tests) lines.push(`       ${test}`);
  }
  return lines.join('\n');
}
