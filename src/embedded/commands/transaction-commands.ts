// commitTransaction and abortTransaction, endSessions and killSessions (which abort a session's transaction). The
// transactionLifetimeLimitSeconds parameter is set and read with the others (handshake-commands.ts).
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { commandNumber, type CommandContext, type CommandHandlerFn } from './command-context.js';
import type { SessionTransaction } from './transaction-sessions.js';

function transactionOf(context: CommandContext, name: string): SessionTransaction {
  if (!context.transaction) {
    throw new MongoCommandError(
      'InvalidOptions',
      `'${name}' must be run inside a transaction (with lsid, txnNumber and autocommit: false).`,
    );
  }
  return context.transaction;
}

/**
 * A single member cannot satisfy `w` above 1 or a tag set: the commit is applied and reported, as mongod does,
 * with a writeConcernError that the driver surfaces (and does not retry).
 */
function writeConcernErrorOf(command: Document): Document | undefined {
  const writeConcern = command.writeConcern as Document | undefined;
  const w: unknown = writeConcern?.w;
  const members = commandNumber(w);
  if (members !== undefined && members > 1) {
    return { code: 100, codeName: 'UnsatisfiableWriteConcern', errmsg: 'Not enough data-bearing nodes' };
  }
  if (typeof w === 'string' && w !== 'majority') {
    return {
      code: 79,
      codeName: 'UnknownReplWriteConcern',
      errmsg: `No write concern mode named '${w}' found`,
    };
  }
  return undefined;
}

const commitTransaction: CommandHandlerFn = (context) => {
  context.transactions.commit(transactionOf(context, 'commitTransaction'));
  const writeConcernError = writeConcernErrorOf(context.command);
  return writeConcernError ? { writeConcernError } : {};
};

const abortTransaction: CommandHandlerFn = (context) => {
  const session = transactionOf(context, 'abortTransaction');
  if (session.state === 'committed') {
    throw new MongoCommandError(
      'TransactionCommitted',
      `Transaction ${session.txnNumber} has been committed.`,
    );
  }
  context.transactions.abort(session, 'abortTransaction');
  return {};
};

/** The lsids of endSessions/killSessions: `{endSessions: [{id}, ...]}`. */
function sessionsOf(context: CommandContext, name: string): Document[] {
  const value: unknown = context.command[name];
  return Array.isArray(value)
    ? value.filter((lsid): lsid is Document => typeof lsid === 'object' && lsid !== null)
    : [];
}

export const transactionCommands: Record<string, CommandHandlerFn> = {
  endSessions: (context) => {
    context.transactions.endSessions(sessionsOf(context, 'endSessions'));
    return {};
  },
  killSessions: (context) => {
    context.transactions.endSessions(sessionsOf(context, 'killSessions'));
    return {};
  },
  killAllSessions: (context) => {
    context.transactions.abortAll();
    return {};
  },
  commitTransaction,
  abortTransaction,
};
