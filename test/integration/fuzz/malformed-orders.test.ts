// Bad input at the trigger: >= 1,000 generated malformed orders (wrong types, missing fields, huge arrays, deep
// nesting, odd unicode, unusual BSON `_id`s) reach the order-fulfillment saga's watcher. Each
// must start exactly one saga that either completes (the order was valid) or is `rejected` with its issues; the
// watcher stays active and its checkpoint keeps moving. The near-16 MB document: edge-orders.test.ts.
import { Binary, Decimal128, EJSON, Long, MaxKey, MinKey, ObjectId, Timestamp, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import type { SagaDocument } from '../../../src/model/saga-document.js';
import type { CheckpointDocument } from '../../../src/trigger/checkpoint-store.js';
import { orderSchema } from '../../../sagas/order-fulfillment/index.js';
import { useOrderFulfillmentRuntime } from './order-fulfillment-runtime.js';
import { SeededRandom } from '../../chaos/seeded-random.js';

const ORDERS = Number(process.env.FUZZ_ORDERS ?? 1_000);
const random = new SeededRandom(7);

const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\uFEFF',
  '💥'.repeat(50),
  'e\u0301',
  '\u202Eevil',
  'a'.repeat(5_000),
];

function oddValue(depth = 0): unknown {
  const choices: (() => unknown)[] = [
    () => null,
    () => random.pick(ODD_STRINGS),
    () => random.int(-5, 5),
    () => random.pick([Number.NaN, Infinity, -Infinity, -0, 1e308, 5e-324]),
    () => random.next() < 0.5,
    () => new Date(random.int(-1e12, 1e13)),
    () => new ObjectId(),
    () => Decimal128.fromString('12.50'),
    () => Long.fromNumber(random.int(1, 1000)),
    () => new Binary(Buffer.from('bin')),
    () => (depth < 3 ? [oddValue(depth + 1), oddValue(depth + 1)] : []),
    () => (depth < 3 ? { nested: oddValue(depth + 1) } : {}),
  ];
  return random.pick(choices)();
}

function deeplyNested(levels: number): Document {
  let value: Document = { bottom: true };
  for (let level = 0; level < levels; level += 1) value = { level, inner: value };
  return value;
}

function unusualId(index: number): unknown {
  // MinKey and MaxKey have one value each, so each can be one document's _id.
  if (index === 3) return new MinKey();
  if (index === 6) return new MaxKey();
  const ids: (() => unknown)[] = [
    () => Decimal128.fromString(`${index}.25`),
    () => new Binary(Buffer.from(`order-${index}`)),
    () => ({ shop: 'fuzz', number: index }),
    () => Long.fromNumber(9_000_000_000 + index),
    () => new Date(1_700_000_000_000 + index),
    () => new Timestamp({ t: 1_700_000_000, i: index }),
    () => `💥-${index}-\u202E`,
    () => new ObjectId(),
    () => index + 0.5,
  ];
  return ids[index % ids.length]?.();
}

function validOrder(): AnyIdDocument {
  return {
    _id: new ObjectId(),
    status: 'pending',
    customer: { id: `c-${random.int(1, 99)}` },
    items: [{ sku: 'SKU-1', quantity: random.int(1, 3) }],
    total_amount: random.int(1, 300),
  };
}

/** A trigger document that passes the trigger filter (pending, total not <= 0) but is often bad input. */
function malformedOrder(index: number): AnyIdDocument {
  const order = validOrder();
  const mutations: ((doc: Document) => void)[] = [
    (doc) => delete doc.customer,
    (doc) => delete doc.items,
    (doc) => delete doc.total_amount,
    (doc) => (doc.customer = oddValue()),
    (doc) => (doc.customer = { id: oddValue() }),
    (doc) => (doc.items = oddValue()),
    (doc) => (doc.items = [{ sku: oddValue(), quantity: oddValue() }]),
    (doc) => (doc.total_amount = random.pick(['12', null, true, { $numberDecimal: '1' }, 'NaN', Infinity])),
    (doc) => (doc.currency = oddValue()),
    (doc) => (doc.simulate = oddValue()),
    (doc) => (doc.simulate = { failAt: 'launch-rocket' }),
    (doc) => (doc.customer = { id: random.pick(ODD_STRINGS), email: random.pick(ODD_STRINGS) }),
    (doc) => (doc[random.pick(ODD_STRINGS.filter((name) => name !== '' && !name.includes('\u0000')))] = 1),
    () => undefined, // some stay valid: they must complete
  ];
  const count = random.int(1, 3);
  for (let mutation = 0; mutation < count; mutation += 1) random.pick(mutations)(order);
  order.status = 'pending';
  // The expensive shapes are rarer, so 1,000 documents fit in the test's time.
  if (index % 40 === 7)
    order.items = Array.from({ length: 2_000 }, (_, item) => ({ sku: `S${item}`, quantity: 'x' }));
  if (index % 40 === 19) order.extra = deeplyNested(random.int(20, 90));
  if (index % 3 === 0) order._id = unusualId(index);
  return order;
}

