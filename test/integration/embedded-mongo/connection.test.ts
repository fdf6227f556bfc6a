// Handshake, topology, identity commands, sessions and concurrency of the embedded server, seen through the
// official driver.
import { Long, ObjectId as BsonObjectId, UUID } from 'bson';
import {
  MongoClient,
  MongoServerError,
  Timestamp,
  type Document,
  type ObjectId,
  type TopologyDescription,
} from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bsonTypeOf,
  decodeOpMsgReply,
  encodeOpMsg,
  expectMongoError,
  RawConnection,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

let fixture: ServerFixture;

/** Connects a client that records the topology description the driver builds from the server's hellos. */
async function connectAndDescribe(
  uri: string,
): Promise<{ client: MongoClient; description: () => TopologyDescription }> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  let latest: TopologyDescription | undefined;
  client.on('topologyDescriptionChanged', (event) => {
    latest = event.newDescription;
  });
  await client.connect();
  await client.db('admin').command({ ping: 1 });
  return {
    client,
    description: () => {
      if (!latest) throw new Error('the driver reported no topology description');
      return latest;
    },
  };
}

beforeAll(async () => {
  fixture = await withServer();
});

afterAll(async () => {
  await fixture?.stop();
});

describe('connecting', () => {
  it('works with ?replicaSet=rs0 and sees a replica-set primary', async () => {
    expect(fixture.server.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/\?replicaSet=rs0$/);
    const { client, description } = await connectAndDescribe(fixture.server.uri);
    try {
      const db = client.db(uniqueDbName('conn_rs'));
      await db.collection('items').insertOne({ via: 'replicaSet' });
      expect(await db.collection('items').countDocuments()).toBe(1);
      expect(description().type).toBe('ReplicaSetWithPrimary');
      expect(description().setName).toBe('rs0');
    } finally {
      await client.close();
    }
  });

  it('works with ?directConnection=true', async () => {
    const uri = `mongodb://127.0.0.1:${fixture.server.port}/?directConnection=true`;
    const { client, description } = await connectAndDescribe(uri);
    try {
      const db = client.db(uniqueDbName('conn_direct'));
      await db.collection('items').insertOne({ via: 'direct' });
      expect(await db.collection('items').findOne({}, { projection: { _id: 0 } })).toEqual({ via: 'direct' });
      expect(description().type).toBe('Single');
    } finally {
      await client.close();
    }
  });

  it('answers hello as a writable replica-set primary on the dialled host:port', async () => {
    const hello = await fixture.client.db('admin').command({ hello: 1 });
    const dialled = `127.0.0.1:${fixture.server.port}`;
    expect(hello).toMatchObject({
      ok: 1,
      isWritablePrimary: true,
      setName: 'rs0',
      primary: dialled,
      me: dialled,
      maxWireVersion: 25,
      minWireVersion: 0,
      logicalSessionTimeoutMinutes: 30,
      helloOk: true,
    });
    expect(hello.hosts).toContain(dialled);
    expect(hello.maxBsonObjectSize).toBe(16 * 1024 * 1024);
    expect(hello.maxWriteBatchSize).toBeGreaterThanOrEqual(1000);
    expect(hello.localTime).toBeInstanceOf(Date);
    expect(bsonTypeOf(hello.electionId)).toBe('ObjectId');
    expect(bsonTypeOf((hello.topologyVersion as Document).processId)).toBe('ObjectId');
    expect(hello).not.toHaveProperty('isreplicaset');
    expect(hello.msg).not.toBe('isdbgrid');
  });

  it('keeps setVersion and electionId constant across hellos', async () => {
    const first = await fixture.client.db('admin').command({ hello: 1 });
    const second = await fixture.client.db('admin').command({ isMaster: 1 });
    expect(second.setVersion).toEqual(first.setVersion);
    expect(String(second.electionId)).toBe(String(first.electionId));
    expect(second.ismaster).toBe(true);
  });

  it('reports a buildInfo version consistent with wire version 25 (MongoDB 8.0)', async () => {
    const info = await fixture.client.db('admin').command({ buildInfo: 1 });
    expect(info.ok).toBe(1);
    expect(info.version).toMatch(/^8\.0\.\d+$/);
    expect((info.versionArray as number[]).slice(0, 2)).toEqual([8, 0]);
  });

  it('presents as MongoDB 7.0 with serverVersion 7.0: wire version 21, no bulkWrite, no update sort', async () => {
    const seven = await withServer({ serverVersion: '7.0' });
    try {
      const admin = seven.client.db('admin');
      expect((await admin.command({ buildInfo: 1 })).version).toMatch(/^7\.0\.\d+$/);
      expect((await admin.command({ hello: 1 })).maxWireVersion).toBe(21);
      await expectMongoError(
        admin.command({ bulkWrite: 1, ops: [{ insert: 0, document: {} }], nsInfo: [{ ns: 'x.y' }] }),
        59,
      );
      const items = seven.client.db(uniqueDbName('seven')).collection<{ _id: number }>('items');
      await items.insertMany([{ _id: 1 }, { _id: 2 }]);
      await expectMongoError(items.updateOne({}, { $set: { x: 1 } }, { sort: { _id: -1 } }), 40415);
    } finally {
      await seven.stop();
    }
  });

  it('answers ping', async () => {
    expect(await fixture.client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect(await fixture.client.db(uniqueDbName('ping')).command({ ping: 1 })).toMatchObject({ ok: 1 });
  });

  it('refuses an unknown command with CommandNotFound (59) naming the command', async () => {
    const error = await expectMongoError(fixture.client.db('admin').command({ frobnicateWidgets: 1 }), 59);
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.codeName).toBe('CommandNotFound');
    expect(error.message).toContain('frobnicateWidgets');
  });
});

