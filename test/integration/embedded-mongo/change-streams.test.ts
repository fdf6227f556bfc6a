// Change streams through the official driver: scopes, event shapes, filters, fullDocument modes, pre- and
// post-images, resuming, invalidation and bounded history.
import {
  Timestamp,
  type ChangeStream,
  type ChangeStreamDocument,
  type ChangeStreamOptions,
  type Collection,
  type Db,
  type Document,
  type ResumeToken,
} from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bsonTypeOf,
  expectMongoError,
  rejectionOf,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

/** Upper bound for waiting on one event; a missing event fails the test instead of hanging it. */
const EVENT_TIMEOUT_MS = 10_000;

let fixture: ServerFixture;
let db: Db;
let collectionCounter = 0;
const openStreams: ChangeStream[] = [];

function freshCollection(): Collection {
  collectionCounter += 1;
  return db.collection(`cs${collectionCounter}`);
}

/** Opens a stream and makes sure the server cursor exists, so writes after this call are seen. */
async function openStream<T extends Document = Document>(
  target: { watch(pipeline?: Document[], options?: ChangeStreamOptions): ChangeStream<T> },
  pipeline: Document[] = [],
  options: ChangeStreamOptions = {},
): Promise<ChangeStream<T>> {
  const stream = target.watch(pipeline, { maxAwaitTimeMS: 200, ...options });
  openStreams.push(stream);
  expect(await stream.tryNext()).toBeNull();
  return stream;
}

/** Opens a stream without reading from it (for starts whose first read is expected to fail or return events). */
function watchLazily<T extends Document = Document>(
  target: { watch(pipeline?: Document[], options?: ChangeStreamOptions): ChangeStream<T> },
  pipeline: Document[] = [],
  options: ChangeStreamOptions = {},
): ChangeStream<T> {
  const stream = target.watch(pipeline, { maxAwaitTimeMS: 200, ...options });
  openStreams.push(stream);
  return stream;
}

