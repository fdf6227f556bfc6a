// Tests the official Node.js driver itself cannot pass, whatever the server does; skipped with the driver's own
// ticket, as the driver's unified runner skips them (test/integration/crud/crud.spec.test.ts). Never a server issue.
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
};
