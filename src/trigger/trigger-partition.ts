// Splits a hot trigger among N watchers. Partition i of N follows the documents whose `_id` hash (mongod's
// hashed-index hash, `$toHashedIndexKey`) lies in the i-th of N equal ranges of the signed 64-bit hash space, as
// hashed sharding splits its chunks. The server evaluates it, in the change stream's `$match` and in the scans'
// filter, so each watcher reads only its share; the hash of an `_id` never changes, so neither does its partition.
import { Long, type Document } from 'mongodb';

export interface TriggerPartition {
  /** 0 … count − 1. */
  readonly index: number;
  readonly count: number;
}

const HASH_SPACE = 2n ** 64n;
const LOWEST_HASH = -(2n ** 63n);

/** `i/N`, as lease ids, status and logs show a partition. */
export function partitionLabel(partition: TriggerPartition): string {
  return `${partition.index}/${partition.count}`;
}

/** Partitions 0 … count − 1 of a trigger; none for an unpartitioned one (count 1). */
export function triggerPartitions(count: number): (TriggerPartition | undefined)[] {
  if (count <= 1) return [undefined];
  return Array.from({ length: count }, (_, index) => ({ index, count }));
}

/** The lowest hash in partition `index` of `count`: the range boundaries are rounded up, as `partitionOfHash`. */
function lowestHashOf(index: number, count: number): bigint {
  const offset = BigInt(index) * HASH_SPACE;
  const size = BigInt(count);
  return LOWEST_HASH + (offset + size - 1n) / size;
}

/** Whether two partitions (of any counts) share hashes: a partition of one layout covers part of another's. */
export function partitionsOverlap(a: TriggerPartition, b: TriggerPartition): boolean {
  return (
    lowestHashOf(a.index, a.count) < lowestHashOf(b.index + 1, b.count) &&
    lowestHashOf(b.index, b.count) < lowestHashOf(a.index + 1, a.count)
  );
}

/**
 * The partition (0 … count − 1) of an `_id` whose `$toHashedIndexKey` is `hash`: what `partitionCondition` has
 * the server compute.
 */
export function partitionOfHash(hash: bigint, count: number): number {
  return Number(((hash - LOWEST_HASH) * BigInt(count)) / HASH_SPACE);
}

/**
 * An aggregation expression (for `$expr`) that is true when the hash of the value at `idPath` (a field path:
 * `$documentKey._id` in a change stream, `$_id` in a scan) falls in `partition`.
 */
export function partitionCondition(idPath: `$${string}`, partition: TriggerPartition): Document {
  const { index, count } = partition;
  const bounds: Document[] = [];
  if (index > 0) bounds.push({ $gte: ['$$hash', Long.fromBigInt(lowestHashOf(index, count))] });
  if (index < count - 1) bounds.push({ $lt: ['$$hash', Long.fromBigInt(lowestHashOf(index + 1, count))] });
  return { $let: { vars: { hash: { $toHashedIndexKey: idPath } }, in: { $and: bounds } } };
}
