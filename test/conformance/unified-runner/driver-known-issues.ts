// Tests the official Node.js driver itself cannot pass, whatever the server does; skipped with the driver's own
// ticket where it has one (as the driver's unified runner skips them, test/integration/crud/crud.spec.test.ts), else
// with the driver code that decides it. Never a server issue.
const WTIMEOUT_ADDED =
  'Node.js driver behaviour: commitTransaction/abortTransaction add wtimeout 10000 to any configured write concern ' +
  '(mongodb/lib/sessions.js), so the first attempt never carries the write concern exactly as the test expects';

/** Keyed by test description, or by `<file>: <description>` where a description is not unique across files. */
export const DRIVER_KNOWN_ISSUES: Readonly<Record<string, string>> = {
  // The driver replaces a null _id with a new ObjectId before sending the insert (utils.maybeAddIdToDocuments).
  'inserting _id with type null via insertOne':
    'Node.js driver limitation NODE-6468: null _id is replaced client-side',
  'inserting _id with type null via insertMany':
    'Node.js driver limitation NODE-6468: null _id is replaced client-side',
  'inserting _id with type null via bulkWrite':
    'Node.js driver limitation NODE-6468: null _id is replaced client-side',
  'inserting _id with type null via clientBulkWrite':
    'Node.js driver limitation NODE-6468: null _id is replaced client-side',
  // The driver's MongoClientBulkWriteError always carries a partialResult (all counts 0 when no write succeeded);
  // the CRUD spec says it is unset then (results_merger.js sets it unconditionally).
  'partialResult is unset when first operation fails during an ordered bulk write (verbose)':
    'Node.js driver limitation: partialResult is set even when no write succeeded',
  'partialResult is unset when first operation fails during an ordered bulk write (summary)':
    'Node.js driver limitation: partialResult is set even when no write succeeded',
  'partialResult is unset when all operations fail during an unordered bulk write':
    'Node.js driver limitation: partialResult is set even when no write succeeded',
  // After a network error the BulkWriteResult lists every document of the batch as inserted: the driver subtracts
  // only writeErrors (mongodb/lib/bulk/common.js getSuccessfullyInsertedIds).
  'bulkWrite.json: First insertOne is never committed':
    'Node.js driver behaviour: insertedIds after a network error name documents never inserted',
  'delete.json: collection writeConcern ignored for delete': WTIMEOUT_ADDED,
  'transaction-options.json: transaction options inherited from client': WTIMEOUT_ADDED,
  'error-labels-errorLabels.json: add RetryableWriteError and UnknownTransactionCommitResult labels to writeConcernError ShutdownInProgress':
    WTIMEOUT_ADDED,
  'error-labels.json: add UnknownTransactionCommitResult label to MaxTimeMSExpired': WTIMEOUT_ADDED,
  'error-labels.json: add UnknownTransactionCommitResult label to writeConcernError MaxTimeMSExpired':
    WTIMEOUT_ADDED,
  'error-labels.json: add UnknownTransactionCommitResult label to writeConcernError WriteConcernTimeout':
    WTIMEOUT_ADDED,
  'error-labels.json: add UnknownTransactionCommitResult label to writeConcernError WriteConcernTimeout with wtimeout':
    WTIMEOUT_ADDED,
  'error-labels.json: omit UnknownTransactionCommitResult label from writeConcernError UnknownReplWriteConcern':
    WTIMEOUT_ADDED,
  'error-labels.json: omit UnknownTransactionCommitResult label from writeConcernError UnsatisfiableWriteConcern':
    WTIMEOUT_ADDED,
  'findOneAndDelete.json: collection writeConcern ignored for findOneAndDelete': WTIMEOUT_ADDED,
  'findOneAndReplace.json: collection writeConcern ignored for findOneAndReplace': WTIMEOUT_ADDED,
  'findOneAndUpdate.json: collection writeConcern ignored for findOneAndUpdate': WTIMEOUT_ADDED,
  'retryable-abort-errorLabels.json: abortTransaction succeeds after WriteConcernError InterruptedAtShutdown':
    WTIMEOUT_ADDED,
  'retryable-abort-errorLabels.json: abortTransaction succeeds after WriteConcernError InterruptedDueToReplStateChange':
    WTIMEOUT_ADDED,
  'retryable-abort-errorLabels.json: abortTransaction succeeds after WriteConcernError PrimarySteppedDown':
    WTIMEOUT_ADDED,
  'retryable-abort-errorLabels.json: abortTransaction succeeds after WriteConcernError ShutdownInProgress':
    WTIMEOUT_ADDED,
  'retryable-abort.json: abortTransaction does not retry after WriteConcernError Interrupted': WTIMEOUT_ADDED,
  'retryable-commit-errorLabels.json: commitTransaction succeeds after WriteConcernError InterruptedAtShutdown':
    WTIMEOUT_ADDED,
  'retryable-commit-errorLabels.json: commitTransaction succeeds after WriteConcernError InterruptedDueToReplStateChange':
    WTIMEOUT_ADDED,
  'retryable-commit-errorLabels.json: commitTransaction succeeds after WriteConcernError PrimarySteppedDown':
    WTIMEOUT_ADDED,
  'retryable-commit-errorLabels.json: commitTransaction succeeds after WriteConcernError ShutdownInProgress':
    WTIMEOUT_ADDED,
  'retryable-commit.json: commitTransaction is not retried after UnsatisfiableWriteConcern error':
    WTIMEOUT_ADDED,
  'transaction-options.json: client writeConcern ignored for bulk': WTIMEOUT_ADDED,
  'transaction-options.json: defaultTransactionOptions override client options': WTIMEOUT_ADDED,
  'transaction-options.json: readConcern local in defaultTransactionOptions': WTIMEOUT_ADDED,
  'transaction-options.json: startTransaction options override defaults': WTIMEOUT_ADDED,
  'transaction-options.json: transaction options inherited from defaultTransactionOptions': WTIMEOUT_ADDED,
  'transaction-options.json: withTransaction explicit transaction options': WTIMEOUT_ADDED,
  'transaction-options.json: withTransaction explicit transaction options override client options':
    WTIMEOUT_ADDED,
  'transaction-options.json: withTransaction explicit transaction options override defaultTransactionOptions':
    WTIMEOUT_ADDED,
  'transaction-options.json: withTransaction inherits transaction options from client': WTIMEOUT_ADDED,
  'transaction-options.json: withTransaction inherits transaction options from defaultTransactionOptions':
    WTIMEOUT_ADDED,
  'update.json: collections writeConcern ignored for update': WTIMEOUT_ADDED,
  'client-bulkWrite.json: client writeConcern ignored for client bulkWrite in transaction': WTIMEOUT_ADDED,
  // The driver refuses a write concern inside a transaction for the other operations, not for MongoClient.bulkWrite
  // (it sends the command), so the client-side error the test expects never comes.
  'client-bulkWrite.json: client bulkWrite with writeConcern in a transaction causes a transaction error':
    'Node.js driver limitation: MongoClient.bulkWrite does not refuse a writeConcern inside a transaction',
  'write-concern.json: abort with majority': WTIMEOUT_ADDED,
  'write-concern.json: commit with majority': WTIMEOUT_ADDED,
};
