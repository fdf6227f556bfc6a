// Routes a decoded request to its handler and shapes every reply: ok, operationTime, $clusterTime, errors.
import { Binary, Long, type Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import type { Engine, WriteSession } from '../storage/engine.js';
import type { ConnectionContext } from '../wire/connection.js';
import type { CommandRequest } from '../wire/wire-protocol.js';
import { adminCommands } from './admin-commands.js';
import { bulkWrite } from './bulk-write-command.js';
import { aggregateCommands } from './aggregate-command.js';
import { explainCommands } from './explain-command.js';
import { addErrorLabels, RETRYABLE_WRITE_COMMANDS } from './error-labels.js';
import {
  commandNumber,
  type CommandHandlerFn,
  type CommandInterceptor,
  type CommandContext,
  type ServerIdentity,
  type TransactionalWriteFailure,
} from './command-context.js';
import { checkApiParameters } from './api-strict.js';
import { checkCommandFields } from './command-fields.js';
import type { CursorRegistry } from './cursor-registry.js';
import { handshakeCommands } from './handshake-commands.js';
import { LocalSessions } from './local-sessions.js';
import { mayWaitForLocks, runWaitingForLocks } from './lock-waits.js';
import { readCommands } from './read-commands.js';
import { RetryableWriteCache } from './retryable-write-cache.js';
import { transactionCommands } from './transaction-commands.js';
import { TransactionSessions, type TransactionSessionsOptions } from './transaction-sessions.js';
import { writeCommands } from './write-commands.js';

export interface DispatcherLogger {
  debug(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

const ZERO_SIGNATURE = { hash: new Binary(Buffer.alloc(20)), keyId: Long.fromNumber(0) };

export interface DispatcherOptions {
  transactions?: TransactionSessionsOptions;
  /** The onPrimaryTransactionalWrite test fail point, consulted once per attempt of a retryable write. */
  transactionalWriteFailure?: () => TransactionalWriteFailure | undefined;
  /** The server's clock (epoch ms), for maxTimeMS; Date.now when absent. */
  now?: () => number;
}

export class CommandDispatcher {
  private readonly handlers = new Map<string, CommandHandlerFn>();
  private readonly retryableWrites = new RetryableWriteCache(10_000);
  private readonly sessions = new LocalSessions();
  private readonly transactions: TransactionSessions;
  private readonly transactionalWriteFailure: (() => TransactionalWriteFailure | undefined) | undefined;
  private readonly now: () => number;

  constructor(
    private readonly engine: Engine,
    private readonly cursors: CursorRegistry,
    private readonly server: ServerIdentity,
    private readonly logger: DispatcherLogger,
    extraCommands: Record<string, CommandHandlerFn> = {},
    private readonly interceptor?: CommandInterceptor,
    options: DispatcherOptions = {},
  ) {
    this.transactions = new TransactionSessions(
      engine,
      options.transactions ?? { lifetimeLimitSeconds: 60, now: Date.now },
    );
    this.transactionalWriteFailure = options.transactionalWriteFailure;
    this.now = options.now ?? Date.now;
    for (const group of [
      handshakeCommands,
      adminCommands,
      writeCommands,
      // MongoDB 8.0's command: a 7.0 server answers CommandNotFound, which the saga store's group commit relies on.
      server.release === '8.0' ? { bulkWrite } : {},
      readCommands,
      aggregateCommands,
      explainCommands,
      transactionCommands,
      extraCommands,
    ]) {
      for (const [name, handler] of Object.entries(group)) this.handlers.set(name, handler);
    }
  }

  readonly handle = async (request: CommandRequest, connection: ConnectionContext): Promise<Document> => {
    const command = request.command;
    const name = Object.keys(command)[0] ?? '';
    const execute = async (): Promise<Document> => {
      let reply: Document;
      try {
        reply = withOk(await this.run(name, request, connection));
      } catch (error) {
        reply = this.errorReply(name, error);
      }
      // A statement that failed inside a transaction aborts it (a fail point's injected error does not).
      if (command.autocommit === false) this.transactions.afterCommand(name, command, reply);
      return reply;
    };
    const body = this.interceptor
      ? await this.interceptor({ name, db: request.db, command, connection }, execute)
      : await execute();
    addErrorLabels(name, command, body);
    const clusterTime = this.engine.oplog.clusterTime;
    body.operationTime = clusterTime;
    body.$clusterTime = { clusterTime, signature: ZERO_SIGNATURE };
    return body;
  };

  private errorReply(name: string, error: unknown): Document {
    if (error instanceof MongoCommandError) return error.toReply();
    this.logger.error({ err: error, command: name }, 'command failed unexpectedly');
    return new MongoCommandError(
      'InternalError',
      `internal error in ${name}: ${(error as Error).message}`,
    ).toReply();
  }

  private async run(name: string, request: CommandRequest, connection: ConnectionContext): Promise<Document> {
    const handler = this.handlers.get(name);
    if (!handler) throw new MongoCommandError('CommandNotFound', `no such command: '${name}'`);
    const command = request.command;
    checkCommandFields(name, command);
    checkApiParameters(name, command);
    const session: WriteSession = {};
    if (command.lsid && typeof command.lsid === 'object') {
      session.lsid = command.lsid as Document;
      this.sessions.touch(session.lsid);
    }
    const txnNumber = commandNumber(command.txnNumber);
    if (txnNumber !== undefined) session.txnNumber = txnNumber;
    // autocommit: false marks every command of a transaction; startTransaction: true only its first.
    const transaction =
      command.autocommit === false || command.startTransaction === true
        ? this.transactions.enter(name, command, session.lsid, session.txnNumber)
        : undefined;
    const context = {
      engine: transaction?.state === 'inProgress' ? transaction.transaction.engine : this.engine,
      transactions: this.transactions,
      transaction,
      cursors: this.cursors,
      sessions: this.sessions,
      server: this.server,
      connection,
      db: request.db,
      command,
      session,
      logger: this.logger,
      now: this.now,
    };
    // Outside a transaction, a write reaching a document an open transaction holds waits for it, as in mongod.
    const execute = (): Document | Promise<Document> =>
      !transaction && this.engine.documentLocks.size > 0 && mayWaitForLocks(name)
        ? runWaitingForLocks(this.engine, name, () => handler(context), {
            maxTimeMS: commandNumber(command.maxTimeMS),
            signal: connection.signal,
          })
        : handler(context);
    if (
      !transaction &&
      session.lsid &&
      session.txnNumber !== undefined &&
      RETRYABLE_WRITE_COMMANDS.has(name)
    ) {
      // A retried write (same session and txnNumber) gets the first attempt's reply and is not applied twice.
      return this.retryableWrites.run(session.lsid, session.txnNumber, () =>
        this.runRetryableWrite(handler, context, execute),
      );
    }
    return execute();
  }

  /** One attempt of a retryable write; synchronous unless the onPrimaryTransactionalWrite fail point is set. */
  private runRetryableWrite(
    handler: CommandHandlerFn,
    context: CommandContext,
    execute: () => Document | Promise<Document>,
  ): Document | Promise<Document> {
    const failure = this.transactionalWriteFailure?.();
    return failure ? this.failTransactionalWrite(handler, context, failure) : execute();
  }

  /** What onPrimaryTransactionalWrite makes of one attempt (fail-point-commands.ts). */
  private async failTransactionalWrite(
    handler: CommandHandlerFn,
    context: CommandContext,
    failure: TransactionalWriteFailure,
  ): Promise<Document> {
    if (failure.failBeforeCommitCode === undefined) {
      // Applied (and cached by the caller), but the reply is lost: the driver's retry must get this result.
      const reply = await handler(context);
      if (failure.closeConnection) context.connection.close();
      return reply;
    }
    const code = failure.failBeforeCommitCode;
    const failed = new MongoCommandError('InternalError', 'Failing write for test due to failPoint', {
      code,
    });
    try {
      // Run as one atomic batch so that failing "before the commit" leaves nothing of the command behind.
      this.engine.writeAtomically(() => {
        if (handler(context) instanceof Promise)
          throw new Error('a retryable write handler must be synchronous');
        throw failed;
      }, {});
    } catch (error) {
      if (error !== failed) throw error;
    }
    if (failure.closeConnection) context.connection.close();
    throw failed;
  }
}

/**
 * The handler's reply plus `ok: 1`, as a new object (handlers may return cached replies). Copied field by field:
 * a spread followed by added fields is a slow path in V8, and the dispatcher adds three.
 */
function withOk(reply: Document): Document {
  const body: Document = {};
  for (const key of Object.keys(reply)) {
    if (key === '__proto__') {
      Object.defineProperty(body, key, {
        value: reply[key],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else body[key] = reply[key] as unknown;
  }
  body.ok = 1;
  return body;
}
