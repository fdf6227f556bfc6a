import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compareWithBaseline,
  raisedBaseline,
  readBaseline,
  testStatuses,
  writeBaseline,
} from '../../conformance/unified-runner/baseline.js';
import type { FileResults } from '../../conformance/unified-runner/report.js';
import type { TestStatus } from '../../conformance/unified-runner/test-file-runner.js';

function file(name: string, results: Array<[string, TestStatus]>): FileResults {
  return {
    suite: 'crud',
    name,
    results: results.map(([description, status]) => ({ description, status, durationMs: 1 })),
  };
}

describe('conformance baseline', () => {
  it('names each test by suite folder, file and description, numbering a repeated description', () => {
    const statuses = testStatuses([
      file('a.json', [
        ['inserts', 'passed'],
        ['inserts', 'failed'],
        ['deletes', 'skipped'],
      ]),
    ]);
    expect([...statuses]).toEqual([
      ['crud/a.json: inserts', 'passed'],
      ['crud/a.json: inserts #2', 'failed'],
      ['crud/a.json: deletes', 'skipped'],
    ]);
  });

  it('catches a new failure even when a new pass keeps the count the same', () => {
    const baseline = new Set(['crud/a.json: one', 'crud/a.json: two']);
    const statuses = testStatuses([
      file('a.json', [
        ['one', 'passed'],
        ['two', 'failed'],
        ['three', 'passed'],
      ]),
    ]);
    expect(compareWithBaseline(statuses, baseline, false)).toEqual({
      regressed: [{ id: 'crud/a.json: two', status: 'failed' }],
      newlyPassing: ['crud/a.json: three'],
    });
  });

  it('counts a skipped or vanished baseline test as a regression, unless the run was filtered', () => {
    const baseline = new Set(['crud/a.json: one', 'crud/a.json: two', 'crud/gone.json: three']);
    const statuses = testStatuses([
      file('a.json', [
        ['one', 'passed'],
        ['two', 'skipped'],
      ]),
    ]);
    expect(compareWithBaseline(statuses, baseline, false).regressed).toEqual([
      { id: 'crud/a.json: two', status: 'skipped' },
      { id: 'crud/gone.json: three', status: 'missing' },
    ]);
    expect(compareWithBaseline(statuses, baseline, true).regressed).toEqual([
      { id: 'crud/a.json: two', status: 'skipped' },
    ]);
  });

  it('--update-baseline adds the new passes and keeps the regressed tests, so they keep failing the run', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'baseline-'));
    try {
      const path = join(directory, 'baseline.json');
      await writeFile(path, '{ "passed": ["crud/a.json: two", "crud/a.json: one"] }\n');
      const baseline = await readBaseline(path);
      const statuses = testStatuses([
        file('a.json', [
          ['one', 'passed'],
          ['two', 'failed'],
          ['three', 'passed'],
        ]),
      ]);
      await writeBaseline(path, raisedBaseline(baseline, compareWithBaseline(statuses, baseline, false)));
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
        passed: ['crud/a.json: one', 'crud/a.json: three', 'crud/a.json: two'],
      });
      const again = compareWithBaseline(statuses, await readBaseline(path), false);
      expect(again).toEqual({ regressed: [{ id: 'crud/a.json: two', status: 'failed' }], newlyPassing: [] });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('refuses a baseline of counts, the old format, saying how to regenerate it', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'baseline-'));
    try {
      const path = join(directory, 'baseline.json');
      await writeFile(path, '{ "changeStreams": { "passed": 66 }, "crud": { "passed": 234 } }\n');
      await expect(readBaseline(path)).rejects.toThrow(/--update-baseline/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
