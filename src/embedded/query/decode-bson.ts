// Decodes BSON (wire messages and journal records) into the values the server holds: int32 and double become JS
// numbers, int64 stays Long. A JS number cannot say it was a double, and the serializer writes an int32-range
// integer back as int32, so a whole-number double in that range (`Double(2)`, `120.0`) stays a bson `Double`:
// it then keeps its type through storage, queries (`$type`), updates and the journal. Such values are rare (the
// driver sends JS integers as int32), so a byte scan finds them first and only then does the slower decode run.
import { BSON, BSONSymbol, Double, Int32, type Document } from 'bson';
import { isPlainDocument } from './bson-type-name.js';

const PROMOTED = {
  promoteLongs: false,
  promoteValues: true,
  promoteBuffers: false,
  bsonRegExp: false,
} as const;
const UNPROMOTED = {
  promoteLongs: false,
  promoteValues: false,
  promoteBuffers: false,
  bsonRegExp: false,
} as const;

/** A double the serializer would write back as int32 if it were a plain number. */
export function isInt32RangeWhole(value: number): boolean {
  return Number.isInteger(value) && value >= -2147483648 && value <= 2147483647 && !Object.is(value, -0);
}

/** Fixed value sizes by element type; -1: length-prefixed or nested, handled in the scan. */
const FIXED_SIZES = new Map<number, number>([
  [0x06, 0],
  [0x07, 12],
  [0x08, 1],
  [0x09, 8],
  [0x0a, 0],
  [0x10, 4],
  [0x11, 8],
  [0x12, 8],
  [0x13, 16],
  [0xff, 0],
  [0x7f, 0],
]);

/**
 * True when the document starting at `start` holds a whole-number double in int32 range anywhere (or when the
 * bytes are not well-formed: the full decoder then reports them).
 */
function scan(bytes: Uint8Array, view: DataView, start: number): boolean {
  const end = start + view.getInt32(start, true) - 1;
  let index = start + 4;
  while (index < end) {
    const type = bytes[index]!;
    const nameEnd = bytes.indexOf(0, index + 1);
    if (nameEnd < 0 || nameEnd >= end) return true;
    index = nameEnd + 1;
    const fixed = FIXED_SIZES.get(type);
    if (fixed !== undefined) {
      index += fixed;
      continue;
    }
    switch (type) {
      case 0x01:
        if (isInt32RangeWhole(view.getFloat64(index, true))) return true;
        index += 8;
        break;
      case 0x02:
      case 0x0d:
      case 0x0e:
        index += 4 + view.getInt32(index, true);
        break;
      case 0x03:
      case 0x04:
        if (scan(bytes, view, index)) return true;
        index += view.getInt32(index, true);
        break;
      case 0x05:
        index += 5 + view.getInt32(index, true);
        break;
      case 0x0b: {
        const patternEnd = bytes.indexOf(0, index);
        const flagsEnd = patternEnd < 0 ? -1 : bytes.indexOf(0, patternEnd + 1);
        if (flagsEnd < 0) return true;
        index = flagsEnd + 1;
        break;
      }
      case 0x0c:
        index += 4 + view.getInt32(index, true) + 12;
        break;
      case 0x0f:
        index += view.getInt32(index, true);
        break;
      default:
        return true;
    }
  }
  return false;
}

function safeScan(bytes: Uint8Array, view: DataView): boolean {
  try {
    return scan(bytes, view, 0);
  } catch {
    return true; // out-of-bounds lengths: malformed, let the full decoder say how
  }
}

/** Int32 → number, fractional or out-of-range Double → number, whole int32-range Double kept; in place. */
function keepWholeDoubles(value: unknown): unknown {
  if (value instanceof Double) return isInt32RangeWhole(value.value) ? value : value.value;
  if (value instanceof Int32) return value.value;
  if (value instanceof BSONSymbol) return value.value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) value[i] = keepWholeDoubles(value[i]);
    return value;
  }
  if (isPlainDocument(value)) {
    for (const key of Object.keys(value)) value[key] = keepWholeDoubles(value[key]);
  }
  return value;
}

/** Decodes one BSON document (exactly `bytes`). */
export function decodeBson(bytes: Uint8Array): Document {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 5 || !safeScan(bytes, view)) return BSON.deserialize(bytes, PROMOTED);
  return keepWholeDoubles(BSON.deserialize(bytes, UNPROMOTED)) as Document;
}
