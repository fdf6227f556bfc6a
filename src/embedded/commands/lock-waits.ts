// mongod makes a write outside any transaction wait for a document an open transaction wrote (it retries its
// WriteConflicts internally) until that transaction commits or aborts, or the write's maxTimeMS passes. Here the
// attempt that reached such a document is undone as a whole, and the command runs again once the holder finished,
// on the documents as they are then.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { RETRYABLE_WRITE_COMMANDS } from './error-labels.js';
import { DocumentLockedError, type LockHolder } from '../storage/document-locks.js';
import type { Engine } from '../storage/engine.js';

/**
 * Write commands whose handlers are synchronous: while locks exist, each attempt runs as one undoable batch. They
 * are the write commands, the set retryable writes cover.
 */
const SYNCHRONOUS_WRITES = RETRYABLE_WRITE_COMMANDS;

/** Commands that may meet a locked document outside a transaction (aggregate: its $out/$merge batch). */
export function mayWaitForLocks(name: string): boolean {
  return SYNCHRONOUS_WRITES.has(name) || name === 'aggregate';
}

export interface LockWaitOptions {
  /** The command's maxTimeMS (0 or absent: no limit). */
  readonly maxTimeMS: number | undefined;
  /** Aborted when the client's connection closes: nobody would get the reply, and a retry may already run. */
  readonly signal: AbortSignal;
}

/**
 * Runs `handler`, again and again while it meets documents held by open transactions, waiting for each holder to
 * end in between. With no lock held anywhere it is just `handler()`, with nothing undoable kept (the hot path).
 */
export async function runWaitingForLocks(
  engine: Engine,
  name: string,
  handler: () => Document | Promise<Document>,
  options: LockWaitOptions,
): Promise<Document> {
  const deadline =
    options.maxTimeMS !== undefined && options.maxTimeMS > 0 ? Date.now() + options.maxTimeMS : undefined;
  for (;;) {
    try {
      return await attempt(engine, name, handler);
    } catch (error) {
      if (!(error instanceof DocumentLockedError)) throw error;
      await waitFor(error.holder, deadline, options.signal);
    }
  }
}

function attempt(
  engine: Engine,
  name: string,
  handler: () => Document | Promise<Document>,
): Document | Promise<Document> {
  if (engine.documentLocks.size === 0 || !SYNCHRONOUS_WRITES.has(name)) return handler();
  // All or nothing: statements before the locked document are undone too, and apply again with the rest.
  return engine.writeAtomically(() => {
    const reply = handler();
    if (reply instanceof Promise) throw new Error(`the ${name} handler must be synchronous`);
    return reply;
  }, {});
}

function waitFor(holder: LockHolder, deadline: number | undefined, signal: AbortSignal): Promise<void> {
  const expired = (): MongoCommandError =>
    new MongoCommandError('MaxTimeMSExpired', 'operation exceeded time limit');
  // Nobody reads the reply; a quiet command error rather than an unexpected one that the server would log.
  const disconnected = (): MongoCommandError =>
    new MongoCommandError(
      'ClientDisconnect',
      'the connection closed while the write waited for a transaction',
    );
  if (signal.aborted) return Promise.reject(disconnected());
  const remaining = deadline === undefined ? undefined : deadline - Date.now();
  if (remaining !== undefined && remaining <= 0) return Promise.reject(expired());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      settle();
      reject(disconnected());
    };
    const timer =
      remaining === undefined
        ? undefined
        : setTimeout(() => {
            settle();
            reject(expired());
          }, remaining);
    const settle = (): void => {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    void holder.finished.then(() => {
      settle();
      resolve();
    });
  });
}