const ENDS = ['completed', 'rejected'] as const;

interface AnyIdDocument extends Document {
  _id: unknown;
}

describe('malformed trigger documents', () => {
  const fuzz = useOrderFulfillmentRuntime('fuzz-orders');

  it('starts a correct saga or rejects each of 1,000+ malformed orders, and keeps watching', async () => {
    const checkpoints = fuzz.db.collection<CheckpointDocument>('checkpoints');
    const before = await checkpoints.findOne({ _id: 'trigger:order-fulfillment' });
    const orders = fuzz.db.collection<AnyIdDocument>('orders');
    const docs: AnyIdDocument[] = Array.from({ length: ORDERS }, (_, index) => malformedOrder(index));
    for (let start = 0; start < docs.length; start += 50) {
      await orders.insertMany(docs.slice(start, start + 50), { ordered: false });
    }
    const sagas = fuzz.db.collection<SagaDocument>('sagas');
    // Counted per status, so a timeout shows where the sagas stand.
    await expect
      .poll(
        async () =>
          Object.fromEntries(
            (
              await sagas
                .aggregate<{ _id: string; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }])
                .toArray()
            ).map(({ _id, n }) => [_id, n]),
          ) as Record<string, number>,
        { timeout: 50_000, interval: 100, message: `${ORDERS} sagas ending` },
      )
      .toSatisfy(
        (byStatus: Record<string, number>) =>
          ENDS.reduce((sum, status) => sum + (byStatus[status] ?? 0), 0) >= ORDERS,
      )
      .catch(async (error: unknown) => {
        const open = await sagas.find({ status: 'running' }).limit(3).toArray();
        const view = open.map((saga) => ({
          input: saga.input,
          steps: saga.steps,
          history: saga.history.slice(-4),
        }));
        const keys = new Set(
          (await sagas.find({}, { projection: { trigger: 1 } }).toArray()).map((saga) =>
            EJSON.stringify(saga.trigger?.documentKey as Document, { relaxed: false }),
          ),
        );
        const without = (await orders.find({}).toArray())
          .filter((order) => !keys.has(EJSON.stringify({ _id: order._id }, { relaxed: false })))
          .map((order) => EJSON.stringify(order, { relaxed: false }).slice(0, 300));
        throw new Error(
          `${(error as Error).message}; orders without a saga: ${without.join(' | ')}; ` +
            `open sagas: ${JSON.stringify(view).slice(0, 3_000)}`,
        );
      });

    const stored = await orders.find({}).toArray();
    const all = await sagas.find({}).toArray();
    expect(all).toHaveLength(ORDERS);
    const byDocumentKey = new Map<string, SagaDocument[]>();
    for (const saga of all) {
      const key = EJSON.stringify(saga.trigger?.documentKey, { relaxed: false });
      byDocumentKey.set(key, [...(byDocumentKey.get(key) ?? []), saga]);
    }
    const problems: string[] = [];
    for (const order of stored) {
      const key = EJSON.stringify({ _id: order._id as unknown }, { relaxed: false });
      const found = byDocumentKey.get(key) ?? [];
      if (found.length !== 1) {
        problems.push(`${key}: ${found.length} sagas`);
        continue;
      }
      const saga = found[0] as SagaDocument;
      const valid = orderSchema.safeParse(order).success;
      if (valid && saga.status !== 'completed') problems.push(`${key}: valid but ${saga.status}`);
      if (!valid && saga.status !== 'rejected') problems.push(`${key}: invalid but ${saga.status}`);
      if (saga.status === 'rejected' && (saga.validationIssues ?? []).length === 0) {
        problems.push(`${key}: rejected without validation issues`);
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
    expect(fuzz.runtime.trigger?.status().watchers[0]?.state).toBe('active');
    const after = await checkpoints.findOne({ _id: 'trigger:order-fulfillment' });
    expect(after?.updatedAt.getTime()).toBeGreaterThan(before?.updatedAt.getTime() ?? 0);
    expect(EJSON.stringify(after?.resumeToken)).not.toBe(EJSON.stringify(before?.resumeToken));
  }, 60_000);
});