describe('cluster time', () => {
  it('replies carry operationTime and $clusterTime as Timestamps', async () => {
    const db = fixture.client.db(uniqueDbName('optime'));
    const session = fixture.client.startSession();
    try {
      await db.collection('items').insertOne({ n: 1 }, { session });
      const afterInsert = session.operationTime;
      expect(afterInsert).toBeInstanceOf(Timestamp);
      expect(session.clusterTime?.clusterTime).toBeInstanceOf(Timestamp);
      await db.collection('items').insertOne({ n: 2 }, { session });
      const afterSecond = session.operationTime;
      expect(afterSecond).toBeInstanceOf(Timestamp);
      // A later write has a strictly later operation time.
      expect(afterSecond!.greaterThan(afterInsert!)).toBe(true);
    } finally {
      await session.endSession();
    }
  });

  it('a raw command reply carries operationTime and $clusterTime', async () => {
    const raw = await RawConnection.open(fixture.server.port);
    try {
      const reply = await raw.command({ ping: 1, $db: 'admin' });
      expect(reply.ok).toBe(1);
      expect(bsonTypeOf(reply.operationTime)).toBe('Timestamp');
      expect(bsonTypeOf((reply.$clusterTime as Document).clusterTime)).toBe('Timestamp');
    } finally {
      raw.destroy();
    }
  });
});

