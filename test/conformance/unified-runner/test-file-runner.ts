// Executes one unified-format test file (unified-test-format.md "Executing a Test File" / "Executing a Test"):
// initialData, entities, operations with their expectations, expectEvents, outcome, then cleanup — per test.
import { EJSON } from 'bson';
import type { Document, MongoClient } from 'mongodb';
import { DRIVER_KNOWN_ISSUES } from './driver-known-issues.js';
import { TOPOLOGY_LIMITS } from './topology-limits.js';
import { commonOptions, EntityMap } from './entity-map.js';
import { runEntityOperation, type OperationOutcome } from './entity-operations.js';
import { assertExpectedError, describeUnexpectedError } from './error-expectation.js';
import { assertExpectedEvents } from './event-expectation.js';
import { assertMatches } from './matcher.js';
import { requirementsSkipReason, type ServerFacts } from './run-on-requirements.js';
import type { CollectionData, OperationSpec, TestFile, TestSpec } from './test-format.js';
import { disableFailPoints, runSpecialOperation, type TestRunnerContext } from './test-runner-operations.js';

/** The newest schema version whose features these spec files use and this runner implements. */
const SUPPORTED_SCHEMA = { major: 1, minor: 21 };

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  description: string;
  status: TestStatus;
  /** Failure message or skip reason. */
  reason?: string;
  durationMs: number;
}

export interface FileRunSettings {
  uri: string;
  internalClient: MongoClient;
  facts: ServerFacts;
  timeoutMs: number;
  /** True against MONGODB_URL: the embedded server's topology limits do not apply. */
  external?: boolean;
  /** Runs only tests whose "<file> <description>" contains this (case-insensitive). */
  filter?: string;
}

const MAJORITY = { writeConcern: { w: 'majority' as const } };

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function schemaSupported(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major === SUPPORTED_SCHEMA.major && (minor ?? 0) <= SUPPORTED_SCHEMA.minor;
}

async function dropIfExists(client: MongoClient, db: string, coll: string): Promise<void> {
  try {
    await client.db(db).dropCollection(coll, MAJORITY);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 26) throw error;
  }
}

async function setUpCollections(client: MongoClient, initialData: CollectionData[]): Promise<void> {
  for (const data of initialData) {
    const { databaseName: db, collectionName: coll } = data;
    await dropIfExists(client, db, coll);
    await dropIfExists(client, db, `enxcol_.${coll}.esc`);
    await dropIfExists(client, db, `enxcol_.${coll}.ecoc`);
    if (data.createOptions)
      await client.db(db).createCollection(coll, { ...data.createOptions, ...MAJORITY });
    if (data.documents.length > 0) await client.db(db).collection(coll).insertMany(data.documents, MAJORITY);
    else if (!data.createOptions) await client.db(db).createCollection(coll, MAJORITY);
  }
}

async function assertOutcome(
  client: MongoClient,
  outcome: CollectionData[],
  entities: EntityMap,
): Promise<void> {
  for (const data of outcome) {
    const actual = await client
      .db(data.databaseName)
      .collection(data.collectionName)
      .find({}, { sort: { _id: 1 }, readPreference: 'primary', readConcern: { level: 'local' } })
      .toArray();
    // Outcome documents match exactly (no extra fields), so each one is matched as a nested document.
    assertMatches(
      data.documents,
      actual,
      entities,
      false,
      `outcome ${data.databaseName}.${data.collectionName}`,
    );
  }
}

function assertResult(operation: OperationSpec, outcome: OperationOutcome, entities: EntityMap): void {
  const expected = operation.expectResult;
  if (outcome.rootArray && Array.isArray(expected)) {
    const actual = outcome.result as Document[];
    if (actual.length !== expected.length) {
      throw new Error(
        `expected ${expected.length} documents, got ${actual.length}: ${EJSON.stringify(actual, { relaxed: true })}`,
      );
    }
    expected.forEach((document, index) =>
      assertMatches(document, actual[index], entities, true, `[${index}]`),
    );
    return;
  }
  assertMatches(expected, outcome.result, entities, true);
}

/**
 * `propagateErrors`: inside a withTransaction callback an operation's error, once its expectations are checked, is
 * rethrown so the driver sees it (and aborts or retries the transaction), as the unified format requires.
 */
