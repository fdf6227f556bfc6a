// Malformed wire input: bad frames close only the connection that sent them; valid frames, however they are
// split across TCP writes, are answered; a well-behaved driver client running alongside sees no error.
import { BSON, type Document } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/embedded/wire/wire-protocol.js';
import {
  decodeOpMsgReply,
  encodeOpMsg,
  RawConnection,
  seededRandom,
  uniqueDbName,
  withServer,
  type ServerFixture,
} from './embedded-server-fixture.js';

const SEED = 0x5a6e7a;
/** Bound for the server to close a connection after bad input; only a guard against hanging, not a timing goal. */
const CLOSE_TIMEOUT_MS = 5_000;

let fixture: ServerFixture;

beforeAll(async () => {
  fixture = await withServer();
});

afterAll(async () => {
  await fixture?.stop();
});

const PING = { ping: 1, $db: 'admin' };

function header(length: number, opCode: number, requestId = 1): Buffer {
  const bytes = Buffer.alloc(16);
  bytes.writeInt32LE(length, 0);
  bytes.writeInt32LE(requestId, 4);
  bytes.writeInt32LE(0, 8);
  bytes.writeInt32LE(opCode, 12);
  return bytes;
}

/** An OP_MSG with the checksum flag and a CRC-32C over everything before it (or a wrong one). */
function checksummedPing(correct: boolean, requestId: number): Buffer {
  const frame = encodeOpMsg(PING, { flags: 1, requestId });
  const sum = crc32c(frame.subarray(0, frame.length - 4));
  frame.writeUInt32LE(correct ? sum : (sum ^ 0x1) >>> 0, frame.length - 4);
  return frame;
}

/** Legacy OP_QUERY `{isMaster: 1}` on admin.$cmd, as the driver's handshake sends it. */
function opQuery(namespace: string, command: Document, requestId: number): Buffer {
  const body = BSON.serialize(command);
  const ns = Buffer.from(`${namespace}\0`, 'utf8');
  const fixed = Buffer.alloc(4 + 8);
  const length = 16 + fixed.length + ns.length + body.length;
  const flags = Buffer.alloc(4);
  const skipAndReturn = Buffer.alloc(8);
  skipAndReturn.writeInt32LE(-1, 4);
  return Buffer.concat([header(length, 2004, requestId), flags, ns, skipAndReturn, body]);
}

async function expectClosedByServer(raw: RawConnection): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    raw.closed.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  raw.destroy();
  expect(closed, 'the server should close a connection that sent a malformed frame').toBe(true);
}

async function expectPingAnswered(raw: RawConnection, requestId: number): Promise<void> {
  const frame = await raw.nextFrame();
  expect(frame, 'a valid ping must be answered').not.toBeNull();
  const reply = decodeOpMsgReply(frame!);
  expect(reply.opCode).toBe(2013);
  expect(reply.responseTo).toBe(requestId);
  expect(reply.body.ok).toBe(1);
}

async function writeInPieces(raw: RawConnection, bytes: Buffer, pieceSize: () => number): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    const size = Math.max(1, Math.min(pieceSize(), bytes.length - offset));
    await raw.write(bytes.subarray(offset, offset + size));
    offset += size;
  }
}

