// Resume tokens: `{_data: <hex>}` whose uppercase hex orders like the stream positions it encodes, so that
// comparing two tokens' strings compares their places in time.
import { Timestamp } from 'bson';
import type { Document } from '../query/index.js';
import { compareTimestamps } from '../storage/oplog.js';
import { MongoCommandError } from '../errors.js';

/**
 * What a token points at within one cluster time. The order matters: within one `ts`, a `startAt` point
 * comes before the entry's event, which comes before the invalidate it may cause, and a high-water mark
 * means "everything at this time has been seen".
 */
export type ResumeTokenKind = 'startAt' | 'event' | 'invalidate' | 'highWaterMark';

const kindCodes: Record<ResumeTokenKind, string> = {
  startAt: '00',
  event: '01',
  invalidate: '02',
  highWaterMark: '03',
};
const kindsByCode = new Map<string, ResumeTokenKind>(
  Object.entries(kindCodes).map(([kind, code]) => [code, kind as ResumeTokenKind]),
);

/** Version prefix; a different version of the format would sort and parse separately. */
const TOKEN_VERSION = '82';
const TOKEN_PATTERN = /^82[0-9A-F]{16}0[0-3]$/;

/** A place in the change history: the events strictly after it are the ones still to deliver. */
export interface ResumePoint {
  ts: Timestamp;
  kind: ResumeTokenKind;
}

export interface ResumeToken {
  _data: string;
}

const KIND_RANK: Record<ResumeTokenKind, number> = { startAt: 0, event: 1, invalidate: 2, highWaterMark: 3 };

/** Orders two resume points: negative, zero or positive (the same order as their encoded strings). */
export function compareResumePoints(a: ResumePoint, b: ResumePoint): number {
  return compareTimestamps(a.ts, b.ts) || KIND_RANK[a.kind] - KIND_RANK[b.kind];
}

function hex32(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, '0');
}

export function encodeResumeToken(point: ResumePoint): ResumeToken {
  return { _data: `${TOKEN_VERSION}${hex32(point.ts.t)}${hex32(point.ts.i)}${kindCodes[point.kind]}` };
}

/** Parses a token a client sent back; anything this server did not produce is InvalidResumeToken (260). */
export function decodeResumeToken(token: unknown): ResumePoint {
  if (typeof token !== 'object' || token === null || Array.isArray(token)) {
    throw new MongoCommandError(
      'InvalidResumeToken',
      'Bad resume token: expected an object with a _data field',
    );
  }
  const data = (token as Document)._data;
  if (typeof data !== 'string') {
    throw new MongoCommandError(
      'InvalidResumeToken',
      `Bad resume token: _data of missing or of wrong type. Expected string, got ${describeType(data)}`,
    );
  }
  const normalized = data.toUpperCase();
  const kind = kindsByCode.get(normalized.slice(18, 20));
  if (!TOKEN_PATTERN.test(normalized) || kind === undefined) {
    throw new MongoCommandError('InvalidResumeToken', `Bad resume token: unrecognized _data '${data}'`);
  }
  const t = Number.parseInt(normalized.slice(2, 10), 16);
  const i = Number.parseInt(normalized.slice(10, 18), 16);
  return { ts: new Timestamp({ t, i }), kind };
}

function describeType(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

/** The cluster time just before `ts`, so that "after it" includes `ts` itself. */
export function timestampBefore(ts: Timestamp): Timestamp {
  if (ts.i > 0) return new Timestamp({ t: ts.t, i: ts.i - 1 });
  if (ts.t > 0) return new Timestamp({ t: ts.t - 1, i: 0xffffffff });
  return ts;
}
