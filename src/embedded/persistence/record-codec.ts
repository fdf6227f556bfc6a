// The on-disk record format shared by the journal and the snapshot file:
//   uint32 LE payload length | uint32 LE CRC32 of the payload | BSON payload
// A reader stops at the first record that is short or fails its CRC, which is how a torn tail is found.
import { crc32 } from 'node:zlib';
import { BSON, type Document, type SerializeOptions } from 'bson';
import { decodeBson } from '../query/decode-bson.js';

export const RECORD_HEADER_BYTES = 8;

// checkKeys off: user documents may hold dotted keys and update descriptions `$`-prefixed ones.
// ignoreUndefined: optional entry fields left `undefined` must vanish, not come back as null.
const serializeOptions: SerializeOptions = { checkKeys: false, ignoreUndefined: true };

// Decoded as the wire layer decodes (decodeBson: int32/double as numbers, whole int32-range doubles as Double,
// int64 as Long, Binary not turned into a Buffer), so a replayed document equals the one the engine held.

/** bson's default internal serialization buffer; documents larger than this need it grown first. */
const DEFAULT_INTERNAL_BUFFER_BYTES = 17 * 1024 * 1024;

/** Serializes one document into a framed record. */
export function encodeRecord(document: Document): Buffer {
  const payload = serializeAnySize(document);
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(crc32(payload), 4);
  record.set(payload, RECORD_HEADER_BYTES);
  return record;
}

/**
 * bson serializes through a fixed 17 MB buffer, which an update entry carrying a 16 MB pre-image and post-image
 * overflows. Sizing every record up front would cost a second pass per append, so only an overflow pays for it
 * (and bson keeps the grown buffer afterwards).
 */
function serializeAnySize(document: Document): Uint8Array {
  try {
    return BSON.serialize(document, serializeOptions);
  } catch (error) {
    const bytes = BSON.calculateObjectSize(document, serializeOptions);
    if (bytes <= DEFAULT_INTERNAL_BUFFER_BYTES) throw error;
    BSON.setInternalBufferSize(bytes);
    return BSON.serialize(document, serializeOptions);
  }
}

export interface DecodedRecords {
  records: Document[];
  /** Bytes from the start of the buffer covered by the valid records. */
  validBytes: number;
  /** Why reading stopped before the end of the buffer, or null when every byte was a valid record. */
  problem: string | null;
}

/** Decodes records from the start of `buffer` until the end or the first damaged record. */
export function decodeRecords(buffer: Buffer): DecodedRecords {
  const records: Document[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const problem = checkRecordAt(buffer, offset);
    if (problem !== null) return { records, validBytes: offset, problem };
    const payloadBytes = buffer.readUInt32LE(offset);
    const payload = buffer.subarray(
      offset + RECORD_HEADER_BYTES,
      offset + RECORD_HEADER_BYTES + payloadBytes,
    );
    try {
      records.push(decodeBson(payload));
    } catch (error) {
      return { records, validBytes: offset, problem: `undecodable BSON at byte ${offset}: ${String(error)}` };
    }
    offset += RECORD_HEADER_BYTES + payloadBytes;
  }
  return { records, validBytes: offset, problem: null };
}

function checkRecordAt(buffer: Buffer, offset: number): string | null {
  if (buffer.length - offset < RECORD_HEADER_BYTES) return `short record header at byte ${offset}`;
  const payloadBytes = buffer.readUInt32LE(offset);
  // 5 bytes is the smallest BSON document; a run of zeros (a pre-allocated, never-written tail) stops here.
  if (payloadBytes < 5) return `invalid record length ${payloadBytes} at byte ${offset}`;
  const end = offset + RECORD_HEADER_BYTES + payloadBytes;
  if (end > buffer.length) return `record at byte ${offset} needs ${payloadBytes} bytes, file ends first`;
  const payload = buffer.subarray(offset + RECORD_HEADER_BYTES, end);
  if (crc32(payload) !== buffer.readUInt32LE(offset + 4)) return `CRC mismatch in record at byte ${offset}`;
  return null;
}
