// MongoDB wire protocol framing: decodes OP_QUERY and OP_MSG requests, encodes OP_REPLY and OP_MSG replies.
import { BSON, type Document } from 'bson';
import { decodeBson } from '../query/decode-bson.js';

export const OpCode = {
  Reply: 1,
  Query: 2004,
  Compressed: 2012,
  Msg: 2013,
} as const;

export const MsgFlags = {
  ChecksumPresent: 1 << 0,
  MoreToCome: 1 << 1,
  ExhaustAllowed: 1 << 16,
} as const;

/** Bits a client may set in OP_MSG flagBits; any other required bit (0-15) is an error per the spec. */
const KNOWN_MSG_FLAGS = MsgFlags.ChecksumPresent | MsgFlags.MoreToCome | MsgFlags.ExhaustAllowed;

export const HEADER_SIZE = 16;
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE = 48_000_000;

/** A frame the server cannot make sense of; the connection that sent it gets closed. */
export class WireProtocolError extends Error {
  override readonly name = 'WireProtocolError';
}

export interface MessageHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export interface CommandRequest {
  requestId: number;
  opCode: typeof OpCode.Query | typeof OpCode.Msg;
  /** The command document with any kind-1 document sequences folded in as arrays. */
  command: Document;
  /** Database the command runs on: `$db` for OP_MSG, the namespace prefix for OP_QUERY. */
  db: string;
  /** OP_MSG moreToCome: the client wants no reply. */
  moreToCome: boolean;
  exhaustAllowed: boolean;
}

/** CRC-32C (Castagnoli) lookup table: OP_MSG checksums use CRC-32C, not zlib's CRC-32. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C of `bytes`, the checksum the OP_MSG specification requires. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function readHeader(buffer: Buffer): MessageHeader {
  return {
    messageLength: buffer.readInt32LE(0),
    requestId: buffer.readInt32LE(4),
    responseTo: buffer.readInt32LE(8),
    opCode: buffer.readInt32LE(12),
  };
}

function readDocument(buffer: Buffer, offset: number, end: number): { document: Document; next: number } {
  if (offset + 5 > end) throw new WireProtocolError('truncated BSON document');
  const size = buffer.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new WireProtocolError(`invalid BSON document size ${size}`);
  if (size > MAX_BSON_OBJECT_SIZE + 16 * 1024)
    throw new WireProtocolError(`BSON document of ${size} bytes is too large`);
  try {
    const document = decodeBson(buffer.subarray(offset, offset + size));
    return { document, next: offset + size };
  } catch (error) {
    throw new WireProtocolError(`invalid BSON document: ${(error as Error).message}`);
  }
}

function readCString(buffer: Buffer, offset: number, end: number): { value: string; next: number } {
  const zero = buffer.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new WireProtocolError('unterminated C string');
  return { value: buffer.toString('utf8', offset, zero), next: zero + 1 };
}

/** Decodes one complete frame (header included) into a command request. */
export function decodeRequest(frame: Buffer): CommandRequest {
  const header = readHeader(frame);
  if (header.opCode === OpCode.Msg) return decodeMsg(frame, header);
  if (header.opCode === OpCode.Query) return decodeQuery(frame, header);
  if (header.opCode === OpCode.Compressed) {
    throw new WireProtocolError('OP_COMPRESSED is not supported: the server advertises no compressors');
  }
  throw new WireProtocolError(`unsupported opCode ${header.opCode}`);
}

