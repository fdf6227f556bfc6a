// What a command handler gets: the engine, cursors, server identity, the connection and the parsed request.
import { Double, Int32, Long, type Document, type ObjectId } from 'bson';
import type { Engine, WriteSession } from '../storage/engine.js';
import type { ConnectionContext } from '../wire/connection.js';
import type { CursorRegistry } from './cursor-registry.js';
import type { ValidationLogger } from './document-validation.js';
import type { LocalSessions } from './local-sessions.js';
import type { SessionTransaction, TransactionSessions } from './transaction-sessions.js';
import { MongoCommandError } from '../errors.js';

/** Runtime parameters (setParameter / getParameter) the server acts on. */
export interface ServerParameters {
  /** Seconds between TTL monitor passes (mongod's ttlMonitorSleepSecs). */
  ttlMonitorSleepSecs: number;
}

export interface ServerIdentity {
  readonly setName: string;
  /** host:port the server advertises when it cannot tell which address a client dialled. */
  readonly defaultHost: string;
  /** The MongoDB release the server presents as; 8.0-only commands and fields are refused under 7.0. */
  readonly release: '8.0' | '7.0';
  readonly version: string;
  readonly maxWireVersion: number;
  readonly startedAt: Date;
  readonly processId: string;
  /**
   * What the driver's streaming monitor compares: a new `processId` per server start, and a counter that would grow
   * with every topology change (a single primary never has one).
   */
  readonly topologyVersion: { readonly processId: ObjectId; readonly counter: Long };
  /** Mutable: setParameter changes them while the server runs. */
  readonly parameters: ServerParameters;
}

export interface CommandContext {
  readonly engine: Engine;
  readonly cursors: CursorRegistry;
  readonly sessions: LocalSessions;
  readonly server: ServerIdentity;
  readonly connection: ConnectionContext;
  readonly db: string;
  readonly command: Document;
  readonly session: WriteSession;
  readonly transactions: TransactionSessions;
  /** The server's logger, for what mongod logs rather than answers (a validator's warnings). */
  readonly logger: ValidationLogger;
  /** The transaction the command runs in (its `engine` is then the transaction's view). */
  readonly transaction?: SessionTransaction;
  /** The server's clock (epoch ms): maxTimeMS deadlines are measured on it, so tests can inject one. */
  readonly now: () => number;
}

export type CommandHandlerFn = (context: CommandContext) => Document | Promise<Document>;

/** What the onPrimaryTransactionalWrite fail point asks of one retryable write (fail-point-commands.ts). */
export interface TransactionalWriteFailure {
  /** Fail before the write is applied, with this code; absent: apply it, then act. */
  readonly failBeforeCommitCode?: number;
  /** Drop the connection (the default), so the driver retries the write. */
  readonly closeConnection: boolean;
}

/** One command as an interceptor sees it, before it runs. */
export interface InterceptedCommand {
  readonly name: string;
  readonly db: string;
  readonly command: Document;
  readonly connection: ConnectionContext;
}

/**
 * Wraps every command (test fail points): returns the whole reply body, either by calling `execute` (which runs the
 * command and yields its `{ok: 1, ...}` or `{ok: 0, ...}` body) or by answering itself; it may close the connection,
 * in which case no reply is sent.
 */
export type CommandInterceptor = (
  call: InterceptedCommand,
  execute: () => Promise<Document>,
) => Promise<Document>;

/** The command's collection name: the value of its first field, which must be a non-empty string. */
export function collectionName(context: CommandContext): string {
  const [name, value] = Object.entries(context.command)[0] ?? [];
  if (typeof value !== 'string' || value.length === 0) {
    throw new MongoCommandError(
      'InvalidNamespace',
      `collection name has invalid type ${typeof value} in '${name}'`,
    );
  }
  return value;
}

export function optionalDocument(command: Document, field: string): Document | undefined {
  const value: unknown = command[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MongoCommandError(
      'TypeMismatch',
      `BSON field '${field}' is the wrong type '${typeof value}', expected type 'object'`,
    );
  }
  return value;
}

/**
 * A numeric command field as a JS number. Incoming BSON keeps int64 as Long (promoteLongs is off so stored
 * Longs keep their type), so every numeric field a command reads goes through here.
 */
export function commandNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Int32 || value instanceof Double) return value.value;
  return undefined;
}

export function optionalNumber(command: Document, field: string): number | undefined {
  const value: unknown = command[field];
  if (value === undefined || value === null) return undefined;
  const number = commandNumber(value) ?? Number.NaN;
  if (!Number.isFinite(number)) {
    throw new MongoCommandError('TypeMismatch', `BSON field '${field}' is the wrong type, expected a number`);
  }
  return number;
}

export function optionalArray(command: Document, field: string): Document[] | undefined {
  const value: unknown = command[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    throw new MongoCommandError(
      'TypeMismatch',
      `BSON field '${field}' is the wrong type '${typeof value}', expected type 'array'`,
    );
  }
  return value as Document[];
}
