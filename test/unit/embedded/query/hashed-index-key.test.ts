// $toHashedIndexKey against mongod: the expected values are the test vectors of mongod's BSONElementHasher
// (hashed index keys are the same on every platform and server version), plus the documented example.
import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { hashedIndexKey } from '../../../../src/embedded/query/hashed-index-key.js';
import { compileFilter, runPipeline } from '../../../../src/embedded/query/index.js';

const hash = (value: unknown): string => hashedIndexKey(value).toString();

describe('hashedIndexKey', () => {
  it('squashes every number to a 64-bit integer before hashing', () => {
    for (const value of [42, 42.123, Long.fromNumber(42), new Int32(42), new Double(42.9)]) {
      expect(hash(value)).toBe('-944302157085130861');
    }
    for (const value of [0, 0.456, Long.ZERO, Number.NaN, Decimal128.fromString('0.5')]) {
      expect(hash(value)).toBe('4854801880128277513');
    }
    expect(hash(1.987)).toBe('5902408780260971510');
    expect(hash(-1.789)).toBe('1140205862565771219');
    expect(hash(-2147483648)).toBe('6165898260261354870');
    expect(hash(2147483647)).toBe('1143184177162245883');
    expect(hash(Long.MAX_VALUE)).toBe('921523596458303250');
    expect(hash(Number.MAX_VALUE)).toBe('921523596458303250');
    expect(hash(Long.MIN_VALUE)).toBe('4532067210535695462');
    expect(hash(-Number.MAX_VALUE)).toBe('4532067210535695462');
  });

  it('hashes strings, ObjectIds, binaries, booleans, dates and the special values as mongod does', () => {
    expect(hash('string to hash')).toBe('763543691661428748');
    expect(hash('abc')).toBe('8478485326885698097');
    expect(hash('')).toBe('2049396243249673340');
    expect(hash(new ObjectId('010203040506070809101112'))).toBe('-5588663249627035708');
    expect(hash(new ObjectId('000000000000000000000000'))).toBe('-4293118519463489418');
    const bytes = Buffer.from([0, 1, 2, 3, 4, 6]);
    expect(hash(new Binary(bytes, 0))).toBe('7252465090394235301');
    expect(hash(new Binary(bytes, 0x80))).toBe('5736670452907618262');
    const uuid = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(hash(new Binary(uuid, 4))).toBe('6084661258071355978');
    expect(hash(true)).toBe('6405873908747105701');
    expect(hash(false)).toBe('6289544573401934092');
    expect(hash(new Date(0))).toBe('-1178696894582842035');
    expect(hash(null)).toBe('2338878944348059895');
    expect(hash(undefined)).toBe('2338878944348059895');
    expect(hash(new MinKey())).toBe('7961148599568647290');
    expect(hash(new MaxKey())).toBe('5504842513779440750');
  });

  it('hashes documents and arrays element by element, with their field names', () => {
    expect(hash({ a: 'abc', b: Long.fromNumber(123) })).toBe('4771603801758380216');
    expect(hash({})).toBe('7980500913326740417');
    expect(hash(['bar', 'baz', 'qux'])).toBe('-2938911267422831539');
    expect(hash([])).toBe('8849948234993459283');
  });
});

describe('$toHashedIndexKey', () => {
  it('is evaluated in pipelines and in $expr filters, a missing value hashing as null', () => {
    const [projected] = runPipeline(
      [{ _id: 1, val: 'string to hash' }],
      [{ $project: { hashed: { $toHashedIndexKey: '$val' }, missing: { $toHashedIndexKey: '$none' } } }],
    );
    expect(String(projected?.hashed)).toBe('763543691661428748');
    expect(String(projected?.missing)).toBe('2338878944348059895');
    const matches = compileFilter({
      $expr: { $eq: [{ $toHashedIndexKey: '$_id' }, Long.fromString('-944302157085130861')] },
    });
    expect(matches({ _id: 42 })).toBe(true);
    expect(matches({ _id: 43 })).toBe(false);
  });
});
