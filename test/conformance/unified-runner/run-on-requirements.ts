// runOnRequirements against the server under test: version from buildInfo, topology from hello, and what this
// environment never provides (auth, Atlas Serverless, client-side encryption).
import type { MongoClient } from 'mongodb';
import { assertMatches } from './matcher.js';
import type { RunOnRequirement } from './test-format.js';

export type Topology = 'single' | 'replicaset' | 'sharded' | 'load-balanced';

export interface ServerFacts {
  version: string;
  topology: Topology;
  /** getParameter results, fetched once per parameter. */
  parameters: Map<string, unknown>;
  client: MongoClient;
}

export async function readServerFacts(client: MongoClient): Promise<ServerFacts> {
  const admin = client.db('admin');
  const buildInfo = await admin.command({ buildInfo: 1 });
  const hello = await admin.command({ hello: 1 });
  let topology: Topology = 'single';
  if (hello.msg === 'isdbgrid') topology = 'sharded';
  else if (typeof hello.setName === 'string') topology = 'replicaset';
  if (client.options.loadBalanced) topology = 'load-balanced';
  return { version: String(buildInfo.version), topology, parameters: new Map(), client };
}

/** Compares dotted versions numerically, missing components as 0 ("4.2" == "4.2.0"). */
export function compareVersions(a: string, b: string): number {
  const left = a.split('-')[0]!.split('.').map(Number);
  const right = b.split('-')[0]!.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

function topologyMatches(wanted: string[], actual: Topology): boolean {
  // A replica set is not a sharded cluster; "sharded-replicaset" only matches sharded clusters.
  return wanted.some(
    (topology) => topology === actual || (topology === 'sharded-replicaset' && actual === 'sharded'),
  );
}

async function parameterMatches(facts: ServerFacts, name: string, expected: unknown): Promise<boolean> {
  if (!facts.parameters.has(name)) {
    try {
      const reply = await facts.client.db('admin').command({ getParameter: 1, [name]: 1 });
      facts.parameters.set(name, reply[name]);
    } catch {
      facts.parameters.set(name, undefined);
    }
  }
  const actual = facts.parameters.get(name);
  if (actual === undefined) return false;
  try {
    assertMatches(expected, actual, { value: () => undefined, sessionLsid: () => ({}) }, false);
    return true;
  } catch {
    return false;
  }
}

/** Why `requirement` is not met here, or null when it is. */
async function unmetReason(requirement: RunOnRequirement, facts: ServerFacts): Promise<string | null> {
  if (requirement.minServerVersion && compareVersions(facts.version, requirement.minServerVersion) < 0) {
    return `requires server >= ${requirement.minServerVersion} (server is ${facts.version})`;
  }
  if (requirement.maxServerVersion && compareVersions(facts.version, requirement.maxServerVersion) > 0) {
    return `requires server <= ${requirement.maxServerVersion} (server is ${facts.version})`;
  }
  if (requirement.topologies && !topologyMatches(requirement.topologies, facts.topology)) {
    return `requires topology ${requirement.topologies.join('|')} (server is ${facts.topology})`;
  }
  if (requirement.serverless === 'require') return 'requires Atlas Serverless';
  if (requirement.auth === true) return 'requires authentication (not enabled)';
  if (requirement.authMechanism !== undefined) return `requires auth mechanism ${requirement.authMechanism}`;
  if (requirement.csfle !== undefined && requirement.csfle !== false) {
    return 'requires client-side field level encryption (libmongocrypt not available)';
  }
  for (const [name, value] of Object.entries(requirement.serverParameters ?? {})) {
    if (!(await parameterMatches(facts, name, value))) {
      return `requires server parameter ${name}=${JSON.stringify(value)}`;
    }
  }
  return null;
}

/** null when at least one requirement is met (or there are none); otherwise the reasons, joined. */
export async function requirementsSkipReason(
  requirements: RunOnRequirement[] | undefined,
  facts: ServerFacts,
): Promise<string | null> {
  if (!requirements || requirements.length === 0) return null;
  const reasons: string[] = [];
  for (const requirement of requirements) {
    const reason = await unmetReason(requirement, facts);
    if (reason === null) return null;
    reasons.push(reason);
  }
  return [...new Set(reasons)].join('; or ');
}
