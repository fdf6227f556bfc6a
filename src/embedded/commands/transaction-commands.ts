// commitTransaction and abortTransaction, and the transactionLifetimeLimitSeconds server parameter
// (setParameter, and getParameter on top of the handshake's answer).
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { commandNumber, type CommandContext, type CommandHandlerFn } from './command-context.js';
import { handshakeCommands } from './handshake-commands.js';
import type { SessionTransaction } from './transaction-sessions.js';

const LIFETIME_PARAMETER = 'transactionLifetimeLimitSeconds';

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

const setParameter: CommandHandlerFn = (context) => {
  if (context.db !== 'admin') {
    throw new MongoCommandError('Unauthorized', 'setParameter may only be run against the admin database.');
  }
  const raw: unknown = context.command[LIFETIME_PARAMETER];
  if (raw === undefined) {
    throw new MongoCommandError('InvalidOptions', `no option found to set, use help:true to see options`);
  }
  const seconds = commandNumber(raw);
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < 1) {
    throw new MongoCommandError(
      'BadValue',
      `${LIFETIME_PARAMETER} must be an integer of at least 1, got ${JSON.stringify(raw)}`,
    );
  }
  const was = context.transactions.lifetimeLimitSeconds;
  context.transactions.lifetimeLimitSeconds = seconds;
  return { was };
};

const getParameter: CommandHandlerFn = async (context) => {
  const reply = await handshakeCommands.getParameter!(context);
  const { command } = context;
  if (command[LIFETIME_PARAMETER] !== undefined || command.getParameter === '*') {
    reply[LIFETIME_PARAMETER] = context.transactions.lifetimeLimitSeconds;
  }
  return reply;
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
  setParameter,
  getParameter,
};
