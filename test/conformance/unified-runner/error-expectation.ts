// `expectError` assertions (unified-test-format.md "expectedError") against the Node driver's error classes.
import {
  MongoBulkWriteError,
  MongoClientBulkWriteError,
  MongoError,
  MongoOperationTimeoutError,
  MongoServerError,
  type Document,
  type WriteError,
} from 'mongodb';
import { clientBulkWriteResultDocument } from './client-bulk-write.js';
import { assertMatches, type MatchEntities } from './matcher.js';
import { resultDocument } from './operation-arguments.js';
import type { ExpectedError } from './test-format.js';

interface ServerErrorDetail {
  code?: number;
  codeName?: string;
  errmsg?: string;
}

/**
 * The server error a client bulk write wraps: the driver reports a top-level command failure as a
 * MongoClientBulkWriteError whose `cause` is the server's error.
 */
function serverErrorOf(error: unknown): unknown {
  return error instanceof MongoClientBulkWriteError && error.cause instanceof MongoServerError
    ? error.cause
    : error;
}

/** The top-level error plus, for bulk writes, each write error and the write concern error. */
function errorDetails(thrown: unknown): ServerErrorDetail[] {
  const error = serverErrorOf(thrown);
  const details: ServerErrorDetail[] = [];
  if (error instanceof MongoServerError) {
    details.push({
      code: error.code as number | undefined,
      codeName: error.codeName,
      errmsg: error.errmsg ?? error.message,
    });
  }
  if (error instanceof MongoBulkWriteError) {
    for (const writeError of ([] as WriteError[]).concat(error.writeErrors)) {
      details.push({ code: writeError.code, errmsg: writeError.errmsg });
    }
    const concernError = error.result?.getWriteConcernError();
    if (concernError) details.push({ code: concernError.code, errmsg: concernError.errmsg });
  }
  return details;
}

/** The error's labels, and those of the server error a client bulk write wraps (the labels the server sent). */
function labelsOf(error: unknown): string[] {
  const labels = new Set<string>();
  for (const each of [error, serverErrorOf(error)]) {
    if (each instanceof MongoError) for (const label of each.errorLabels) labels.add(label);
  }
  return [...labels];
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const shownCode = typeof code === 'number' || typeof code === 'string' ? ` (code ${code})` : '';
    return `${error.name}${shownCode}: ${error.message}`;
  }
  return String(error);
}

export function describeUnexpectedError(error: unknown): string {
  return describeError(error);
}

/** Throws an Error explaining the first expectation `error` does not meet. */
export function assertExpectedError(expected: ExpectedError, error: unknown, entities: MatchEntities): void {
  const fail = (message: string): never => {
    throw new Error(`${message}; actual error: ${describeError(error)}`);
  };
  const isServerError = serverErrorOf(error) instanceof MongoServerError;
  if (expected.isClientError === true && isServerError) fail('expected a client error, got a server error');
  if (expected.isClientError === false && !isServerError) fail('expected a server error, got a client error');
  if (
    expected.isTimeoutError !== undefined &&
    error instanceof MongoOperationTimeoutError !== expected.isTimeoutError
  ) {
    fail(`expected isTimeoutError ${String(expected.isTimeoutError)}`);
  }
  const details = errorDetails(error);
  if (expected.errorContains !== undefined) {
    const needle = expected.errorContains.toLowerCase();
    const messages = [
      error instanceof Error ? error.message : String(error),
      ...details.map((d) => d.errmsg ?? ''),
    ];
    if (!messages.some((message) => message.toLowerCase().includes(needle))) {
      fail(`expected the message to contain "${expected.errorContains}"`);
    }
  }
  if (expected.errorCode !== undefined && !details.some((detail) => detail.code === expected.errorCode)) {
    fail(`expected error code ${expected.errorCode}`);
  }
  if (expected.errorCodeName !== undefined) {
    const wanted = expected.errorCodeName.toLowerCase();
    if (!details.some((detail) => detail.codeName?.toLowerCase() === wanted)) {
      fail(`expected codeName ${expected.errorCodeName}`);
    }
  }
  const labels = labelsOf(error);
  for (const label of expected.errorLabelsContain ?? []) {
    if (!labels.includes(label)) fail(`expected error label ${label} (labels: [${labels.join(', ')}])`);
  }
  for (const label of expected.errorLabelsOmit ?? []) {
    if (labels.includes(label)) fail(`expected no error label ${label}`);
  }
  if (expected.errorResponse !== undefined) {
    const response = isServerError
      ? (serverErrorOf(error) as { errorResponse?: Document }).errorResponse
      : undefined;
    if (!response) fail('expected a server error response');
    assertMatches(expected.errorResponse, response, entities, true, 'errorResponse');
  }
  if (expected.expectResult !== undefined) {
    const result =
      error instanceof MongoBulkWriteError
        ? resultDocument(error.result)
        : error instanceof MongoClientBulkWriteError
          ? clientBulkWriteResultDocument(error.partialResult)
          : undefined;
    assertMatches(expected.expectResult, result, entities, true, 'expectError.expectResult');
  }
  if (expected.writeErrors !== undefined) {
    if (!(error instanceof MongoClientBulkWriteError))
      fail('expected a client bulk write error with writeErrors');
    const actual = (error as MongoClientBulkWriteError).writeErrors;
    const expectedIndexes = Object.keys(expected.writeErrors);
    if (actual.size !== expectedIndexes.length)
      fail(`expected ${expectedIndexes.length} write errors, got ${actual.size}`);
    for (const index of expectedIndexes) {
      assertMatches(
        expected.writeErrors[index],
        actual.get(Number(index)),
        entities,
        true,
        `writeErrors.${index}`,
      );
    }
  }
  if (expected.writeConcernErrors !== undefined) {
    if (!(error instanceof MongoClientBulkWriteError))
      fail('expected a client bulk write error with writeConcernErrors');
    assertMatches(
      expected.writeConcernErrors,
      (error as MongoClientBulkWriteError).writeConcernErrors,
      entities,
      true,
      'writeConcernErrors',
    );
  }
}
