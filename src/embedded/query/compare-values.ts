// MongoDB's total order over BSON values (the order of sort() and of $gt/$lt within a type).
import type { Binary, BSONRegExp, Code, ObjectId, Timestamp } from 'bson';
import { typeRank } from './bson-type-name.js';
import { compareNumeric, numericValue } from './bson-numbers.js';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const size = Math.min(a.length, b.length);
  for (let i = 0; i < size; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return sign(diff);
  }
  return sign(a.length - b.length);
}

type PackedObjectId = { i0: number; i1: number; i2: number; i3: number };

/** bson 7 packs an ObjectId into four big-endian 24-bit integers: comparing them avoids allocating `.id`. */
function compareObjectIds(a: ObjectId, b: ObjectId): number {
  const x = a as unknown as PackedObjectId;
  const y = b as unknown as PackedObjectId;
  if (typeof x.i0 !== 'number' || typeof y.i0 !== 'number') return compareBytes(a.id, b.id);
  return sign(x.i0 - y.i0) || sign(x.i1 - y.i1) || sign(x.i2 - y.i2) || sign(x.i3 - y.i3);
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : String((value as { value: unknown }).value);
}

function binaryParts(value: unknown): [number, Uint8Array] {
  if (value instanceof Uint8Array) return [0, value];
  const binary = value as Binary;
  return [binary.sub_type, binary.buffer.subarray(0, binary.position)];
}

function regexParts(value: unknown): [string, string] {
  if (value instanceof RegExp) return [value.source, value.flags];
  const bsonRegex = value as BSONRegExp;
  return [bsonRegex.pattern, bsonRegex.options];
}

export type ValueCompare = (a: unknown, b: unknown) => number;

/**
 * Builds MongoDB's comparison with `strings` ordering string values (a collation); field names and everything
 * else keep their binary order.
 */
export function createValueCompare(strings: (a: string, b: string) => number): ValueCompare {
  /** Documents compare element by element: value type, then field name, then value (BSON woCompare). */
  function compareDocuments(a: object, b: object): number {
    const keysA = Object.keys(a);
    const keysB = Object.keys(b);
    const size = Math.min(keysA.length, keysB.length);
    for (let i = 0; i < size; i++) {
      const keyA = keysA[i] as string;
      const keyB = keysB[i] as string;
      const valueA = (a as Record<string, unknown>)[keyA];
      const valueB = (b as Record<string, unknown>)[keyB];
      const byType = typeRank(valueA) - typeRank(valueB);
      if (byType !== 0) return sign(byType);
      const byName = compareStrings(keyA, keyB);
      if (byName !== 0) return byName;
      const byValue = compareValues(valueA, valueB);
      if (byValue !== 0) return byValue;
    }
    return sign(keysA.length - keysB.length);
  }

  function compareArrays(a: unknown[], b: unknown[]): number {
    const size = Math.min(a.length, b.length);
    for (let i = 0; i < size; i++) {
      const byValue = compareValues(a[i], b[i]);
      if (byValue !== 0) return byValue;
    }
    return sign(a.length - b.length);
  }

  /** Compares two values of the same type rank. */
  function compareSameRank(rank: number, a: unknown, b: unknown): number {
    switch (rank) {
      case 1:
      case 2:
      case 16:
        return 0;
      case 3:
        return compareNumeric(numericValue(a) ?? Number.NaN, numericValue(b) ?? Number.NaN);
      case 4:
        return strings(stringOf(a), stringOf(b));
      case 5:
        return compareDocuments(a as object, b as object);
      case 6:
        return compareArrays(a as unknown[], b as unknown[]);
      case 7: {
        // BinData orders by length, then subtype, then bytes.
        const [subtypeA, bytesA] = binaryParts(a);
        const [subtypeB, bytesB] = binaryParts(b);
        return (
          sign(bytesA.length - bytesB.length) || sign(subtypeA - subtypeB) || compareBytes(bytesA, bytesB)
        );
      }
      case 8:
        return compareObjectIds(a as ObjectId, b as ObjectId);
      case 9:
        return sign(Number(a) - Number(b));
      case 10:
        return sign((a as Date).getTime() - (b as Date).getTime());
      case 11:
        return sign((a as Timestamp).t - (b as Timestamp).t) || sign((a as Timestamp).i - (b as Timestamp).i);
      case 12: {
        const [sourceA, flagsA] = regexParts(a);
        const [sourceB, flagsB] = regexParts(b);
        return compareStrings(sourceA, sourceB) || compareStrings(flagsA, flagsB);
      }
      case 14: {
        const codeA = a as Code;
        const codeB = b as Code;
        return (
          compareStrings(String(codeA.code), String(codeB.code)) ||
          compareValues(codeA.scope ?? null, codeB.scope ?? null)
        );
      }
      default:
        return compareDocuments(a as object, b as object);
    }
  }

  function compareValues(a: unknown, b: unknown): number {
    if (a === b) return 0;
    if (typeof a === 'number' && typeof b === 'number') return compareNumeric(a, b);
    if (typeof a === 'string' && typeof b === 'string') return strings(a, b);
    const rankA = typeRank(a);
    const rankB = typeRank(b);
    if (rankA !== rankB) return sign(rankA - rankB);
    return compareSameRank(rankA, a, b);
  }
  return compareValues;
}

/** MongoDB's comparison of two BSON values: by type order first, then by value within the type. */
export const compareValues: ValueCompare = createValueCompare(compareStrings);

/** MongoDB equality: numbers by value across representations (1 == 1.0 == Long(1)); null equals missing. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' && typeof a !== 'bigint' && typeof a === typeof b && typeof a !== 'number')
    return false;
  return compareValues(a, b) === 0;
}