async function nextChange<T extends Document>(stream: ChangeStream<T>): Promise<ChangeStreamDocument<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no change event within ${EVENT_TIMEOUT_MS} ms`)),
      EVENT_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([stream.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function nextChanges<T extends Document>(
  stream: ChangeStream<T>,
  count: number,
): Promise<ChangeStreamDocument<T>[]> {
  const events: ChangeStreamDocument<T>[] = [];
  for (let i = 0; i < count; i++) events.push(await nextChange(stream));
  return events;
}

/** Asserts no further event is pending (one empty getMore round). */
async function expectNoMoreEvents<T extends Document>(stream: ChangeStream<T>): Promise<void> {
  const extra = await stream.tryNext();
  expect(extra, `unexpected event ${JSON.stringify(extra)}`).toBeNull();
}

type AnyEvent = Document & { operationType: string };
const asDocument = (event: unknown): AnyEvent => event as AnyEvent;
const keyOf = (event: AnyEvent): unknown => (event.documentKey as { _id: unknown })._id;

beforeAll(async () => {
  fixture = await withServer();
  db = fixture.client.db(uniqueDbName('changes'));
});

afterAll(async () => {
  await Promise.allSettled(openStreams.map((stream) => stream.close()));
  await fixture?.stop();
});

describe('event shapes', () => {
  it('insert, update, replace and delete events have MongoDB shapes', async () => {
    const items = freshCollection();
    const stream = await openStream(items);
    await items.insertOne({ _id: 1 as never, status: 'new', tags: ['a', 'b', 'c'], gone: true });
    await items.updateOne(
      { _id: 1 as never },
      { $set: { status: 'paid', 'nested.x': 1 }, $unset: { gone: '' } },
    );
    await items.updateOne({ _id: 1 as never }, { $pop: { tags: 1 }, $set: { 'nested.y': 2 } });
    await items.replaceOne({ _id: 1 as never }, { replaced: true });
    await items.deleteOne({ _id: 1 as never });
    const [insert, update, truncate, replace, remove] = (await nextChanges(stream, 5)).map(asDocument);

    const ns = { db: db.databaseName, coll: items.collectionName };
    for (const event of [insert, update, truncate, replace, remove]) {
      expect(Object.keys(event!._id as Document)).toEqual(['_data']);
      expect(typeof (event!._id as Document)._data).toBe('string');
      expect(event!.clusterTime).toBeInstanceOf(Timestamp);
      expect(event!.wallTime).toBeInstanceOf(Date);
      expect(event!.ns).toEqual(ns);
      expect(event!.documentKey).toEqual({ _id: 1 });
    }
    expect(insert).toMatchObject({
      operationType: 'insert',
      fullDocument: { _id: 1, status: 'new', tags: ['a', 'b', 'c'], gone: true },
    });
    expect(update!.operationType).toBe('update');
    // A $set that creates a sub-document reports the new sub-document, as MongoDB does.
    expect(update!.updateDescription).toEqual({
      updatedFields: { status: 'paid', nested: { x: 1 } },
      removedFields: ['gone'],
      truncatedArrays: [],
    });
    expect(update).not.toHaveProperty('fullDocument');
    expect(truncate!.updateDescription).toMatchObject({
      updatedFields: { 'nested.y': 2 },
      removedFields: [],
      truncatedArrays: [{ field: 'tags', newSize: 2 }],
    });
    expect(replace).toMatchObject({ operationType: 'replace', fullDocument: { _id: 1, replaced: true } });
    expect(remove!.operationType).toBe('delete');
    expect(remove).not.toHaveProperty('fullDocument');
    // Tokens and cluster times are strictly increasing.
    const tokens = [insert, update, truncate, replace, remove].map(
      (event) => (event!._id as Document)._data as string,
    );
    expect(new Set(tokens).size).toBe(5);
    const times = [insert, update, truncate, replace, remove].map((event) => event!.clusterTime as Timestamp);
    for (let i = 1; i < times.length; i++) expect(times[i]!.greaterThan(times[i - 1]!)).toBe(true);
  });

  it('updates made while no stream was open are described when a stream later reads them', async () => {
    // The server computes an update's description only when a stream first reads the entry.
    interface SagaLike {
      _id: string;
      status: string;
      steps: Document[];
      history: { type: string }[];
      revision?: number;
    }
    const sagas = db.collection<SagaLike>(freshCollection().collectionName);
    const session = fixture.client.startSession();
    let startAt: Timestamp | undefined;
    try {
      await sagas.insertOne(
        {
          _id: 's1',
          status: 'running',
          steps: [{ status: 'pending' }, { status: 'pending' }],
          history: [],
        },
        { session },
      );
      startAt = session.operationTime;
    } finally {
      await session.endSession();
    }
    await sagas.updateOne(
      { _id: 's1', 'steps.0.status': 'pending' },
      {
        $set: { 'steps.0.status': 'completed', 'steps.0.output': { ok: true } },
        $inc: { revision: 1 },
        $push: { history: { $each: [{ type: 'step-completed' }], $slice: -2 } },
      },
    );
    await sagas.updateOne(
      { _id: 's1' },
      { $push: { history: { $each: [{ type: 'a' }, { type: 'b' }], $slice: -2 } } },
    );
    await sagas.updateOne({ _id: 's1' }, { $set: { status: 'completed' }, $unset: { revision: '' } });

    // Arrays are diffed element by element, as the server always has.
    const expected = [
      {
        updatedFields: {
          'steps.0.status': 'completed',
          'steps.0.output': { ok: true },
          revision: 1,
          'history.0': { type: 'step-completed' },
        },
        removedFields: [],
        truncatedArrays: [],
      },
      {
        updatedFields: { 'history.0.type': 'a', 'history.1': { type: 'b' } },
        removedFields: [],
        truncatedArrays: [],
      },
      { updatedFields: { status: 'completed' }, removedFields: ['revision'], truncatedArrays: [] },
    ];
    const all = watchLazily(sagas, [{ $match: { operationType: 'update' } }], {
      startAtOperationTime: startAt,
    });
    expect(
      (await nextChanges(all, 3)).map((event) => asDocument(event).updateDescription as unknown),
    ).toEqual(expected);
    // A second stream reads the same entries and sees the same descriptions; its $match filters on them.
    const statusChanges = watchLazily(
      sagas,
      [{ $match: { 'updateDescription.updatedFields.status': 'completed' } }],
      {
        startAtOperationTime: startAt,
      },
    );
    expect(asDocument(await nextChange(statusChanges)).updateDescription).toEqual(expected[2]);
    await expectNoMoreEvents(statusChanges);
  });

  it('a multi-document write produces one event per document', async () => {
    const items = freshCollection();
    const stream = await openStream(items);
    await items.insertMany([
      { _id: 1, g: 1 },
      { _id: 2, g: 1 },
      { _id: 3, g: 2 },
    ] as never[]);
    await items.updateMany({ g: 1 }, { $set: { seen: true } });
    await items.deleteMany({});
    const events = (await nextChanges(stream, 8)).map(asDocument);
    expect(events.map((event) => [event.operationType, keyOf(event)])).toEqual([
      ['insert', 1],
      ['insert', 2],
      ['insert', 3],
      ['update', 1],
      ['update', 2],
      ['delete', 1],
      ['delete', 2],
      ['delete', 3],
    ]);
    await expectNoMoreEvents(stream);
  });
});

describe('scopes', () => {
  it('a collection stream sees only its collection', async () => {
    const watched = freshCollection();
    const other = freshCollection();
    const stream = await openStream(watched);
    await other.insertOne({ skip: true });
    await watched.insertOne({ want: true });
    const event = asDocument(await nextChange(stream));
    expect(event.fullDocument).toMatchObject({ want: true });
    await expectNoMoreEvents(stream);
  });

  it('a database stream sees every collection of its database and nothing else', async () => {
    const otherDb = fixture.client.db(uniqueDbName('changes_other'));
    const stream = await openStream(db);
    const first = freshCollection();
    const second = freshCollection();
    await otherDb.collection('x').insertOne({ elsewhere: true });
    await first.insertOne({ n: 1 });
    await second.insertOne({ n: 2 });
    const events = (await nextChanges(stream, 2)).map(asDocument);
    expect(events.map((event) => event.ns as unknown)).toEqual([
      { db: db.databaseName, coll: first.collectionName },
      { db: db.databaseName, coll: second.collectionName },
    ]);
  });

  it('a cluster stream sees every database', async () => {
    const dbA = fixture.client.db(uniqueDbName('changes_a'));
    const dbB = fixture.client.db(uniqueDbName('changes_b'));
    const stream = await openStream(fixture.client);
    await dbA.collection('x').insertOne({ from: 'a' });
    await dbB.collection('y').insertOne({ from: 'b' });
    const events = (await nextChanges(stream, 2)).map(asDocument);
    expect(events.map((event) => event.ns as unknown)).toEqual([
      { db: dbA.databaseName, coll: 'x' },
      { db: dbB.databaseName, coll: 'y' },
    ]);
  });

  it('sees writes made by another client', async () => {
    const items = freshCollection();
    const stream = await openStream(items);
    const writer = await fixture.connect();
    await writer.db(db.databaseName).collection(items.collectionName).insertOne({ by: 'writer' });
    const event = asDocument(await nextChange(stream));
    expect(event.operationType).toBe('insert');
    expect(event.fullDocument).toMatchObject({ by: 'writer' });
  });
});

describe('pipelines', () => {
  it('a $match on fullDocument.status filters events on the server', async () => {
    const items = freshCollection();
    const stream = await openStream(items, [{ $match: { 'fullDocument.status': 'paid' } }]);
    await items.insertMany([
      { _id: 1, status: 'open' },
      { _id: 2, status: 'paid' },
      { _id: 3, status: 'open' },
      { _id: 4, status: 'paid' },
    ] as never[]);
    const events = (await nextChanges(stream, 2)).map(asDocument);
    expect(events.map((event) => keyOf(event))).toEqual([2, 4]);
    await expectNoMoreEvents(stream);
  });

  it('$match on operationType and $project of event fields', async () => {
    const items = freshCollection();
    const stream = await openStream(items, [
      { $match: { operationType: { $in: ['delete'] } } },
      { $project: { operationType: 1, documentKey: 1 } },
    ]);
    await items.insertOne({ _id: 'x' as never });
    await items.deleteOne({ _id: 'x' as never });
    const event = asDocument(await nextChange(stream));
    expect(Object.keys(event).sort()).toEqual(['_id', 'documentKey', 'operationType']);
    expect(event).toMatchObject({ operationType: 'delete', documentKey: { _id: 'x' } });
  });

  it('a $project that removes _id fails the stream with ChangeStreamFatalError (280)', async () => {
    const items = freshCollection();
    const stream = await openStream(items, [{ $project: { _id: 0 } }]);
    await items.insertOne({ a: 1 });
    await expectMongoError(nextChange(stream), 280);
  });

  it('an unknown stage fails the open with 40324', async () => {
    const items = freshCollection();
    const stream = watchLazily(items, [{ $noSuchStage: {} }]);
    await expectMongoError(stream.tryNext(), 40324);
  });
});

describe('fullDocument modes', () => {
  it("'updateLookup' returns the current document, or null once it is deleted", async () => {
    const items = freshCollection();
    const stream = await openStream(items, [], { fullDocument: 'updateLookup' });
    await items.insertOne({ _id: 1 as never, v: 1 });
    await items.updateOne({ _id: 1 as never }, { $set: { v: 2 } });
    const [, update] = (await nextChanges(stream, 2)).map(asDocument);
    expect(update!.operationType).toBe('update');
    expect(update!.fullDocument).toEqual({ _id: 1, v: 2 });
    await items.updateOne({ _id: 1 as never }, { $set: { v: 3 } });
    await items.deleteOne({ _id: 1 as never });
    const [lookedUpAfterDelete, remove] = (await nextChanges(stream, 2)).map(asDocument);
    expect(lookedUpAfterDelete!.operationType).toBe('update');
    expect(lookedUpAfterDelete!.fullDocument).toBeNull();
    expect(remove!.operationType).toBe('delete');
  });

  it("'whenAvailable' gives post-images once changeStreamPreAndPostImages is enabled, null before", async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 1 as never, v: 0 });
    const stream = await openStream(items, [], { fullDocument: 'whenAvailable' });
    await items.updateOne({ _id: 1 as never }, { $set: { v: 1 } });
    await db.command({ collMod: items.collectionName, changeStreamPreAndPostImages: { enabled: true } });
    await items.updateOne({ _id: 1 as never }, { $set: { v: 2 } });
    await items.updateOne({ _id: 1 as never }, { $set: { v: 3 } });
    const updates = (await nextChanges(stream, 3)).map(asDocument);
    expect(updates.map((event) => event.operationType)).toEqual(['update', 'update', 'update']);
    expect(updates[0]!.fullDocument).toBeNull();
    // The post-image is the document as this update left it, not as it is now.
    expect(updates[1]!.fullDocument).toEqual({ _id: 1, v: 2 });
    expect(updates[2]!.fullDocument).toEqual({ _id: 1, v: 3 });
  });

  it("'required' post-images fail the stream when images are not enabled", async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 1 as never, v: 0 });
    const stream = await openStream(items, [], { fullDocument: 'required' });
    await items.updateOne({ _id: 1 as never }, { $set: { v: 1 } });
    const error = await rejectionOf(nextChange(stream));
    expect(error.code).toBe(47);
    expect(error.message).toMatch(/post-image/);
  });
});

describe('pre-images', () => {
  it("'required' gives fullDocumentBeforeChange on update, replace and delete after collMod", async () => {
    const items = freshCollection();
    await db.createCollection(items.collectionName);
    await db.command({ collMod: items.collectionName, changeStreamPreAndPostImages: { enabled: true } });
    const stream = await openStream(items, [], {
      fullDocumentBeforeChange: 'required',
      fullDocument: 'required',
    });
    await items.insertOne({ _id: 1 as never, v: 1 });
    await items.updateOne({ _id: 1 as never }, { $inc: { v: 1 } });
    await items.replaceOne({ _id: 1 as never }, { v: 10 });
    await items.deleteOne({ _id: 1 as never });
    const [insert, update, replace, remove] = (await nextChanges(stream, 4)).map(asDocument);
    expect(insert!.operationType).toBe('insert');
    expect(insert).not.toHaveProperty('fullDocumentBeforeChange');
    expect(update).toMatchObject({
      operationType: 'update',
      fullDocumentBeforeChange: { _id: 1, v: 1 },
      fullDocument: { _id: 1, v: 2 },
    });
    expect(replace).toMatchObject({
      operationType: 'replace',
      fullDocumentBeforeChange: { _id: 1, v: 2 },
      fullDocument: { _id: 1, v: 10 },
    });
    expect(remove).toMatchObject({ operationType: 'delete', fullDocumentBeforeChange: { _id: 1, v: 10 } });
  });

  it("'whenAvailable' gives null pre-images for changes made before images were enabled", async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 1 as never, v: 1 });
    const stream = await openStream(items, [], { fullDocumentBeforeChange: 'whenAvailable' });
    await items.updateOne({ _id: 1 as never }, { $set: { v: 2 } });
    await db.command({ collMod: items.collectionName, changeStreamPreAndPostImages: { enabled: true } });
    await items.updateOne({ _id: 1 as never }, { $set: { v: 3 } });
    const [before, after] = (await nextChanges(stream, 2)).map(asDocument);
    expect(before!.fullDocumentBeforeChange).toBeNull();
    expect(after!.fullDocumentBeforeChange).toEqual({ _id: 1, v: 2 });
  });

  it("'required' pre-images fail the stream when images are not enabled", async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 1 as never });
    const stream = await openStream(items, [], { fullDocumentBeforeChange: 'required' });
    await items.deleteOne({ _id: 1 as never });
    const error = await rejectionOf(nextChange(stream));
    expect(error.code).toBe(47);
    expect(error.message).toMatch(/pre-image/);
  });
});

describe('resuming', () => {
  it('resumeAfter a saved token continues with the next event: none lost, none repeated', async () => {
    const items = freshCollection();
    const first = await openStream(items);
    await items.insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: i, n: i })) as never[]);
    const seen = await nextChanges(first, 2);
    const saved = seen[1]!._id;
    await first.close();
    await items.insertMany(Array.from({ length: 3 }, (_, i) => ({ _id: 5 + i, n: 5 + i })) as never[]);
    const resumed = watchLazily(items, [], { resumeAfter: saved });
    const events = (await nextChanges(resumed, 6)).map(asDocument);
    expect(events.map((event) => keyOf(event))).toEqual([2, 3, 4, 5, 6, 7]);
    await expectNoMoreEvents(resumed);
  });

  it('startAfter a saved token continues the same way', async () => {
    const items = freshCollection();
    const first = await openStream(items);
    await items.insertMany([{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }] as never[]);
    const [a] = await nextChanges(first, 1);
    await first.close();
    const resumed = watchLazily(items, [], { startAfter: a!._id });
    const events = (await nextChanges(resumed, 2)).map(asDocument);
    expect(events.map((event) => keyOf(event))).toEqual(['b', 'c']);
  });

  it('startAtOperationTime includes the write at that time and those after it', async () => {
    const items = freshCollection();
    const session = fixture.client.startSession();
    let operationTime: Timestamp | undefined;
    try {
      await items.insertOne({ _id: 'before' as never }, { session });
      await items.insertOne({ _id: 'at' as never }, { session });
      operationTime = session.operationTime;
    } finally {
      await session.endSession();
    }
    await items.insertOne({ _id: 'after' as never });
    expect(operationTime).toBeInstanceOf(Timestamp);
    const stream = watchLazily(items, [], { startAtOperationTime: operationTime });
    const events = (await nextChanges(stream, 2)).map(asDocument);
    expect(events.map((event) => keyOf(event))).toEqual(['at', 'after']);
    expect((events[0]!.clusterTime as Timestamp).equals(operationTime!)).toBe(true);
  });

  it('the cached resume token moves on empty batches (postBatchResumeToken)', async () => {
    const items = freshCollection();
    const other = freshCollection();
    const stream = await openStream(items);
    const before = stream.resumeToken as Document;
    expect(before).toBeTruthy();
    expect(typeof before._data).toBe('string');
    // Writes elsewhere advance the cluster time; the watched collection stays quiet.
    await other.insertMany([{ x: 1 }, { x: 2 }]);
    expect(await stream.tryNext()).toBeNull();
    expect(await stream.tryNext()).toBeNull();
    const after = stream.resumeToken as Document;
    expect(after._data).not.toBe(before._data);
    expect(String(after._data) > String(before._data)).toBe(true);
    // Resuming from the moved token replays nothing old and sees what comes next.
    await stream.close();
    await items.insertOne({ _id: 'next' as never });
    const resumed = watchLazily(items, [], { resumeAfter: after });
    const event = asDocument(await nextChange(resumed));
    expect(event.documentKey).toEqual({ _id: 'next' });
    await expectNoMoreEvents(resumed);
  });

  it('the resume token after an event batch does not replay that event', async () => {
    const items = freshCollection();
    const stream = await openStream(items);
    await items.insertOne({ _id: 1 as never });
    await nextChange(stream);
    const token = stream.resumeToken;
    await stream.close();
    await items.insertOne({ _id: 2 as never });
    const resumed = watchLazily(items, [], { resumeAfter: token });
    const event = asDocument(await nextChange(resumed));
    expect(event.documentKey).toEqual({ _id: 2 });
  });

  it('tryNext returns null promptly when nothing happens', async () => {
    const items = freshCollection();
    const stream = await openStream(items, [], { maxAwaitTimeMS: 50 });
    for (let i = 0; i < 3; i++) expect(await stream.tryNext()).toBeNull();
  });

  it('rejects a malformed resume token with InvalidResumeToken (260) or BadValue', async () => {
    const items = freshCollection();
    const stream = watchLazily(items, [], { resumeAfter: { _data: 'not-a-token' } });
    const error = await rejectionOf(stream.tryNext());
    expect([2, 260]).toContain(error.code);
  });
});

describe('invalidation', () => {
  it('drop emits drop then invalidate, and the stream ends', async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 0 as never });
    const stream = await openStream(items);
    await items.insertOne({ _id: 1 as never });
    await items.drop();
    const [insert, drop, invalidate] = (await nextChanges(stream, 3)).map(asDocument);
    expect(insert!.operationType).toBe('insert');
    expect(drop).toMatchObject({
      operationType: 'drop',
      ns: { db: db.databaseName, coll: items.collectionName },
    });
    expect(drop!.clusterTime).toBeInstanceOf(Timestamp);
    expect(invalidate!.operationType).toBe('invalidate');
    expect(typeof (invalidate!._id as Document)._data).toBe('string');
    expect(await stream.hasNext()).toBe(false);

    // resumeAfter cannot continue past an invalidate; startAfter can.
    const refused = watchLazily(items, [], { resumeAfter: invalidate!._id as ResumeToken });
    await expectMongoError(refused.tryNext(), 260);
    const restarted = watchLazily(items, [], { startAfter: invalidate!._id as ResumeToken });
    await items.insertOne({ _id: 'recreated' as never });
    const event = asDocument(await nextChange(restarted));
    expect(event).toMatchObject({ operationType: 'insert', documentKey: { _id: 'recreated' } });
  });

  it('rename emits rename (with to) then invalidate', async () => {
    const items = freshCollection();
    await items.insertOne({ _id: 0 as never });
    const stream = await openStream(items);
    const newName = `${items.collectionName}_renamed`;
    await items.rename(newName);
    const [rename, invalidate] = (await nextChanges(stream, 2)).map(asDocument);
    expect(rename).toMatchObject({
      operationType: 'rename',
      ns: { db: db.databaseName, coll: items.collectionName },
      to: { db: db.databaseName, coll: newName },
    });
    expect(invalidate!.operationType).toBe('invalidate');
    expect(await stream.hasNext()).toBe(false);
  });

  it('a database stream sees drop events and dropDatabase, then invalidate', async () => {
    const victim = fixture.client.db(uniqueDbName('changes_victim'));
    await victim.collection('one').insertOne({ a: 1 });
    const stream = await openStream(victim);
    await victim.dropDatabase();
    const events = (await nextChanges(stream, 3)).map(asDocument);
    expect(events.map((event) => event.operationType)).toEqual(['drop', 'dropDatabase', 'invalidate']);
    expect(events[0]!.ns).toEqual({ db: victim.databaseName, coll: 'one' });
    expect(events[1]!.ns).toEqual({ db: victim.databaseName });
  });

  it('a database stream survives dropping one of its collections', async () => {
    const stream = await openStream(db);
    const items = freshCollection();
    await items.insertOne({ a: 1 });
    await items.drop();
    await items.insertOne({ a: 2 });
    const events = (await nextChanges(stream, 3)).map(asDocument);
    expect(events.map((event) => event.operationType)).toEqual(['insert', 'drop', 'insert']);
  });
});

describe('bounded history', () => {
  let small: ServerFixture;

  beforeAll(async () => {
    small = await withServer({ historySize: 10 });
  });

  afterAll(async () => {
    await small?.stop();
  });

  it('resuming from a token older than the history fails with ChangeStreamHistoryLost (286)', async () => {
    const items = small.client.db(uniqueDbName('history')).collection('items');
    const stream = items.watch([], { maxAwaitTimeMS: 200 });
    expect(await stream.tryNext()).toBeNull();
    await items.insertOne({ _id: 0 as never });
    const first = await nextChange(stream);
    await stream.close();
    for (let i = 1; i <= 50; i++) await items.insertOne({ _id: i as never });
    const resumed = items.watch([], { resumeAfter: first._id, maxAwaitTimeMS: 200 });
    try {
      const error = await expectMongoError(resumed.tryNext(), 286);
      expect(error.codeName).toBe('ChangeStreamHistoryLost');
    } finally {
      await resumed.close();
    }
  });

  it('resuming from a token still inside the history works', async () => {
    const items = small.client.db(uniqueDbName('history_ok')).collection('items');
    const stream = items.watch([], { maxAwaitTimeMS: 200 });
    expect(await stream.tryNext()).toBeNull();
    await items.insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: i })) as never[]);
    const [first] = await nextChanges(stream, 1);
    await stream.close();
    const resumed = items.watch([], { resumeAfter: first!._id, maxAwaitTimeMS: 200 });
    try {
      const events = (await nextChanges(resumed, 4)).map(asDocument);
      expect(events.map((event) => keyOf(event))).toEqual([1, 2, 3, 4]);
    } finally {
      await resumed.close();
    }
  });
});

interface CursorReply {
  cursor: {
    id: unknown;
    firstBatch?: Document[];
    nextBatch?: Document[];
    postBatchResumeToken: { _data: string };
  };
}

describe('cursor plumbing', () => {
  it('the change stream cursor id is an Int64 and getMore replies carry postBatchResumeToken', async () => {
    const items = freshCollection();
    await items.insertOne({ a: 1 });
    const opened = (await db.command(
      { aggregate: items.collectionName, pipeline: [{ $changeStream: {} }], cursor: {} },
      { promoteLongs: false },
    )) as CursorReply;
    expect(bsonTypeOf(opened.cursor.id)).toBe('Long');
    expect(opened.cursor.firstBatch).toEqual([]);
    expect(typeof opened.cursor.postBatchResumeToken._data).toBe('string');
    await items.insertOne({ a: 2 });
    const more = (await db.command(
      { getMore: opened.cursor.id, collection: items.collectionName, maxTimeMS: 1000 },
      { promoteLongs: false },
    )) as CursorReply;
    expect(more.cursor.nextBatch).toHaveLength(1);
    const event = more.cursor.nextBatch![0] as { _id: { _data: string } };
    expect(more.cursor.postBatchResumeToken._data >= event._id._data).toBe(true);
    await db.command({ killCursors: items.collectionName, cursors: [opened.cursor.id] });
  });
});
