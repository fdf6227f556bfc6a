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
};
