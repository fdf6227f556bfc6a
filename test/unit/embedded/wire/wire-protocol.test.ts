import { BSON } from 'bson';
import { describe, expect, it } from 'vitest';
import {
  HEADER_SIZE,
  MsgFlags,
  OpCode,
  WireProtocolError,
  crc32c,
  decodeRequest,
  encodeMsg,
  encodeReply,
  readHeader,
} from '../../../../src/embedded/wire/wire-protocol.js';

function header(length: number, requestId: number, opCode: number): Buffer {
  const buffer = Buffer.alloc(HEADER_SIZE);
  buffer.writeInt32LE(length, 0);
  buffer.writeInt32LE(requestId, 4);
  buffer.writeInt32LE(0, 8);
  buffer.writeInt32LE(opCode, 12);
  return buffer;
}

function opMsg(
  body: object,
  options: { flags?: number; sequences?: [string, object[]][]; checksum?: boolean } = {},
): Buffer {
  const parts: Buffer[] = [];
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE((options.flags ?? 0) | (options.checksum ? MsgFlags.ChecksumPresent : 0));
  parts.push(flags, Buffer.from([0]), Buffer.from(BSON.serialize(body)));
  for (const [id, docs] of options.sequences ?? []) {
    const payload = Buffer.concat([
      Buffer.from(id + '\0'),
      ...docs.map((doc) => Buffer.from(BSON.serialize(doc))),
    ]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(payload.length + 4);
    parts.push(Buffer.from([1]), size, payload);
  }
  const content = Buffer.concat(parts);
  const length = HEADER_SIZE + content.length + (options.checksum ? 4 : 0);
  const frame = Buffer.concat([header(length, 7, OpCode.Msg), content]);
  if (!options.checksum) return frame;
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(crc32c(frame));
  return Buffer.concat([frame, sum]);
}

function opQuery(namespace: string, query: object): Buffer {
  const content = Buffer.concat([
    Buffer.alloc(4),
    Buffer.from(namespace + '\0'),
    Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    BSON.serialize(query),
  ]);
  return Buffer.concat([header(HEADER_SIZE + content.length, 3, OpCode.Query), content]);
}

describe('decodeRequest', () => {
  it('decodes an OP_MSG body with its $db', () => {
    const request = decodeRequest(opMsg({ ping: 1, $db: 'admin' }));
    expect(request).toMatchObject({ requestId: 7, opCode: OpCode.Msg, db: 'admin', moreToCome: false });
    expect(request.command.ping).toBe(1);
  });

  it('folds kind-1 document sequences into the command', () => {
    const request = decodeRequest(
      opMsg({ insert: 'orders', $db: 'shop' }, { sequences: [['documents', [{ a: 1 }, { a: 2 }]]] }),
    );
    expect(request.command.documents).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('reads moreToCome and verifies a checksum', () => {
    const request = decodeRequest(
      opMsg({ endSessions: [], $db: 'admin' }, { flags: MsgFlags.MoreToCome, checksum: true }),
    );
    expect(request.moreToCome).toBe(true);
    const corrupt = opMsg({ ping: 1, $db: 'admin' }, { checksum: true });
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1);
    expect(() => decodeRequest(corrupt)).toThrow(/checksum/);
  });

  it('decodes the legacy OP_QUERY handshake on admin.$cmd', () => {
    const request = decodeRequest(opQuery('admin.$cmd', { ismaster: 1, helloOk: true }));
    expect(request).toMatchObject({ opCode: OpCode.Query, db: 'admin' });
    expect(request.command.ismaster).toBe(1);
  });

  it('rejects malformed frames with a WireProtocolError', () => {
    const noDb = opMsg({ ping: 1 });
    expect(() => decodeRequest(noDb)).toThrow(WireProtocolError);
    const truncated = opMsg({ ping: 1, $db: 'admin' }).subarray(0, 30);
    truncated.writeInt32LE(truncated.length, 0);
    expect(() => decodeRequest(truncated)).toThrow(WireProtocolError);
    expect(() => decodeRequest(header(HEADER_SIZE, 1, 9999))).toThrow(/opCode 9999/);
    expect(() => decodeRequest(opQuery('shop.orders', { find: 1 }))).toThrow(/only supported for commands/);
    const unknownFlag = opMsg({ ping: 1, $db: 'admin' }, { flags: 1 << 5 });
    expect(() => decodeRequest(unknownFlag)).toThrow(/flag bits/);
  });
});

describe('encoders', () => {
  it('encodes OP_MSG replies with one kind-0 section', () => {
    const frame = encodeMsg({ ok: 1 }, 11, 7);
    expect(readHeader(frame)).toEqual({
      messageLength: frame.length,
      requestId: 11,
      responseTo: 7,
      opCode: OpCode.Msg,
    });
    expect(frame.readUInt8(HEADER_SIZE + 4)).toBe(0);
    expect(BSON.deserialize(frame.subarray(HEADER_SIZE + 5))).toEqual({ ok: 1 });
  });

  it('encodes OP_REPLY with one document and cursor id 0', () => {
    const frame = encodeReply({ ok: 1, ismaster: true }, 12, 3);
    expect(readHeader(frame)).toMatchObject({ responseTo: 3, opCode: OpCode.Reply });
    expect(frame.readBigInt64LE(HEADER_SIZE + 4)).toBe(0n);
    expect(frame.readInt32LE(HEADER_SIZE + 16)).toBe(1);
    expect(BSON.deserialize(frame.subarray(HEADER_SIZE + 20))).toEqual({ ok: 1, ismaster: true });
  });
});