describe('single malformed inputs close only their connection', () => {
  const cases: [string, (requestId: number) => Buffer][] = [
    ['a header claiming 100 MB', () => header(100 * 1024 * 1024, 2013)],
    ['a message length below the header size', () => header(4, 2013)],
    ['a negative message length', () => header(-1, 2013)],
    ['an unknown opcode', (id) => Buffer.concat([header(26, 9999, id), Buffer.alloc(10)])],
    [
      'OP_COMPRESSED (no compressors were advertised)',
      (id) => Buffer.concat([header(41, 2012, id), Buffer.alloc(25)]),
    ],
    [
      'a valid OP_MSG header with a garbage body',
      (id) => Buffer.concat([header(48, 2013, id), Buffer.alloc(32, 0xab)]),
    ],
    ['an OP_MSG with a wrong checksum', (id) => checksummedPing(false, id)],
    [
      'an OP_MSG with the checksum flag but no room for it',
      (id) => {
        const frame = Buffer.concat([header(22, 2013, id), Buffer.from([1, 0, 0, 0, 0, 0])]);
        return frame;
      },
    ],
    [
      'an OP_MSG with an unknown required flag bit',
      (id) => encodeOpMsg(PING, { flags: 1 << 2, requestId: id }),
    ],
    [
      'an OP_MSG with an unknown section kind',
      (id) => {
        const frame = encodeOpMsg(PING, { requestId: id });
        frame.writeUInt8(7, 20);
        return frame;
      },
    ],
    [
      'an OP_MSG whose BSON length exceeds the frame',
      (id) => {
        const frame = encodeOpMsg(PING, { requestId: id });
        frame.writeInt32LE(10_000, 21);
        return frame;
      },
    ],
    [
      'an OP_MSG whose BSON is corrupt inside',
      (id) => {
        const frame = encodeOpMsg({ ping: 1, s: 'abcdef', $db: 'admin' }, { requestId: id });
        frame.writeUInt8(0x7f, 25); // an invalid BSON element type
        return frame;
      },
    ],
    ['an OP_MSG without $db', (id) => encodeOpMsg({ ping: 1 }, { requestId: id })],
    ['an OP_MSG with no body section', (id) => Buffer.concat([header(20, 2013, id), Buffer.alloc(4)])],
    ['an OP_QUERY on a collection rather than $cmd', (id) => opQuery('admin.users', { find: 1 }, id)],
  ];

  for (const [name, build] of cases) {
    it(`${name}`, async () => {
      const raw = await RawConnection.open(fixture.server.port);
      await raw.write(build(4242));
      await expectClosedByServer(raw);
      expect(await fixture.client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    });
  }

  it('a truncated message followed by a half-close gets no reply and no crash', async () => {
    const raw = await RawConnection.open(fixture.server.port);
    const frame = encodeOpMsg(PING, { requestId: 5 });
    await raw.write(frame.subarray(0, frame.length - 7));
    raw.socket.end();
    expect(await raw.nextFrame(300)).toBeNull();
    raw.destroy();
    expect(await fixture.client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
  });
});

describe('valid frames are answered however they arrive', () => {
  it('a hand-made OP_MSG ping is answered', async () => {
    const raw = await RawConnection.open(fixture.server.port);
    try {
      await raw.write(encodeOpMsg(PING, { requestId: 11 }));
      await expectPingAnswered(raw, 11);
    } finally {
      raw.destroy();
    }
  });

  it('a ping sent one byte per write is answered', async () => {
    const raw = await RawConnection.open(fixture.server.port);
    try {
      await writeInPieces(raw, encodeOpMsg(PING, { requestId: 12 }), () => 1);
      await expectPingAnswered(raw, 12);
    } finally {
      raw.destroy();
    }
  });

  it('several frames in one write are answered in order', async () => {
    const raw = await RawConnection.open(fixture.server.port);
    try {
      await raw.write(
        Buffer.concat([
          encodeOpMsg(PING, { requestId: 21 }),
          encodeOpMsg(PING, { requestId: 22 }),
          encodeOpMsg(PING, { requestId: 23 }),
        ]),
      );
      for (const id of [21, 22, 23]) await expectPingAnswered(raw, id);
    } finally {
      raw.destroy();
    }
  });

  it('an OP_MSG with a correct CRC-32C checksum is answered', async () => {
    const raw = await RawConnection.open(fixture.server.port);
    try {
      await raw.write(checksummedPing(true, 31));
      await expectPingAnswered(raw, 31);
    } finally {
      raw.destroy();
    }
  });

  it('moreToCome gets no reply; the next request is answered', async () => {
    const raw = await RawConnection.open(fixture.server.port);
    try {
      await raw.write(encodeOpMsg({ endSessions: [], $db: 'admin' }, { flags: 1 << 1, requestId: 41 }));
      await raw.write(encodeOpMsg(PING, { requestId: 42 }));
      await expectPingAnswered(raw, 42);
    } finally {
      raw.destroy();
    }
  });

  it('the legacy OP_QUERY isMaster handshake gets an OP_REPLY', async () => {
    const raw = await RawConnection.open(fixture.server.port);
    try {
      await raw.write(opQuery('admin.$cmd', { isMaster: 1, helloOk: true }, 51));
      const frame = await raw.nextFrame();
      expect(frame).not.toBeNull();
      expect(frame!.readInt32LE(8)).toBe(51);
      expect(frame!.readInt32LE(12)).toBe(1);
      expect(frame!.readInt32LE(32)).toBe(1); // numberReturned
      const body = BSON.deserialize(frame!.subarray(36));
      expect(body).toMatchObject({ ok: 1, ismaster: true, setName: 'rs0' });
    } finally {
      raw.destroy();
    }
  });

  it('an insert with a kind-1 document sequence is applied', async () => {
    const dbName = uniqueDbName('wire_seq');
    const body = BSON.serialize({ insert: 'items', $db: dbName });
    const docs = [BSON.serialize({ _id: 1 }), BSON.serialize({ _id: 2 })];
    const identifier = Buffer.from('documents\0', 'utf8');
    const sequenceSize = 4 + identifier.length + docs.reduce((sum, doc) => sum + doc.length, 0);
    const sequenceHeader = Buffer.alloc(5);
    sequenceHeader.writeUInt8(1, 0);
    sequenceHeader.writeInt32LE(sequenceSize, 1);
    const content = Buffer.concat([
      Buffer.alloc(4),
      Buffer.from([0]),
      body,
      sequenceHeader,
      identifier,
      ...docs,
    ]);
    const frame = Buffer.concat([header(16 + content.length, 2013, 61), content]);
    const raw = await RawConnection.open(fixture.server.port);
    try {
      await raw.write(frame);
      const reply = await raw.nextFrame();
      expect(decodeOpMsgReply(reply!).body).toMatchObject({ ok: 1, n: 2 });
    } finally {
      raw.destroy();
    }
    expect(await fixture.client.db(dbName).collection('items').countDocuments()).toBe(2);
  });
});

describe(`a storm of bad connections beside a good client (seed ${SEED})`, () => {
  it('never disturbs the good client and leaves the server answering', async () => {
    const random = seededRandom(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const randomBytes = (max: number): Buffer =>
      Buffer.from(Array.from({ length: 1 + Math.floor(random() * max) }, () => Math.floor(random() * 256)));

    const goodErrors: unknown[] = [];
    const items = fixture.client
      .db(uniqueDbName('wire_storm'))
      .collection<{ _id: number; n: number }>('items');
    const goodIterations = 150;
    const goodClient = (async () => {
      for (let i = 0; i < goodIterations; i++) {
        try {
          await items.insertOne({ _id: i, n: i });
          const found = await items.findOne({ _id: i });
          if (found?.n !== i) goodErrors.push(new Error(`read back ${JSON.stringify(found)} for ${i}`));
        } catch (error) {
          goodErrors.push(error);
        }
      }
    })();

    type Attack = (raw: RawConnection, requestId: number) => Promise<'closed' | 'answered' | 'either'>;
    const attacks: Attack[] = [
      async (raw) => {
        await raw.write(randomBytes(2048));
        return 'either';
      },
      async (raw, id) => {
        const frame = encodeOpMsg(
          { ping: 1, pad: 'x'.repeat(Math.floor(random() * 200)), $db: 'admin' },
          { requestId: id },
        );
        await raw.write(frame.subarray(0, 1 + Math.floor(random() * (frame.length - 1))));
        return 'either';
      },
      async (raw) => {
        await raw.write(header(100 * 1024 * 1024, 2013));
        return 'closed';
      },
      async (raw, id) => {
        const garbage = randomBytes(200);
        await raw.write(Buffer.concat([header(16 + garbage.length, 2013, id), garbage]));
        return 'closed';
      },
      async (raw, id) => {
        await raw.write(checksummedPing(false, id));
        return 'closed';
      },
      async (raw, id) => {
        await raw.write(
          Buffer.concat([header(20, pick([0, 1, 2001, 2002, 2005, 2010, 7777]), id), Buffer.alloc(4)]),
        );
        return 'closed';
      },
      async (raw, id) => {
        const frame = encodeOpMsg({ ping: 1, $db: 'admin' }, { requestId: id });
        await writeInPieces(raw, frame, () => 1 + Math.floor(random() * 4));
        return 'answered';
      },
      async (raw, id) => {
        // A valid ping followed by garbage: the ping is answered, then the connection is closed.
        await raw.write(Buffer.concat([encodeOpMsg(PING, { requestId: id }), header(3, 2013)]));
        return 'answered';
      },
    ];

    const attackRounds = 12;
    const socketsPerRound = 10;
    let requestId = 1000;
    for (let round = 0; round < attackRounds; round++) {
      const connections = await Promise.all(
        Array.from({ length: socketsPerRound }, () => RawConnection.open(fixture.server.port)),
      );
      await Promise.all(
        connections.map(async (raw) => {
          const id = requestId++;
          const expectation = await pick(attacks)(raw, id);
          if (expectation === 'answered') await expectPingAnswered(raw, id);
          else if (expectation === 'closed') await expectClosedByServer(raw);
          raw.destroy();
        }),
      );
    }

    await goodClient;
    expect(goodErrors).toEqual([]);
    expect(await items.countDocuments()).toBe(goodIterations);
    expect(await fixture.client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    const late = await fixture.connect();
    expect(await late.db('admin').command({ hello: 1 })).toMatchObject({ ok: 1, isWritablePrimary: true });
  });
});
