// Journal files are `journal.<generation>`; a snapshot starts a new generation. Reading one recovers every
// intact record and cuts a torn tail off the file so new appends follow valid data.
import { readdir, readFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { OplogEntry } from '../storage/oplog-entry.js';
import { isErrnoCode } from './is-errno-code.js';
import { decodeRecords } from './record-codec.js';

const JOURNAL_NAME = /^journal\.(\d+)$/;

export function journalPath(dir: string, generation: number): string {
  return join(dir, `journal.${String(generation).padStart(6, '0')}`);
}

/** Generations of the journal files in `dir`, oldest first. */
export async function listJournalGenerations(dir: string): Promise<number[]> {
  const generations: number[] = [];
  for (const name of await readdir(dir)) {
    const match = JOURNAL_NAME.exec(name);
    if (match?.[1] !== undefined) generations.push(Number.parseInt(match[1], 10));
  }
  return generations.sort((a, b) => a - b);
}

export interface JournalContents {
  entries: OplogEntry[];
  /** File size after any torn tail was cut off. */
  bytes: number;
  /** Bytes cut off the end, and why; null when the file was intact. */
  dropped: { bytes: number; reason: string } | null;
}

/** Reads a journal file, truncating it after the last intact record. A missing file reads as empty. */
export async function readJournalFile(path: string): Promise<JournalContents> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    if (isErrnoCode(error, 'ENOENT')) return { entries: [], bytes: 0, dropped: null };
    throw error;
  }
  const decoded = decodeRecords(buffer);
  // `{t: [...]}` is one committed transaction, written as a single record so it is recovered whole or not at all.
  const entries = decoded.records.flatMap((record) =>
    Array.isArray(record.t) ? (record.t as OplogEntry[]) : [record.e as OplogEntry],
  );
  if (decoded.problem === null) return { entries, bytes: buffer.length, dropped: null };
  await truncate(path, decoded.validBytes);
  return {
    entries,
    bytes: decoded.validBytes,
    dropped: { bytes: buffer.length - decoded.validBytes, reason: decoded.problem },
  };
}

export async function removeJournal(dir: string, generation: number): Promise<void> {
  try {
    await unlink(journalPath(dir, generation));
  } catch (error) {
    if (!isErrnoCode(error, 'ENOENT')) throw error;
  }
}
