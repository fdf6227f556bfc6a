// Runs MongoDB's unified-format spec tests (change streams, CRUD, transactions, the convenient transaction API,
// retryable writes) through the official driver against the embedded server (started with test commands enabled),
// or against MONGODB_URL when set.
//
//   npx tsx test/conformance/run-conformance.ts [--verbose] [--filter <substring>] [--timeout <ms>] [--update-baseline]
//
// Prints a per-file table, the failures and skips, and as the last line
// {"changeStreams":{"runnable":N,"passed":N,"failed":N,"skipped":N},"crud":{…},"transactions":{…},
// "transactionsConvenientApi":{…},"retryableWrites":{…}}. test/conformance/baseline.json
// lists the ids of the tests that passed; the run exits non-zero naming every one of them that did not pass now
// (with --filter, only those that ran are judged). Tests that pass and are not listed are reported;
// --update-baseline adds them. A test that is gone from the spec files for good is removed from the file by hand.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { startEmbeddedMongoServer } from '../../src/embedded/index.js';
import {
  compareWithBaseline,
  raisedBaseline,
  readBaseline,
  testStatuses,
  writeBaseline,
} from './unified-runner/baseline.js';
import {
  formatFailures,
  formatSkips,
  formatTable,
  summarize,
  type FileResults,
} from './unified-runner/report.js';
import { readServerFacts } from './unified-runner/run-on-requirements.js';
import { findSpecFiles, loadSpecFile, specDirectory } from './unified-runner/spec-files.js';
import { runTestFile } from './unified-runner/test-file-runner.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const baselinePath = join(here, 'baseline.json');

const { values: flags } = parseArgs({
  options: {
    verbose: { type: 'boolean', default: false },
    filter: { type: 'string' },
    timeout: { type: 'string', default: '8000' },
    'update-baseline': { type: 'boolean', default: false },
  },
});
const timeoutMs = Number(flags.timeout);
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
  throw new Error(`--timeout must be a positive number of ms`);

// A timed-out test leaves driver promises behind that reject once its clients close; they are not failures.
process.on('unhandledRejection', (error) => {
  if (flags.verbose) console.error('unhandled rejection (ignored):', error);
});

const externalUrl = process.env.MONGODB_URL;
const server = externalUrl
  ? null
  : await startEmbeddedMongoServer({
      enableTestCommands: true,
      logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    });
const uri = externalUrl ?? server!.uri;
const internalClient = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });

const files: FileResults[] = [];
try {
  await internalClient.connect();
  const facts = await readServerFacts(internalClient);
  const directory = specDirectory(repoRoot);
  const specFiles = await findSpecFiles(directory);
  if (specFiles.length === 0) throw new Error(`no spec files under ${directory} (set MONGO_SPEC_DIR)`);
  console.error(
    `conformance: ${specFiles.length} files from ${directory} against ${externalUrl ? 'MONGODB_URL' : 'the embedded server'} ` +
      `(MongoDB ${facts.version}, ${facts.topology})`,
  );
  for (const specFile of specFiles) {
    let results;
    try {
      const parsed = await loadSpecFile(specFile.path);
      results = await runTestFile(specFile.name, parsed, {
        uri,
        internalClient,
        facts,
        timeoutMs,
        external: externalUrl !== undefined,
        ...(flags.filter ? { filter: flags.filter } : {}),
      });
    } catch (error) {
      results = [{ description: '(file)', status: 'failed' as const, reason: String(error), durationMs: 0 }];
    }
    if (results.length > 0) files.push({ suite: specFile.suite, name: specFile.name, results });
  }
} finally {
  await internalClient.close().catch(() => undefined);
  await server?.stop();
}

const summary = summarize(files);
console.log(formatTable(files));
const skips = formatSkips(files, flags.verbose);
if (skips) console.log(`\n${skips}`);
const failures = formatFailures(files, flags.verbose);
if (failures) console.log(`\n${failures}`);

let exitCode = 0;
const baseline = await readBaseline(baselinePath);
const comparison = compareWithBaseline(testStatuses(files), baseline, flags.filter !== undefined);
if (comparison.newlyPassing.length > 0) {
  const verb = flags['update-baseline']
    ? 'added to the baseline'
    : 'not in the baseline yet (--update-baseline adds them)';
  console.error(`\n${comparison.newlyPassing.length} passing tests ${verb}:`);
  for (const id of comparison.newlyPassing) console.error(`  NEW PASS ${id}`);
  if (flags['update-baseline']) await writeBaseline(baselinePath, raisedBaseline(baseline, comparison));
}
if (comparison.regressed.length > 0) {
  console.error(`\n${comparison.regressed.length} tests of the baseline did not pass:`);
  for (const { id, status } of comparison.regressed) console.error(`  REGRESSED (${status}) ${id}`);
  exitCode = 1;
}
console.log(JSON.stringify(summary));
process.exit(exitCode);
