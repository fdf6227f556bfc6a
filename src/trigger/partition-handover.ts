// Where a trigger partition starts after the trigger's partition count changed. Each layout (N partitions) keeps
// its own checkpoints; a partition of the new layout starts where the layout that ran last left the documents it
// shares with them, so nothing written while the layouts changed over is missed, and replays stay short.
import { Timestamp } from 'mongodb';
import type { CheckpointDocument, CheckpointStore } from './checkpoint-store.js';
import { partitionsOverlap, type TriggerPartition } from './trigger-partition.js';

/** Where a partition starts instead of its own checkpoint: a cluster time (inclusive), or now with a scan. */
export type InheritedStart = { kind: 'time'; operationTime: Timestamp } | { kind: 'reconcile' };

interface LayoutCheckpoint {
  partition: TriggerPartition;
  checkpoint: CheckpointDocument;
}

/** The checkpoints of every layout of `sagaName`'s trigger: `trigger:<saga>` and `trigger:<saga>#<i>/<N>`. */
export async function loadTriggerCheckpoints(
  checkpoints: CheckpointStore,
  sagaName: string,
): Promise<CheckpointDocument[]> {
  const unpartitioned = `trigger:${sagaName}`;
  const partitioned = new RegExp(`^${escapeRegExp(unpartitioned)}#\\d+/\\d+$`);
  // One range of the _id index (a regex in an $or is not served by it on every server); the few ids in the range
  // that are another trigger's are left out here.
  const inRange = await checkpoints.collection
    .find({ _id: { $gte: unpartitioned, $lte: `${unpartitioned}#\uffff` } })
    .toArray();
  return inRange.filter(({ _id }) => _id === unpartitioned || partitioned.test(_id));
}

/**
 * Decides whether partition `own` (undefined: the unpartitioned trigger) of `sagaName` starts from its own
 * checkpoint (null) or inherits from another layout: the one that saved last, when it saved after our own
 * checkpoint (or we have none). Our own layout's other partitions never count: they cover other shares.
 * - From the earliest position among that layout's checkpoints whose share overlaps ours: everything of our
 *   share before it was handled by them, and every event after it is read again (duplicates are absorbed by the
 *   unique saga key).
 * - With a reconcile scan of our share when one of those partitions has no checkpoint, or no readable position.
 * A trigger that never had another layout keeps today's behaviour.
 */
export function inheritedStart(
  sagaName: string,
  own: TriggerPartition | undefined,
  stored: readonly CheckpointDocument[],
): InheritedStart | null {
  const mine = own ?? { index: 0, count: 1 };
  let ownCheckpoint: CheckpointDocument | undefined;
  const layouts = new Map<number, LayoutCheckpoint[]>();
  for (const checkpoint of stored) {
    const partition = partitionOfCheckpointId(sagaName, checkpoint._id);
    if (!partition) continue;
    if (partition.count === mine.count) {
      if (partition.index === mine.index) ownCheckpoint = checkpoint;
      continue;
    }
    const entries = layouts.get(partition.count) ?? [];
    entries.push({ partition, checkpoint });
    layouts.set(partition.count, entries);
  }
  const lastSaved = (entries: readonly LayoutCheckpoint[]) =>
    Math.max(...entries.map(({ checkpoint }) => checkpoint.updatedAt.getTime()));
  let latest: [number, LayoutCheckpoint[]] | undefined;
  for (const entry of layouts) {
    if (!latest || lastSaved(entry[1]) > lastSaved(latest[1])) latest = entry;
  }
  if (!latest) return null;
  if (ownCheckpoint && ownCheckpoint.updatedAt.getTime() >= lastSaved(latest[1])) return null;
  const [count, entries] = latest;
  let earliest: Timestamp | undefined;
  for (let index = 0; index < count; index += 1) {
    const theirs = { index, count };
    if (!partitionsOverlap(theirs, mine)) continue;
    const checkpoint = entries.find(({ partition }) => partition.index === index)?.checkpoint;
    const position = checkpoint ? checkpointTime(checkpoint) : undefined;
    if (!position) return { kind: 'reconcile' };
    if (!earliest || position.lessThan(earliest)) earliest = position;
  }
  return earliest ? { kind: 'time', operationTime: earliest } : { kind: 'reconcile' };
}

/** The partition a checkpoint id names (`{0, 1}` for the unpartitioned id), or undefined for another saga's. */
export function partitionOfCheckpointId(sagaName: string, id: string): TriggerPartition | undefined {
  const base = `trigger:${sagaName}`;
  if (id === base) return { index: 0, count: 1 };
  if (!id.startsWith(`${base}#`)) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(id.slice(base.length + 1));
  if (!match) return undefined;
  const index = Number(match[1]);
  const count = Number(match[2]);
  return index < count ? { index, count } : undefined;
}

/**
 * The cluster time a checkpoint stands at: read from its resume token, whose `_data` starts with the event's
 * cluster time (type byte 0x82, then the timestamp's 8 bytes big-endian, in hex) on MongoDB and the embedded
 * server alike; else the last event's cluster time saved beside it.
 */
export function checkpointTime(
  checkpoint: Pick<CheckpointDocument, 'resumeToken' | 'clusterTime'>,
): Timestamp | undefined {
  const data = (checkpoint.resumeToken as { _data?: unknown } | null)?._data;
  if (typeof data === 'string' && /^82[0-9A-Fa-f]{16}/.test(data)) {
    const t = Number.parseInt(data.slice(2, 10), 16);
    const i = Number.parseInt(data.slice(10, 18), 16);
    return new Timestamp({ t, i });
  }
  return checkpoint.clusterTime;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
