import { describe, expect, it } from 'vitest';
import { SagastreamError } from '../../../src/errors/sagastream-error.js';
import { prefixFilter, triggerFullDocument, triggerPipeline } from '../../../src/trigger/trigger-pipeline.js';

describe('triggerPipeline', () => {
  it('matches the operation types and the filter on fullDocument, and always lets invalidate through', () => {
    expect(
      triggerPipeline({ on: ['insert'], filter: { status: 'pending', total_amount: { $gt: 0 } } }),
    ).toEqual([
      {
        $match: {
          $or: [
            {
              operationType: { $in: ['insert'] },
              'fullDocument.status': 'pending',
              'fullDocument.total_amount': { $gt: 0 },
            },
            { operationType: 'invalidate' },
          ],
        },
      },
    ]);
  });

  it('rewrites fields inside $and, $or and $nor and keeps field operators as they are', () => {
    const filter = {
      'customer.tier': { $in: ['gold', 'silver'] },
      $or: [
        { total: { $gte: 100 } },
        { $and: [{ rush: true }, { items: { $elemMatch: { qty: { $gt: 1 } } } }] },
      ],
      $nor: [{ status: { $not: { $eq: 'void' } } }],
      $comment: 'orders',
    };
    expect(prefixFilter(filter)).toEqual({
      'fullDocument.customer.tier': { $in: ['gold', 'silver'] },
      $or: [
        { 'fullDocument.total': { $gte: 100 } },
        {
          $and: [
            { 'fullDocument.rush': true },
            { 'fullDocument.items': { $elemMatch: { qty: { $gt: 1 } } } },
          ],
        },
      ],
      $nor: [{ 'fullDocument.status': { $not: { $eq: 'void' } } }],
      $comment: 'orders',
    });
  });

  it.each(['$expr', '$where', '$text', '$jsonSchema'])('rejects %s with a clear error', (operator) => {
    const filter = { $or: [{ a: 1 }, { [operator]: {} }] };
    expect(() => prefixFilter(filter)).toThrow(SagastreamError);
    expect(() => prefixFilter(filter)).toThrow(`trigger.filter.$or[1].${operator} is not supported`);
  });

  it('looks up the document only when updates trigger', () => {
    expect(triggerFullDocument({ on: ['insert', 'replace'] })).toBeUndefined();
    expect(triggerFullDocument({ on: ['insert', 'update'] })).toBe('updateLookup');
  });
});
