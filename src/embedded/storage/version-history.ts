// Earlier versions of documents, kept only while a transaction's snapshot is open: what a snapshot read needs to
// see a document as it was before a later commit, and what tells a transaction that someone wrote after it began.
import type { Document, Timestamp } from 'bson';
import { compareTimestamps } from './oplog.js';

/** The document as it was before the write at `ts` (undefined: it did not exist). */
interface Version {
  ts: Timestamp;
  before: Document | undefined;
}

/** What a snapshot sees of one document: the current version, or an earlier one (possibly none). */
export type SnapshotVersion = { changed: false } | { changed: true; document: Document | undefined };

const UNCHANGED: SnapshotVersion = { changed: false };

export class VersionHistory {
  /** collection UUID → id key → versions, oldest first. */
  private readonly byCollection = new Map<string, Map<string, Version[]>>();
  /** Open snapshots by owner, so the oldest one bounds what must be kept. */
  private readonly snapshots = new Map<number, Timestamp>();

  /** True while a snapshot is open; the engine records versions only then (no cost on the plain write path). */
  get recording(): boolean {
    return this.snapshots.size > 0;
  }

  openSnapshot(owner: number, ts: Timestamp): void {
    this.snapshots.set(owner, ts);
  }

  /** Forgets the owner's snapshot and every version no open snapshot can still need. */
  closeSnapshot(owner: number): void {
    if (!this.snapshots.delete(owner)) return;
    if (this.snapshots.size === 0) {
      this.byCollection.clear();
      return;
    }
    let oldest: Timestamp | undefined;
    for (const ts of this.snapshots.values()) if (!oldest || compareTimestamps(ts, oldest) < 0) oldest = ts;
    for (const [collection, documents] of this.byCollection) {
      for (const [idKey, versions] of documents) {
        // A version at or before the oldest snapshot is already visible to every open snapshot.
        const firstNeeded = versions.findIndex((version) => compareTimestamps(version.ts, oldest!) > 0);
        if (firstNeeded === -1) documents.delete(idKey);
        else if (firstNeeded > 0) versions.splice(0, firstNeeded);
      }
      if (documents.size === 0) this.byCollection.delete(collection);
    }
  }

  record(collection: string, idKey: string, ts: Timestamp, before: Document | undefined): void {
    let documents = this.byCollection.get(collection);
    if (!documents) {
      documents = new Map();
      this.byCollection.set(collection, documents);
    }
    const versions = documents.get(idKey);
    if (versions) versions.push({ ts, before });
    else documents.set(idKey, [{ ts, before }]);
  }

  /** Undoes the newest record of a document (a commit that failed part-way is rolled back). */
  unrecord(collection: string, idKey: string): void {
    const documents = this.byCollection.get(collection);
    const versions = documents?.get(idKey);
    versions?.pop();
    if (documents && versions?.length === 0) documents.delete(idKey);
  }

  /** The document as a snapshot at `ts` sees it, when it was written after `ts`. */
  versionAt(collection: string, idKey: string, ts: Timestamp): SnapshotVersion {
    const versions = this.byCollection.get(collection)?.get(idKey);
    if (!versions) return UNCHANGED;
    for (const version of versions) {
      if (compareTimestamps(version.ts, ts) > 0) return { changed: true, document: version.before };
    }
    return UNCHANGED;
  }

  /** True when the document was written after `ts` (a transaction that began at `ts` may not write it). */
  changedSince(collection: string, idKey: string, ts: Timestamp): boolean {
    const versions = this.byCollection.get(collection)?.get(idKey);
    const newest = versions?.[versions.length - 1];
    return newest !== undefined && compareTimestamps(newest.ts, ts) > 0;
  }

  /** Id keys of the collection's documents written after `ts`. */
  *changedIds(collection: string, ts: Timestamp): Iterable<string> {
    const documents = this.byCollection.get(collection);
    if (!documents) return;
    for (const [idKey, versions] of documents) {
      const newest = versions[versions.length - 1];
      if (newest && compareTimestamps(newest.ts, ts) > 0) yield idKey;
    }
  }

  /** True when some document of the collection was written after `ts`. */
  hasChangesSince(collection: string, ts: Timestamp): boolean {
    for (const _ of this.changedIds(collection, ts)) return true;
    return false;
  }
}
