// The transaction state of every session, as mongod keeps it: which txnNumber is current and whether it is in
// progress, committed or aborted; the errors mongod answers for each mismatch; the lifetime limit.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { valueKey } from '../query/index.js';
import { commandNumber } from './command-context.js';
import type { Engine } from '../storage/engine.js';
import { Transaction } from '../storage/transaction.js';

export type TransactionState = 'inProgress' | 'committed' | 'aborted';

/** The newest transaction of one session. */
export interface SessionTransaction {
  readonly txnNumber: number;
  state: TransactionState;
  readonly transaction: Transaction;
  /** Clock time when it started, for transactionLifetimeLimitSeconds. */
  readonly startedAt: number;
  /** Why the server aborted it, when it did (shown in the NoSuchTransaction that follows). */
  abortReason?: string;
}

export interface TransactionSessionsOptions {
  /** Transactions open longer than this are aborted (mongod's transactionLifetimeLimitSeconds). */
  lifetimeLimitSeconds: number;
  /** Milliseconds since the epoch; injected so tests can age transactions without waiting. */
  now: () => number;
}

/** Commands that may run inside a transaction (mongod's list, as far as this server implements them). */
const ALLOWED_IN_TRANSACTION = new Set([
  'find',
  'getMore',
  'killCursors',
  'insert',
  'update',
  'delete',
  'findAndModify',
  'findandmodify',
  'aggregate',
  'distinct',
  'bulkWrite',
  'create',
  // Only on a collection the transaction creates (Transaction.createIndexes), as mongod ≥ 4.4.
  'createIndexes',
  'commitTransaction',
  'abortTransaction',
]);

/** Stages that write or that never end cannot run in a transaction. */
function assertAggregateAllowed(command: Document): void {
  const pipeline = Array.isArray(command.pipeline) ? (command.pipeline as unknown[]) : [];
  for (const stage of pipeline) {
    if (stage === null || typeof stage !== 'object') continue;
    for (const name of ['$out', '$merge', '$changeStream']) {
      if (name in stage) {
        throw new MongoCommandError(
          'OperationNotSupportedInTransaction',
          `${name} cannot be used in a transaction`,
        );
      }
    }
  }
}

function noSuchTransaction(message: string): MongoCommandError {
  return new MongoCommandError('NoSuchTransaction', message, { labels: ['TransientTransactionError'] });
}

const SWEEP_INTERVAL_MS = 1000;

/** Sessions whose last transaction ended are forgotten oldest-first beyond this many. */
const MAX_SESSIONS = 10_000;

export class TransactionSessions {
  private readonly sessions = new Map<string, SessionTransaction>();
  /** The in-progress ones, so the lifetime check does not walk every session ever seen. */
  private readonly open = new Set<SessionTransaction>();
  private nextId = 1;
  /** Aborts expired transactions while some are open, so an abandoned one frees its documents without a command. */
  private sweeper: NodeJS.Timeout | undefined;
  lifetimeLimitSeconds: number;

  constructor(
    private readonly engine: Engine,
    private readonly options: TransactionSessionsOptions,
  ) {
    this.lifetimeLimitSeconds = options.lifetimeLimitSeconds;
  }

  /** Number of transactions in progress. */
  get openCount(): number {
    return this.open.size;
  }

