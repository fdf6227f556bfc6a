import { Decimal128, Double, EJSON, Long } from 'bson';
import { describe, expect, it } from 'vitest';
import { MongoCommandError } from '../../../../src/embedded/errors.js';
import {
  runPipeline,
  runPipelineInSlices,
  type Document,
  type PipelineBudget,
} from '../../../../src/embedded/query/index.js';

/** Mixed numeric types, missing and null keys, arrays: what the typed operators and mingo's grouping must agree on. */
function numberOf(i: number): unknown {
  if (i % 97 === 0) return Decimal128.fromString(`${i}.25`);
  switch (i % 5) {
    case 0:
      return Long.fromNumber(i * 1_000_003);
    case 1:
      return new Double(i);
    case 2:
      return i + 0.1;
    case 3:
      return i;
    default:
      return `text ${i}`;
  }
}

const DOCUMENTS: Document[] = Array.from({ length: 3_000 }, (_, i) => {
  const doc: Document = { _id: i, n: numberOf(i), tags: ['x', 'yy', 'zzz'].slice(0, i % 4) };
  if (i % 17 === 0) doc.cat = null;
  else if (i % 13 !== 0) doc.cat = ['a', 'b', 'c', 'd'][i % 4];
  return doc;
});

const OTHERS: Document[] = [
  { _id: 'o1', cat: 'a' },
  { _id: 'o2', cat: 'b' },
  { _id: 'o3', cat: 'a' },
  { _id: 'o4', cat: ['c', 'd'] },
  { _id: 'o5' },
  { _id: 'o6', cat: 'yy', n: Long.fromNumber(3) },
];

/** A budget that pauses after every document and every chunk: the most slices a run can be cut into. */
function everyDocument(): PipelineBudget & { pauses: number } {
  return {
    pauses: 0,
    due: () => true,
    dueNow: () => true,
    async pause() {
      this.pauses++;
      await Promise.resolve();
    },
  };
}

/** Exact comparison: BSON types (Long, Double, Decimal128) and field order count. */
const exact = (docs: Document[]): string => EJSON.stringify(docs, { relaxed: false });

const resolveCollection = (name: string): Document[] => (name === 'others' ? OTHERS : []);

