// Tests that need more than the one member the embedded server's replica set has. Skipped with that reason; against
// MONGODB_URL (a real replica set with secondaries) they run.
const NEEDS_SECONDARY =
  'needs a secondary: the transaction inherits readPreference secondary and the driver selects a secondary, ' +
  'but the embedded server is a one-member replica set';

/** Keyed by `<file>: <description>`. */
export const TOPOLOGY_LIMITS: Readonly<Record<string, string>> = {
  'transaction-options.json: readPreference inherited from client': NEEDS_SECONDARY,
  'run-command.json: run command with secondary read preference in client option and primary read preference in transaction options':
    NEEDS_SECONDARY,
};