describe('concurrency', () => {
  it('serves 50 concurrent clients doing inserts and finds in parallel', async () => {
    const dbName = uniqueDbName('concurrent');
    const clientCount = 50;
    const perClient = 20;
    const clients = await Promise.all(
      Array.from({ length: clientCount }, () => fixture.connect(fixture.server.uri, { maxPoolSize: 3 })),
    );
    try {
      const counts = await Promise.all(
        clients.map(async (client, clientIndex) => {
          const items = client.db(dbName).collection('items');
          await Promise.all(
            Array.from({ length: perClient / 2 }, (_, i) => items.insertOne({ clientIndex, i })),
          );
          await items.insertMany(
            Array.from({ length: perClient / 2 }, (_, i) => ({ clientIndex, i: i + perClient / 2 })),
          );
          const mine = await items.find({ clientIndex }).sort({ i: 1 }).toArray();
          expect(mine.map((doc): unknown => doc.i)).toEqual(Array.from({ length: perClient }, (_, i) => i));
          return items.countDocuments({ clientIndex });
        }),
      );
      expect(counts).toEqual(Array.from({ length: clientCount }, () => perClient));
      const total = await fixture.client.db(dbName).collection('items').countDocuments();
      expect(total).toBe(clientCount * perClient);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });
});

describe('sessions and retryable writes', () => {
  it('explicit sessions with retryable writes (the default) work', async () => {
    const client = await fixture.connect(fixture.server.uri, { retryWrites: true });
    const items = client.db(uniqueDbName('sessions')).collection('items');
    const session = client.startSession();
    try {
      await items.insertOne({ _id: 'a' as unknown as ObjectId, n: 1 }, { session });
      await items.updateOne({ _id: 'a' as unknown as ObjectId }, { $inc: { n: 1 } }, { session });
      await items.findOneAndUpdate({ _id: 'a' as unknown as ObjectId }, { $inc: { n: 1 } }, { session });
      await items.deleteMany({ missing: true }, { session });
      expect(await items.findOne({}, { session })).toEqual({ _id: 'a', n: 3 });
      expect(session.serverSession?.txnNumber).toBeGreaterThanOrEqual(3);
    } finally {
      await session.endSession();
    }
  });

  it('a retried write (same lsid and txnNumber) is applied once and answered as the first attempt', async () => {
    const dbName = uniqueDbName('retry');
    const raw = await RawConnection.open(fixture.server.port);
    try {
      const command = {
        insert: 'items',
        documents: [{ _id: 1, attempt: 'first' }],
        lsid: { id: new UUID() },
        txnNumber: Long.fromNumber(7),
        $db: dbName,
      };
      const first = await raw.command(command);
      const retried = await raw.command({ ...command, documents: [{ _id: 1, attempt: 'retry' }] });
      expect(first).toMatchObject({ ok: 1, n: 1 });
      expect(retried).toMatchObject({ ok: 1, n: 1 });
      expect(retried).not.toHaveProperty('writeErrors');
      const stored = await fixture.client.db(dbName).collection('items').find().toArray();
      expect(stored).toEqual([{ _id: 1, attempt: 'first' }]);
    } finally {
      raw.destroy();
    }
  });
});

describe('closing', () => {
  it('a closed client leaves the server serving others', async () => {
    const client = new MongoClient(fixture.server.uri);
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    await client.close();
    expect(await fixture.client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
  });
});

describe('the streaming monitor protocol', () => {
  const EXHAUST_ALLOWED = 1 << 16;
  const MORE_TO_COME = 1 << 1;

  it('is what the driver uses: hellos carry a topologyVersion and heartbeats become awaited', async () => {
    const client = await fixture.connect(fixture.server.uri, { heartbeatFrequencyMS: 500 });
    const awaited = new Promise<boolean>((resolve) =>
      client.on('serverHeartbeatSucceeded', (event) => {
        if (event.awaited) resolve(true);
      }),
    );
    const reply = await client.db('admin').command({ hello: 1 });
    const topologyVersion = reply.topologyVersion as Document;
    expect(bsonTypeOf(topologyVersion.processId)).toBe('ObjectId');
    expect(Number(topologyVersion.counter)).toBe(0);
    expect(await awaited).toBe(true);
  });

  it('streams replies to an exhaust hello, each answering the previous one, until the connection closes', async () => {
    const raw = await RawConnection.open(fixture.server.port);
    try {
      const topologyVersion = (await raw.command({ hello: 1, $db: 'admin' })).topologyVersion as Document;
      const requestId = 7_000_001;
      await raw.write(
        encodeOpMsg(
          { hello: 1, topologyVersion, maxAwaitTimeMS: 20, $db: 'admin' },
          { flags: EXHAUST_ALLOWED, requestId },
        ),
      );
      let answering = requestId;
      for (let i = 0; i < 3; i++) {
        const frame = await raw.nextFrame();
        expect(frame, `reply ${i + 1}`).not.toBeNull();
        const reply = decodeOpMsgReply(frame!);
        expect(reply.responseTo).toBe(answering);
        expect(frame!.readUInt32LE(16) & MORE_TO_COME).toBe(MORE_TO_COME);
        expect(reply.body).toMatchObject({ ok: 1, isWritablePrimary: true });
        answering = frame!.readInt32LE(4);
      }
    } finally {
      raw.destroy();
    }
    // The server is unaffected by a client leaving in the middle of a stream.
    expect((await fixture.client.db('admin').command({ ping: 1 })).ok).toBe(1);
  });

  it('answers an awaitable hello at once when the client knows another server process', async () => {
    const raw = await RawConnection.open(fixture.server.port);
    try {
      const reply = await raw.command({
        hello: 1,
        topologyVersion: { processId: new BsonObjectId(), counter: Long.fromNumber(0) },
        maxAwaitTimeMS: 600_000,
        $db: 'admin',
      });
      expect(reply).toMatchObject({ ok: 1, isWritablePrimary: true });
    } finally {
      raw.destroy();
    }
  });

  it('refuses maxAwaitTimeMS without a topologyVersion, and a negative one', async () => {
    await expectMongoError(fixture.client.db('admin').command({ hello: 1, maxAwaitTimeMS: 10 }), 2);
    const topologyVersion = (await fixture.client.db('admin').command({ hello: 1 }))
      .topologyVersion as Document;
    await expectMongoError(
      fixture.client.db('admin').command({ hello: 1, topologyVersion, maxAwaitTimeMS: -1 }),
      2,
    );
  });
});
