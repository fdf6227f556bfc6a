// Start-up recovery: the snapshot, then every journal it still needs, in generation order. Obsolete journals
// (older than the snapshot's first needed generation) are deleted, a crash having left them behind.
import type { Timestamp } from 'bson';
import type { OplogEntry } from '../storage/oplog-entry.js';
import { compareTimestamps } from '../storage/oplog.js';
import type { DiskStoreLogger } from './disk-store-options.js';
import { journalPath, listJournalGenerations, readJournalFile, removeJournal } from './journal-files.js';
import { readSnapshotFile, removeSnapshotLeftovers, type SnapshotData } from './snapshot-file.js';

export interface RecoveredState {
  snapshot: SnapshotData | null;
  /** Entries newer than the snapshot, oldest first. */
  journal: OplogEntry[];
}

export interface RecoveryResult {
  recovered: RecoveredState;
  /** The journal to keep appending to, its valid size, and the newest ts it holds. */
  currentGeneration: number;
  currentBytes: number;
  currentNewestTs: Timestamp | null;
}

export async function recoverDbPath(dir: string, logger: DiskStoreLogger): Promise<RecoveryResult> {
  await removeSnapshotLeftovers(dir);
  const stored = await readSnapshotFile(dir);
  const firstGeneration = stored?.journalGeneration ?? 1;
  const generations = await listJournalGenerations(dir);
  for (const generation of generations.filter((g) => g < firstGeneration)) {
    logger.info({ path: journalPath(dir, generation) }, 'deleting journal already covered by the snapshot');
    await removeJournal(dir, generation);
  }
  const live = generations.filter((g) => g >= firstGeneration);

  const journal: OplogEntry[] = [];
  // Entries at or before the snapshot's clusterTime are in the snapshot already; timestamps strictly increase,
  // so comparing with the newest kept ts also drops anything duplicated across journals.
  let newestTs: Timestamp | null = stored?.data.clusterTime ?? null;
  let currentBytes = 0;
  let currentNewestTs: Timestamp | null = null;
  for (const [index, generation] of live.entries()) {
    const path = journalPath(dir, generation);
    const contents = await readJournalFile(path);
    if (contents.dropped !== null) {
      const isNewest = index === live.length - 1;
      logger.warn(
        {
          path,
          droppedBytes: contents.dropped.bytes,
          reason: contents.dropped.reason,
          keptEntries: contents.entries.length,
        },
        isNewest
          ? 'journal ended in a torn record (interrupted write); dropped the damaged tail'
          : 'journal that is not the newest was damaged; entries after the damage are lost',
      );
    }
    for (const entry of contents.entries) {
      if (newestTs !== null && compareTimestamps(entry.ts, newestTs) <= 0) continue;
      journal.push(entry);
      newestTs = entry.ts;
    }
    currentBytes = contents.bytes;
    currentNewestTs = contents.entries[contents.entries.length - 1]?.ts ?? null;
  }
  logger.info(
    { dir, snapshotCollections: stored?.data.collections.length ?? 0, journalEntries: journal.length },
    'recovered dbpath',
  );
  return {
    recovered: { snapshot: stored?.data ?? null, journal },
    currentGeneration: live[live.length - 1] ?? firstGeneration,
    currentBytes,
    currentNewestTs,
  };
}