const PIPELINES: Record<string, Document[]> = {
  'a $group with folded and mingo accumulators': [
    {
      $group: {
        _id: '$cat',
        total: { $sum: '$n' },
        average: { $avg: '$n' },
        count: { $sum: 1 },
        first: { $first: '$n' },
        last: { $last: '$n' },
        pushed: { $push: '$n' },
        top: { $topN: { n: 2, sortBy: { _id: -1 }, output: '$_id' } },
        largest: { $max: '$n' },
      },
    },
  ],
  'a $group gathering values: $push, $addToSet, $min, $max on paths and computed operands': [
    {
      $group: {
        _id: { $mod: ['$_id', 3] },
        pushed: { $push: { id: '$_id', n: '$n' } },
        cats: { $addToSet: '$cat' },
        doubledTags: { $addToSet: { $size: '$tags' } },
        smallest: { $min: '$n' },
        largest: { $max: '$n' },
        largestCat: { $max: '$cat' },
        smallestCat: { $min: '$cat' },
        computedMax: { $max: { $multiply: ['$_id', 2] } },
      },
    },
  ],
  'a $group by null with one $max over every document': [{ $group: { _id: null, largest: { $max: '$n' } } }],
  'a $group by a computed key, with a computed $sum': [
    {
      $group: {
        _id: { cat: '$cat', odd: { $mod: ['$_id', 2] } },
        doubled: { $sum: { $multiply: ['$_id', 2] } },
      },
    },
    { $sort: { '_id.cat': 1, '_id.odd': 1 } },
  ],
  '$sort then $project': [
    { $sort: { cat: 1, n: -1 } },
    { $project: { cat: 1, n: 1, plusOne: { $add: ['$_id', 1] } } },
  ],
  'a stable $sort on a key with many ties': [{ $sort: { cat: -1 } }, { $project: { _id: 1 } }],
  '$bucket with a default and accumulators': [
    {
      $bucket: {
        groupBy: '$_id',
        boundaries: [0, 100, 500, 1_000],
        default: 'other',
        output: {
          count: { $sum: 1 },
          average: { $avg: '$n' },
          cats: { $addToSet: '$cat' },
          last: { $last: '$n' },
        },
      },
    },
  ],
  '$bucket with an empty bucket': [{ $bucket: { groupBy: '$_id', boundaries: [0, 2_000, 5_000, 6_000] } }],
  $sortByCount: [{ $sortByCount: '$cat' }],
  'inclusion, nested, computed and exclusion $project': [
    {
      $project: {
        cat: 1,
        twice: { $multiply: ['$_id', 2] },
        nested: { first: { $arrayElemAt: ['$tags', 0] } },
      },
    },
    { $project: { _id: 0, cat: 1, 'nested.first': 1 } },
    { $project: { cat: 0 } },
  ],
  '$project of a path through arrays and of $$ROOT': [
    { $project: { tagCount: { $size: '$tags' }, whole: '$$ROOT' } },
    { $project: { n: '$whole.n', tagCount: 1 } },
  ],
  $facet: [
    {
      $facet: {
        byCat: [{ $group: { _id: '$cat', n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
        lastTwo: [{ $sort: { _id: -1 } }, { $limit: 2 }],
        counted: [{ $count: 'n' }],
      },
    },
  ],
  '$unwind, $addFields, $match, $count': [
    { $unwind: '$tags' },
    { $addFields: { length: { $strLenCP: '$tags' } } },
    { $match: { length: { $gt: 1 } } },
    { $count: 'n' },
  ],
  'a $lookup by sub-pipeline': [
    { $limit: 40 },
    {
      $lookup: {
        from: 'others',
        let: { cat: '$cat' },
        pipeline: [{ $match: { $expr: { $eq: ['$cat', '$$cat'] } } }, { $project: { _id: 1 } }],
        as: 'sameCat',
      },
    },
  ],
  'a $lookup by fields (scalar, missing and array local values, arrays of foreign values)': [
    { $lookup: { from: 'others', localField: 'cat', foreignField: 'cat', as: 'joined' } },
    { $lookup: { from: 'others', localField: 'tags', foreignField: 'cat', as: 'byTag', pipeline: [] } },
  ],
  '$unionWith (run in one piece)': [{ $unionWith: 'others' }, { $skip: 2_990 }],
  '$bucketAuto (run in one piece)': [{ $bucketAuto: { groupBy: '$_id', buckets: 4 } }],
};

describe('runPipelineInSlices', () => {
  for (const [name, pipeline] of Object.entries(PIPELINES)) {
    it(`gives what runPipeline gives, paused after every document: ${name}`, async () => {
      const budget = everyDocument();
      const sliced = await runPipelineInSlices(DOCUMENTS, pipeline, { resolveCollection }, budget);
      expect(exact(sliced)).toBe(exact(runPipeline(DOCUMENTS, pipeline, { resolveCollection })));
      expect(budget.pauses).toBeGreaterThan(0);
    });
  }

  it('sees one $$NOW in every chunk of a stage', async () => {
    const pipeline = [{ $addFields: { now: '$$NOW' } }, { $group: { _id: '$now', n: { $sum: 1 } } }];
    const grouped = await runPipelineInSlices(DOCUMENTS, pipeline, {}, everyDocument());
    expect(grouped).toHaveLength(1);
    expect(grouped[0]?.n).toBe(DOCUMENTS.length);
  });

  it('fails as runPipeline fails', async () => {
    const failing: Document[][] = [
      [{ $group: { total: { $sum: 1 } } }],
      [{ $bucket: { groupBy: '$_id', boundaries: [0, 10] } }],
      [{ $bucket: { groupBy: '$_id', boundaries: [10, 0] } }],
      [{ $facet: { bad: 1 } }],
    ];
    for (const pipeline of failing) {
      const expected = (() => {
        try {
          runPipeline(DOCUMENTS, pipeline);
        } catch (error) {
          return error as MongoCommandError;
        }
        throw new Error(`runPipeline did not fail on ${JSON.stringify(pipeline)}`);
      })();
      const error = await runPipelineInSlices(DOCUMENTS, pipeline, {}, everyDocument()).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(MongoCommandError);
      expect((error as MongoCommandError).message).toBe(expected.message);
      expect((error as MongoCommandError).code).toBe(expected.code);
    }
  });

  it('leaves its input documents unmodified', async () => {
    const input = DOCUMENTS.slice(0, 50).map((doc) => ({ ...doc }));
    const before = exact(input);
    await runPipelineInSlices(
      input,
      [{ $unset: 'n' }, { $addFields: { cat: 'changed' } }],
      {},
      everyDocument(),
    );
    expect(exact(input)).toBe(before);
  });
});
