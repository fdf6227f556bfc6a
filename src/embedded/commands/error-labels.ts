// The error labels mongod (≥ 4.4) adds to a reply itself, so drivers know what they may retry: TransientTransactionError
// (retry the whole transaction) and RetryableWriteError (retry this write, commit or abort). Mirrors mongod's
// ErrorLabelBuilder; a reply that already names its labels (a fail point's errorLabels) is left alone.
import type { Document } from 'bson';

/** Commands whose retry with the same txnNumber is safe (retryable writes). */
export const RETRYABLE_WRITE_COMMANDS: ReadonlySet<string> = new Set([
  'insert',
  'update',
  'delete',
  'findAndModify',
  'findandmodify',
  'bulkWrite',
]);

/** retryable-writes.md "Determining Retryable Errors". */
const RETRYABLE_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/** WriteConflict, LockTimeout, PreparedTransactionInProgress and the snapshot errors. */
const TRANSIENT_CODES = new Set([112, 24, 267, 246, 239, 241, 243]);

/** Inside a transaction, a primary that stopped being one makes the whole transaction worth retrying. */
const NOT_PRIMARY_CODES = new Set([10107, 13435, 13436, 11602, 189, 91, 11600]);

function isTransient(code: number, hasWriteConcernError: boolean, isCommitOrAbort: boolean): boolean {
  if (TRANSIENT_CODES.has(code)) return true;
  // After a commit's NoSuchTransaction with a write concern error, the data may already be durable elsewhere.
  if (code === 251) return !(isCommitOrAbort && hasWriteConcernError);
  return !isCommitOrAbort && NOT_PRIMARY_CODES.has(code);
}

/** Adds the labels mongod would to `reply` (in place). */
export function addErrorLabels(name: string, command: Document, reply: Document): void {
  if ('errorLabels' in reply) return;
  const code = reply.ok === 0 && typeof reply.code === 'number' ? reply.code : undefined;
  const writeConcernError = reply.writeConcernError as Document | undefined;
  const writeConcernCode = typeof writeConcernError?.code === 'number' ? writeConcernError.code : undefined;
  if (code === undefined && writeConcernCode === undefined) return;
  const inTransaction = command.autocommit === false;
  const isCommitOrAbort = name === 'commitTransaction' || name === 'abortTransaction';
  const labels: string[] = [];
  if (
    code !== undefined &&
    inTransaction &&
    isTransient(code, writeConcernCode !== undefined, isCommitOrAbort)
  ) {
    labels.push('TransientTransactionError');
  }
  const isRetryableWrite =
    !inTransaction && command.txnNumber !== undefined && RETRYABLE_WRITE_COMMANDS.has(name);
  if (
    (isRetryableWrite || isCommitOrAbort) &&
    ((code !== undefined && RETRYABLE_CODES.has(code)) ||
      (writeConcernCode !== undefined && RETRYABLE_CODES.has(writeConcernCode)))
  ) {
    labels.push('RetryableWriteError');
  }
  if (labels.length > 0) reply.errorLabels = labels;
}
