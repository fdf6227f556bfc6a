// Finds and parses the unified-format spec files beside the repository (MONGO_SPEC_DIR, default ../shared/mongo-spec).
// They are read in place and never copied into the repository.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EJSON } from 'bson';
import type { TestFile } from './test-format.js';

/** Suite key in the output → folder under the spec directory. */
export const SUITES = {
  changeStreams: 'change-streams',
  crud: 'crud',
  transactions: 'transactions',
  transactionsConvenientApi: 'transactions-convenient-api',
  retryableWrites: 'retryable-writes',
} as const;
export type SuiteName = keyof typeof SUITES;

export interface SpecFile {
  suite: SuiteName;
  name: string;
  path: string;
}

export function specDirectory(repoRoot: string): string {
  return resolve(repoRoot, process.env.MONGO_SPEC_DIR ?? '../shared/mongo-spec');
}

/** Every `.json` file of each suite folder that exists, sorted by name. */
export async function findSpecFiles(directory: string): Promise<SpecFile[]> {
  const files: SpecFile[] = [];
  for (const [suite, folder] of Object.entries(SUITES) as Array<[SuiteName, string]>) {
    let names: string[];
    try {
      names = await readdir(join(directory, folder));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const name of names.filter((entry) => entry.endsWith('.json')).sort()) {
      files.push({ suite, name, path: join(directory, folder, name) });
    }
  }
  return files;
}

/** Parsed as relaxed Extended JSON, as the format requires ($oid, $date, $numberLong, …). */
export async function loadSpecFile(path: string): Promise<TestFile> {
  const parsed = EJSON.parse(await readFile(path, 'utf8'), { relaxed: true }) as unknown as TestFile;
  if (typeof parsed.schemaVersion !== 'string' || !Array.isArray(parsed.tests)) {
    throw new Error(`${path} is not a unified-format test file (schemaVersion and tests are required)`);
  }
  return parsed;
}
