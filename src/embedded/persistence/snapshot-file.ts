// `snapshot.bson`: the whole database at one cluster time, as framed records:
//   header | (collection | documents chunk*)* | history chunk* | end
// No record exceeds ~CHUNK_TARGET_BYTES unless a single document does, and the file is replaced atomically
// (temp file, fsync, rename, fsync directory), so a reader sees either the old snapshot or the new one, whole.
import { readFile, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BSON, Timestamp, type Document } from 'bson';
import type { CollectionOptions, IndexSpec, OplogEntry } from '../storage/oplog-entry.js';
import { fsyncDirectory } from './fsync-directory.js';
import { isErrnoCode } from './is-errno-code.js';
import { PersistenceError } from './persistence-error.js';
import type { PersistenceIo } from './persistence-io.js';
import { decodeRecords, encodeRecord } from './record-codec.js';

export const SNAPSHOT_FILE_NAME = 'snapshot.bson';
const TEMP_FILE_NAME = `${SNAPSHOT_FILE_NAME}.tmp`;
const FORMAT_VERSION = 1;
/** Well under BSON's 16 MB document limit, so a chunk record stays a legal BSON document. */
const CHUNK_TARGET_BYTES = 4 * 1024 * 1024;

export interface CollectionSnapshot {
  db: string;
  coll: string;
  uuid: string;
  options: CollectionOptions;
  indexes: IndexSpec[];
  documents: Document[];
}

export interface SnapshotData {
  /** Newest ts included in the snapshot. */
  clusterTime: Timestamp;
  /** Oplog truncation mark (see Oplog.truncatedBefore). */
  truncatedThrough: Timestamp | null;
  collections: CollectionSnapshot[];
  /** The change-stream history retained at snapshot time, so streams resume across restarts. */
  history: OplogEntry[];
}

export interface StoredSnapshot {
  data: SnapshotData;
  /** Oldest journal generation that may hold entries newer than the snapshot; older journals are obsolete. */
  journalGeneration: number;
}

/**
 * Serializes a snapshot into records. Synchronous on purpose: the engine may keep mutating its collections as
 * soon as this returns, and the snapshot must reflect exactly `data.clusterTime`.
 */
export function encodeSnapshot(data: SnapshotData, journalGeneration: number): Buffer[] {
  const records: Buffer[] = [
    encodeRecord({
      kind: 'header',
      formatVersion: FORMAT_VERSION,
      clusterTime: data.clusterTime,
      truncatedThrough: data.truncatedThrough,
      journalGeneration,
      collectionCount: data.collections.length,
    }),
  ];
  for (const collection of data.collections) {
    const { documents, ...metadata } = collection;
    records.push(encodeRecord({ kind: 'collection', ...metadata }));
    for (const chunk of chunkBySize(documents))
      records.push(encodeRecord({ kind: 'documents', documents: chunk }));
  }
  for (const chunk of chunkBySize(data.history))
    records.push(encodeRecord({ kind: 'history', entries: chunk }));
  records.push(encodeRecord({ kind: 'end', recordCount: records.length + 1 }));
  return records;
}

/** Groups items so each group's BSON size stays near CHUNK_TARGET_BYTES (an oversized item gets a group alone). */
function chunkBySize<T extends Document>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const item of items) {
    const itemBytes = BSON.calculateObjectSize(item, { ignoreUndefined: true }) + 16;
    if (current.length > 0 && currentBytes + itemBytes > CHUNK_TARGET_BYTES) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += itemBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Atomically replaces the snapshot file with `records`; durable when the promise resolves. A failure before the
 * rename (a full disk half-way) leaves the previous snapshot in place and the `.tmp` file for the next open to delete.
 */
export async function writeSnapshotFile(
  dir: string,
  records: readonly Buffer[],
  io: PersistenceIo,
): Promise<void> {
  const tempPath = join(dir, TEMP_FILE_NAME);
  const handle = await open(tempPath, 'w');
  try {
    for (const record of records) await io.writeSnapshotRecord(handle, record);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tempPath, join(dir, SNAPSHOT_FILE_NAME));
  await fsyncDirectory(dir);
}

/** Removes a temp file left by a crash during writeSnapshotFile; it was never part of the state. */
export async function removeSnapshotLeftovers(dir: string): Promise<void> {
  try {
    await unlink(join(dir, TEMP_FILE_NAME));
  } catch (error) {
    if (!isErrnoCode(error, 'ENOENT')) throw error;
  }
}

/** Reads the snapshot, null when there is none. Any damage is fatal: the journals before it are gone. */
export async function readSnapshotFile(dir: string): Promise<StoredSnapshot | null> {
  const path = join(dir, SNAPSHOT_FILE_NAME);
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    if (isErrnoCode(error, 'ENOENT')) return null;
    throw error;
  }
  const corrupt = (reason: string): PersistenceError =>
    new PersistenceError(
      'CorruptSnapshot',
      `snapshot ${path} is damaged (${reason}); restore the dbpath from a backup or start with an empty one`,
      { path },
    );
  const decoded = decodeRecords(buffer);
  if (decoded.problem !== null) throw corrupt(decoded.problem);
  return parseSnapshotRecords(decoded.records, corrupt);
}

function parseSnapshotRecords(records: Document[], corrupt: (reason: string) => Error): StoredSnapshot {
  const header = records[0];
  if (header?.kind !== 'header' || header.formatVersion !== FORMAT_VERSION) {
    throw corrupt('missing header or unknown format version');
  }
  if (!(header.clusterTime instanceof Timestamp) || typeof header.journalGeneration !== 'number') {
    throw corrupt('malformed header');
  }
  const end = records[records.length - 1];
  if (end?.kind !== 'end' || end.recordCount !== records.length) throw corrupt('missing end record');
  const data: SnapshotData = {
    clusterTime: header.clusterTime,
    truncatedThrough: header.truncatedThrough instanceof Timestamp ? header.truncatedThrough : null,
    collections: [],
    history: [],
  };
  for (const record of records.slice(1, -1)) {
    if (record.kind === 'collection') {
      const { kind: _kind, ...metadata } = record;
      data.collections.push({ ...(metadata as Omit<CollectionSnapshot, 'documents'>), documents: [] });
    } else if (record.kind === 'documents') {
      const collection = data.collections[data.collections.length - 1];
      if (collection === undefined) throw corrupt('documents before any collection');
      for (const document of record.documents as Document[]) collection.documents.push(document);
    } else if (record.kind === 'history') {
      for (const entry of record.entries as OplogEntry[]) data.history.push(entry);
    } else {
      throw corrupt(`unexpected record kind ${String(record.kind)}`);
    }
  }
  if (data.collections.length !== header.collectionCount) throw corrupt('collection count mismatch');
  return { data, journalGeneration: header.journalGeneration };
}
