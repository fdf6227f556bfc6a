// Retryable writes against the embedded server's test fail points: the RetryableWriteError label mongod adds, and
// onPrimaryTransactionalWrite (a write applied but its reply lost, or failed before it was applied).
import type { Document } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMongoError, uniqueDbName, withServer, type ServerFixture } from './embedded-server-fixture.js';

let fixture: ServerFixture;

beforeAll(async () => {
  fixture = await withServer({ enableTestCommands: true });
});

afterAll(async () => {
  await fixture?.stop();
});

function failPoint(command: Document): Promise<Document> {
  return fixture.client.db('admin').command(command);
}

describe('retryable writes', () => {
  it('a retryable error of a retryable write is labelled RetryableWriteError, so the driver retries it', async () => {
    const items = fixture.client.db(uniqueDbName('retry')).collection('items');
    await failPoint({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['insert'], errorCode: 91 },
    });
    await items.insertOne({ _id: 1 as never });
    expect(await items.countDocuments()).toBe(1);
  });

  it('a write applied whose reply was lost is not applied twice by the retry', async () => {
    const items = fixture.client.db(uniqueDbName('retry')).collection('items');
    await items.insertOne({ _id: 1 as never, n: 0 });
    await failPoint({ configureFailPoint: 'onPrimaryTransactionalWrite', mode: { times: 1 } });
    const result = await items.updateOne({ _id: 1 as never }, { $inc: { n: 1 } });
    expect(result.modifiedCount).toBe(1);
    expect(await items.findOne()).toEqual({ _id: 1, n: 1 });
  });

  it('a write failed before it was applied leaves nothing, and the retry applies all of it once', async () => {
    const items = fixture.client.db(uniqueDbName('retry')).collection('items');
    await failPoint({
      configureFailPoint: 'onPrimaryTransactionalWrite',
      mode: { times: 1 },
      data: { failBeforeCommitExceptionCode: 1 },
    });
    await items.insertMany([{ _id: 1 as never }, { _id: 2 as never }]);
    expect(await items.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1 }, { _id: 2 }]);
  });

  it('a write failed before it is applied, with the connection kept, reports the code and writes nothing', async () => {
    const items = fixture.client.db(uniqueDbName('retry')).collection('items');
    await failPoint({
      configureFailPoint: 'onPrimaryTransactionalWrite',
      mode: { times: 1 },
      data: { failBeforeCommitExceptionCode: 1, closeConnection: false },
    });
    await expectMongoError(items.insertOne({ _id: 1 as never }), 1);
    expect(await items.countDocuments()).toBe(0);
  });
});
