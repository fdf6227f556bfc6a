// What a saga in a wait step waits for, as the admin API and `sagastream saga` show it.
import { describe, expect, it } from 'vitest';
import { EJSON, Int32, ObjectId } from 'bson';
import { sagaDetail, waitingView } from '../../../src/admin/saga-views.js';
import { formatSaga } from '../../../src/cli/commands/saga-command.js';
import { sagaDocument, step } from '../model/saga-fixtures.js';

const SINCE = new Date('2030-01-01T00:00:01Z');
const UNTIL = new Date('2030-01-01T02:00:01Z');
const customer = new ObjectId('65a000000000000000000001');

const waiting = sagaDocument({
  stepIndex: 1,
  steps: [
    step('reserve', { status: 'completed', attempts: 1 }),
    step('paid', { status: 'waiting', attempts: 1 }),
  ],
  waiting: {
    step: 1,
    ns: 'shop.payments',
    on: ['insert', 'update', 'replace'],
    filter: EJSON.stringify({ orderId: 'o-1', customer, tries: new Int32(3) }, { relaxed: false }),
    keys: [],
    since: SINCE,
    timeoutAt: UNTIL,
  },
});

describe('a waiting saga in the admin views', () => {
  it('names the collection and the filter (relaxed Extended JSON), since when and until when', () => {
    expect((sagaDetail(waiting) as { waiting: unknown }).waiting).toEqual({
      step: 'paid',
      for: 'shop.payments',
      filter: { orderId: 'o-1', customer: { $oid: customer.toHexString() }, tries: 3 },
      since: SINCE,
      timeoutAt: UNTIL,
    });
  });

  it('names a signal by its name, with no filter', () => {
    const signal = { ...waiting, waiting: { ...waiting.waiting!, ns: 'shop.signals', signal: 'approval' } };
    expect(waitingView(signal)).toMatchObject({ for: 'signal approval', filter: null });
  });

  it('is absent for a saga that waits for nothing', () => {
    expect(waitingView({ ...waiting, waiting: undefined })).toBeNull();
  });

  it('is a line of `sagastream saga`', () => {
    const detail = JSON.parse(JSON.stringify(sagaDetail(waiting))) as Parameters<typeof formatSaga>[0];
    expect(formatSaga(detail)).toContain(
      `waiting paid for shop.payments {"orderId":"o-1","customer":{"$oid":"${customer.toHexString()}"},"tries":3} since ${SINCE.toISOString()} until ${UNTIL.toISOString()}`,
    );
  });
});