async function runOperation(
  operation: OperationSpec,
  context: TestRunnerContext,
  propagateErrors = false,
): Promise<void> {
  const args = operation.arguments ?? {};
  if (operation.object === 'testRunner') {
    await runSpecialOperation(context, operation.name, args);
    return;
  }
  const { entities } = context;
  if (operation.name === 'withTransaction') {
    await runWithTransaction(operation, context);
    return;
  }
  let outcome: OperationOutcome = {};
  let failure: { error: unknown } | undefined;
  try {
    outcome = await runEntityOperation(entities, operation.object, operation.name, args);
  } catch (error) {
    failure = { error };
  }
  if (operation.ignoreResultAndError) {
    if (failure && propagateErrors) throw failure.error;
    return;
  }
  if (operation.expectError) {
    if (!failure) {
      const shown =
        outcome.result === undefined ? 'no result' : EJSON.stringify(outcome.result, { relaxed: true });
      throw new Error(`expected an error, but the operation succeeded with ${shown}`);
    }
    assertExpectedError(operation.expectError, failure.error, entities);
    if (propagateErrors) throw failure.error;
    return;
  }
  if (failure) throw new Error(`unexpected error: ${describeUnexpectedError(failure.error)}`);
  if ('expectResult' in operation) assertResult(operation, outcome, entities);
  if (operation.saveResultAsEntity) {
    entities.set(operation.saveResultAsEntity, outcome.entity ?? { kind: 'value', value: outcome.result });
  }
}

/**
 * `withTransaction` (unified-test-format.md): the callback's operations run inside the driver's convenient API, each
 * with its own expectations; the whole call may itself expect an error or a result.
 */
async function runWithTransaction(operation: OperationSpec, context: TestRunnerContext): Promise<void> {
  const args = operation.arguments ?? {};
  const session = context.entities.getAs(operation.object, 'session');
  const callback = (args.callback as OperationSpec[] | undefined) ?? [];
  const options = commonOptions(
    Object.fromEntries(Object.entries(args).filter(([key]) => key !== 'callback')),
  );
  let failure: { error: unknown } | undefined;
  try {
    await session.withTransaction(async () => {
      for (const inner of callback) await runOperation(inner, context, true);
    }, options);
  } catch (error) {
    failure = { error };
  }
  if (operation.ignoreResultAndError) return;
  if (operation.expectError) {
    if (!failure) throw new Error('expected withTransaction to fail, but it succeeded');
    assertExpectedError(operation.expectError, failure.error, context.entities);
    return;
  }
  if (failure) throw new Error(`unexpected error: ${describeUnexpectedError(failure.error)}`);
}

async function runTest(file: TestFile, test: TestSpec, settings: FileRunSettings): Promise<void> {
  const entities = new EntityMap({ uri: settings.uri });
  const context: TestRunnerContext = { entities, internalClient: settings.internalClient, failPoints: [] };
  const body = async (): Promise<void> => {
    if (file.initialData) await setUpCollections(settings.internalClient, file.initialData);
    entities.create(file.createEntities ?? []);
    for (const [index, operation] of test.operations.entries()) {
      try {
        await runOperation(operation, context);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`operation ${index} (${operation.name} on ${operation.object}): ${message}`, {
          cause: error,
        });
      }
    }
    entities.stopRecording();
    await disableFailPoints(context);
    if (test.expectLogMessages) throw new Error('expectLogMessages is not supported by this runner');
    if (test.expectEvents) assertExpectedEvents(test.expectEvents, entities);
    if (test.outcome) await assertOutcome(settings.internalClient, test.outcome, entities);
  };
  try {
    await withTimeout(body(), settings.timeoutMs, 'test');
  } finally {
    entities.stopRecording();
    await withTimeout(disableFailPoints(context), 5000, 'disabling fail points').catch(() => undefined);
    await withTimeout(entities.close(), 5000, 'closing entities').catch(() => undefined);
  }
}

/** Runs every test of a parsed file; tests the filter excludes are not reported at all. */
export async function runTestFile(
  name: string,
  file: TestFile,
  settings: FileRunSettings,
): Promise<TestResult[]> {
  const tests = file.tests.filter(
    (test) =>
      !settings.filter || `${name} ${test.description}`.toLowerCase().includes(settings.filter.toLowerCase()),
  );
  if (!schemaSupported(file.schemaVersion)) {
    return tests.map((test) => ({
      description: test.description,
      status: 'failed',
      reason: `schemaVersion ${file.schemaVersion} is newer than this runner supports (${SUPPORTED_SCHEMA.major}.${SUPPORTED_SCHEMA.minor})`,
      durationMs: 0,
    }));
  }
  const fileSkipReason = await requirementsSkipReason(file.runOnRequirements, settings.facts);
  const results: TestResult[] = [];
  for (const test of tests) {
    const started = Date.now();
    const skipReason =
      fileSkipReason ??
      (test.skipReason ? `skipReason: ${test.skipReason}` : null) ??
      (await requirementsSkipReason(test.runOnRequirements, settings.facts)) ??
      DRIVER_KNOWN_ISSUES[test.description] ??
      DRIVER_KNOWN_ISSUES[`${name}: ${test.description}`] ??
      (settings.external ? undefined : TOPOLOGY_LIMITS[`${name}: ${test.description}`]);
    if (skipReason) {
      results.push({ description: test.description, status: 'skipped', reason: skipReason, durationMs: 0 });
      continue;
    }
    try {
      await runTest(file, test, settings);
      results.push({ description: test.description, status: 'passed', durationMs: Date.now() - started });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      results.push({
        description: test.description,
        status: 'failed',
        reason,
        durationMs: Date.now() - started,
      });
    }
  }
  return results;
}
