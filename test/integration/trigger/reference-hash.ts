// The hashed-index hash of the `_id` types users have (ObjectId, string, int/long/double), written again from
// mongod's definition for the partition tests: what the server computes for `$toHashedIndexKey` must agree with it.
// MD5 over: the seed (int32 0), the canonical type (int32: numbers 10, strings 15, ObjectIds 35) and the value
// (numbers as a truncated int64, strings as int32 length + bytes + NUL, ObjectIds' 12 bytes); the hash is the
// first 8 bytes of the digest, little-endian.
import { createHash } from 'node:crypto';
import { type Double, type Int32, Long, ObjectId } from 'mongodb';

export type PartitionedId = ObjectId | string | number | Long | Int32 | Double;

export function referenceHash(id: PartitionedId): bigint {
  const header = Buffer.alloc(8);
  let value: Buffer;
  if (typeof id === 'string') {
    header.writeInt32LE(15, 4);
    const text = Buffer.from(`${id}\0`, 'utf8');
    value = Buffer.alloc(4 + text.length);
    value.writeInt32LE(text.length, 0);
    text.copy(value, 4);
  } else if (id instanceof ObjectId) {
    header.writeInt32LE(35, 4);
    value = Buffer.from(id.id);
  } else {
    header.writeInt32LE(10, 4);
    value = Buffer.alloc(8);
    value.writeBigInt64LE(id instanceof Long ? id.toBigInt() : BigInt(Math.trunc(Number(id.valueOf()))));
  }
  return createHash('md5').update(header).update(value).digest().readBigInt64LE(0);
}
