import { Long, Timestamp, UUID } from 'bson';
import { describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecord } from '../../../../src/embedded/persistence/record-codec.js';
import { clock, everyEntryKind, insertEntry, withoutUndefined } from './sample-entries.js';

describe('record codec', () => {
  it('round-trips every entry kind with BSON value classes intact', () => {
    const entries = everyEntryKind(clock());
    const buffer = Buffer.concat(entries.map((entry) => encodeRecord({ e: entry })));

    const decoded = decodeRecords(buffer);

    expect(decoded.problem).toBeNull();
    expect(decoded.validBytes).toBe(buffer.length);
    // toStrictEqual also compares classes: Timestamp stays Timestamp, UUID stays UUID, Dates stay Dates.
    expect(decoded.records.map((record) => record.e as unknown)).toStrictEqual(withoutUndefined(entries));
    const insert = decoded.records[2]?.e as { ts: unknown; document: { big: unknown; ref: unknown } };
    expect(insert.ts).toBeInstanceOf(Timestamp);
    expect(insert.document.big).toBeInstanceOf(Long);
    expect(insert.document.ref).toBeInstanceOf(UUID);
  });

  it('keeps int64 values as Long at any magnitude, as the wire layer does', () => {
    const record = encodeRecord({
      e: { small: Long.fromNumber(123), large: Long.fromString('9007199254740993'), int: 7 },
    });
    const [decoded] = decodeRecords(record).records;
    expect(decoded).toStrictEqual({
      e: { small: Long.fromNumber(123), large: Long.fromString('9007199254740993'), int: 7 },
    });
  });

  it('stops at a record whose CRC does not match', () => {
    const first = encodeRecord({ e: 1 });
    const second = encodeRecord({ e: 2 });
    second.writeUInt8(second.readUInt8(second.length - 2) ^ 0xff, second.length - 2);
    const decoded = decodeRecords(Buffer.concat([first, second]));
    expect(decoded.records).toEqual([{ e: 1 }]);
    expect(decoded.validBytes).toBe(first.length);
    expect(decoded.problem).toMatch(/CRC/);
  });

  it('stops at a short record and at zero-filled tails', () => {
    const first = encodeRecord({ e: 1 });
    const second = encodeRecord({ e: 2 });
    expect(decodeRecords(Buffer.concat([first, second.subarray(0, 12)])).records).toEqual([{ e: 1 }]);
    expect(decodeRecords(Buffer.concat([first, Buffer.alloc(4096)])).validBytes).toBe(first.length);
  });

  it('encodes records larger than bson’s internal 17 MB buffer', () => {
    const big = 'x'.repeat(15 * 1024 * 1024);
    const next = clock();
    const update = {
      ...insertEntry(next(), { _id: 1, big }),
      op: 'update',
      preImage: { _id: 1, big },
      postImage: { _id: 1, big: `${big}y` },
    };
    const decoded = decodeRecords(encodeRecord({ e: update }));
    expect(decoded.problem).toBeNull();
    const entry = decoded.records[0]?.e as { postImage: { big: string }; preImage: { big: string } };
    expect(entry.postImage.big).toHaveLength(big.length + 1);
    expect(entry.preImage.big).toBe(big);
  }, 30_000);
});