  /**
   * The transaction a command with `autocommit: false` runs in: a new one for `startTransaction: true`, else the
   * session's current one. Throws what mongod answers when the number or the state does not fit.
   */
  enter(
    name: string,
    command: Document,
    lsid: Document | undefined,
    txnNumber: number | undefined,
  ): SessionTransaction {
    this.abortExpired();
    if (!lsid || txnNumber === undefined) {
      throw new MongoCommandError('InvalidOptions', 'Transactions need a session (lsid) and a txnNumber.');
    }
    if (!ALLOWED_IN_TRANSACTION.has(name)) {
      throw new MongoCommandError(
        'OperationNotSupportedInTransaction',
        `Cannot run '${name}' in a multi-document transaction.`,
      );
    }
    if (name === 'aggregate') assertAggregateAllowed(command);
    const key = valueKey(lsid.id ?? lsid);
    const current = this.sessions.get(key);
    if (current && current.txnNumber > txnNumber) {
      throw new MongoCommandError(
        'TransactionTooOld',
        `Cannot start transaction ${txnNumber} on session because a newer transaction ${current.txnNumber} has already started.`,
      );
    }
    if (command.startTransaction === true) {
      if (current?.txnNumber === txnNumber) {
        throw new MongoCommandError(
          'ConflictingOperationInProgress',
          `Cannot start transaction ${txnNumber} on session because it has already started.`,
        );
      }
      if (current?.state === 'inProgress') this.finish(current, 'aborted', 'a newer transaction started');
      const started: SessionTransaction = {
        txnNumber,
        state: 'inProgress',
        transaction: new Transaction(this.engine, this.engine.documentLocks, {
          id: this.nextId++,
          lsid,
          txnNumber,
        }),
        startedAt: this.options.now(),
      };
      this.sessions.delete(key);
      this.sessions.set(key, started);
      this.open.add(started);
      this.sweeper ??= setInterval(() => this.abortExpired(), SWEEP_INTERVAL_MS).unref();
      if (this.sessions.size > MAX_SESSIONS) this.forgetOldestFinished();
      return started;
    }
    if (current?.txnNumber !== txnNumber) {
      throw noSuchTransaction(
        `Given transaction number ${txnNumber} does not match any in-progress transactions. The active transaction number is ${current?.txnNumber ?? -1}`,
      );
    }
    if (current.state === 'committed' && name !== 'commitTransaction') {
      throw new MongoCommandError('TransactionCommitted', `Transaction ${txnNumber} has been committed.`);
    }
    if (current.state === 'aborted') {
      const reason = current.abortReason ? ` (${current.abortReason})` : '';
      throw noSuchTransaction(`Transaction with { txnNumber: ${txnNumber} } has been aborted${reason}.`);
    }
    return current;
  }

  /** Commits (a retried commit of a committed transaction succeeds again); a failed commit aborts. */
  commit(session: SessionTransaction): void {
    if (session.state === 'committed') return;
    try {
      session.transaction.commit();
      session.state = 'committed';
    } catch (error) {
      session.state = 'aborted';
      session.abortReason = 'its commit failed';
      throw error;
    } finally {
      this.closed(session);
    }
  }

  abort(session: SessionTransaction, reason: string): void {
    if (session.state === 'inProgress') this.finish(session, 'aborted', reason);
  }

  /** After a command ran in a transaction: a failed statement aborts the transaction, as in mongod. */
  afterCommand(name: string, command: Document, reply: Document): void {
    const lsid = command.lsid as Document | undefined;
    const current = lsid ? this.sessions.get(valueKey(lsid.id ?? lsid)) : undefined;
    const session =
      current?.state === 'inProgress' && current.txnNumber === commandNumber(command.txnNumber)
        ? current
        : undefined;
    const failed = reply.ok === 0 || (Array.isArray(reply.writeErrors) && reply.writeErrors.length > 0);
    if (!failed) return;
    const isCommitOrAbort = name === 'commitTransaction' || name === 'abortTransaction';
    if (session && !isCommitOrAbort) this.abort(session, `'${name}' failed inside it`);
  }

  /** Ends sessions (endSessions, killSessions): their transactions in progress are aborted, as in mongod. */
  endSessions(lsids: readonly Document[]): void {
    for (const lsid of lsids) {
      const session = this.sessions.get(valueKey(lsid.id ?? lsid));
      if (session) this.abort(session, 'its session ended');
    }
  }

  /** killAllSessions: every transaction in progress is aborted. */
  abortAll(): void {
    for (const session of [...this.open]) this.abort(session, 'all sessions were killed');
  }

  /** Aborts every transaction older than the lifetime limit, releasing what it holds. */
  abortExpired(): void {
    const oldestAllowed = this.options.now() - this.lifetimeLimitSeconds * 1000;
    for (const session of this.open) {
      if (session.startedAt < oldestAllowed) {
        this.finish(
          session,
          'aborted',
          `it ran longer than transactionLifetimeLimitSeconds (${this.lifetimeLimitSeconds})`,
        );
      }
    }
  }

  private finish(session: SessionTransaction, state: TransactionState, reason: string): void {
    session.transaction.abort();
    session.state = state;
    session.abortReason = reason;
    this.closed(session);
  }

  private closed(session: SessionTransaction): void {
    this.open.delete(session);
    if (this.open.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private forgetOldestFinished(): void {
    for (const [key, session] of this.sessions) {
      if (session.state !== 'inProgress') {
        this.sessions.delete(key);
        return;
      }
    }
  }
}