function decodeMsg(frame: Buffer, header: MessageHeader): CommandRequest {
  const flags = frame.readUInt32LE(HEADER_SIZE);
  const unknownRequired = flags & 0xffff & ~KNOWN_MSG_FLAGS;
  if (unknownRequired !== 0)
    throw new WireProtocolError(`unsupported required OP_MSG flag bits ${unknownRequired}`);
  let end = frame.length;
  if (flags & MsgFlags.ChecksumPresent) {
    if (end < HEADER_SIZE + 4 + 4) throw new WireProtocolError('OP_MSG too short for its checksum');
    end -= 4;
    const expected = frame.readUInt32LE(end);
    if (crc32c(frame.subarray(0, end)) !== expected) throw new WireProtocolError('OP_MSG checksum mismatch');
  }
  let offset = HEADER_SIZE + 4;
  let body: Document | undefined;
  const sequences: [string, Document[]][] = [];
  while (offset < end) {
    const kind = frame.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      if (body) throw new WireProtocolError('OP_MSG has more than one body section');
      const read = readDocument(frame, offset, end);
      body = read.document;
      offset = read.next;
    } else if (kind === 1) {
      if (offset + 4 > end) throw new WireProtocolError('truncated document sequence');
      const size = frame.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) throw new WireProtocolError(`invalid document sequence size ${size}`);
      const id = readCString(frame, offset + 4, sectionEnd);
      const documents: Document[] = [];
      let cursor = id.next;
      while (cursor < sectionEnd) {
        const read = readDocument(frame, cursor, sectionEnd);
        documents.push(read.document);
        cursor = read.next;
      }
      sequences.push([id.value, documents]);
      offset = sectionEnd;
    } else {
      throw new WireProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new WireProtocolError('OP_MSG has no body section');
  for (const [identifier, documents] of sequences) {
    if (identifier in body)
      throw new WireProtocolError(`document sequence '${identifier}' duplicates a body field`);
    body[identifier] = documents;
  }
  const db: unknown = body.$db;
  if (typeof db !== 'string' || db.length === 0) throw new WireProtocolError('OP_MSG command has no $db');
  return {
    requestId: header.requestId,
    opCode: OpCode.Msg,
    command: body,
    db,
    moreToCome: (flags & MsgFlags.MoreToCome) !== 0,
    exhaustAllowed: (flags & MsgFlags.ExhaustAllowed) !== 0,
  };
}

function decodeQuery(frame: Buffer, header: MessageHeader): CommandRequest {
  const end = frame.length;
  const namespace = readCString(frame, HEADER_SIZE + 4, end);
  // numberToSkip and numberToReturn follow; commands ignore them.
  const read = readDocument(frame, namespace.next + 8, end);
  const dot = namespace.value.indexOf('.');
  const collection = dot < 0 ? '' : namespace.value.slice(dot + 1);
  if (collection !== '$cmd')
    throw new WireProtocolError(`OP_QUERY is only supported for commands, not '${namespace.value}'`);
  let command = read.document;
  // Old drivers wrap commands as {$query: {...}, $readPreference: ...}.
  if (command.$query && typeof command.$query === 'object') command = command.$query as Document;
  return {
    requestId: header.requestId,
    opCode: OpCode.Query,
    command,
    db: namespace.value.slice(0, dot),
    moreToCome: false,
    exhaustAllowed: false,
  };
}

const SERIALIZE_OPTIONS = { checkKeys: false, ignoreUndefined: true };

/** A reply frame in one allocation: the header, `prefixBytes` for the opcode's fixed fields, then `body`. */
function frame(
  body: Uint8Array,
  prefixBytes: number,
  requestId: number,
  responseTo: number,
  opCode: number,
): Buffer {
  const length = HEADER_SIZE + prefixBytes + body.length;
  const buffer = Buffer.allocUnsafe(length);
  buffer.writeInt32LE(length, 0);
  buffer.writeInt32LE(requestId, 4);
  buffer.writeInt32LE(responseTo, 8);
  buffer.writeInt32LE(opCode, 12);
  buffer.set(body, HEADER_SIZE + prefixBytes);
  return buffer;
}

/** OP_REPLY with one document: the answer to a legacy OP_QUERY handshake. */
export function encodeReply(reply: Document, requestId: number, responseTo: number): Buffer {
  const body = BSON.serialize(reply, SERIALIZE_OPTIONS);
  const buffer = frame(body, 20, requestId, responseTo, OpCode.Reply);
  buffer.writeInt32LE(0, HEADER_SIZE); // responseFlags
  buffer.writeBigInt64LE(0n, HEADER_SIZE + 4); // cursorID
  buffer.writeInt32LE(0, HEADER_SIZE + 12); // startingFrom
  buffer.writeInt32LE(1, HEADER_SIZE + 16); // numberReturned
  return buffer;
}

/** OP_MSG reply with a single kind-0 section (the driver rejects kind-1 sections in replies). */
export function encodeMsg(
  reply: Document,
  requestId: number,
  responseTo: number,
  moreToCome = false,
): Buffer {
  const body = BSON.serialize(reply, SERIALIZE_OPTIONS);
  const buffer = frame(body, 5, requestId, responseTo, OpCode.Msg);
  buffer.writeUInt32LE(moreToCome ? MsgFlags.MoreToCome : 0, HEADER_SIZE);
  buffer.writeUInt8(0, HEADER_SIZE + 4); // section kind 0
  return buffer;
}
