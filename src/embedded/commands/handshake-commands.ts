// Handshake, identity and session commands: what the driver's monitors and pools send.
import { Long, ObjectId, type Document } from 'bson';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE } from '../wire/wire-protocol.js';
import { MongoCommandError } from '../errors.js';
import { GENERIC_FIELDS } from './command-fields.js';
import { commandNumber, type CommandContext, type CommandHandlerFn } from './command-context.js';

/** Constant so the driver never sees the primary's election go backwards (a decrease marks it stale). */
const ELECTION_ID = new ObjectId('7fffffff0000000000000001');

/** Upper bound on one awaitable hello's wait, whatever the client asks for. */
const MAX_AWAIT_MS = 60_000;

/**
 * `hello`, and the awaitable form the driver's streaming monitor sends (`topologyVersion` + `maxAwaitTimeMS`): while
 * the client's topology version is current, the answer waits up to `maxAwaitTimeMS` (MongoDB holds it until the
 * topology changes, which never happens on a single primary). The monitor then always has a read in flight, so a
 * dropped connection fails its heartbeat at once instead of surfacing on the next poll.
 */
async function hello(context: CommandContext): Promise<Document> {
  const wait = awaitableWait(context);
  if (wait > 0) {
    try {
      await sleep(wait, undefined, { signal: context.connection.signal });
    } catch {
      // The connection closed while waiting: nobody will read the answer.
    }
  }
  return helloReply(context);
}

/** How long an awaitable hello waits: 0 unless the client already knows this server's current topology version. */
function awaitableWait({ command, server }: CommandContext): number {
  const { maxAwaitTimeMS, topologyVersion } = command as {
    maxAwaitTimeMS?: unknown;
    topologyVersion?: unknown;
  };
  if (maxAwaitTimeMS === undefined) return 0;
  const waitMs = commandNumber(maxAwaitTimeMS) ?? Number.NaN;
  if (!Number.isFinite(waitMs) || waitMs < 0) {
    throw new MongoCommandError('BadValue', 'maxAwaitTimeMS must be a non-negative integer');
  }
  if (!topologyVersion || typeof topologyVersion !== 'object') {
    throw new MongoCommandError(
      'BadValue',
      'topologyVersion must be provided if maxAwaitTimeMS is specified',
    );
  }
  const { processId, counter } = topologyVersion as { processId?: unknown; counter?: unknown };
  const current = server.topologyVersion;
  const sameProcess = processId instanceof ObjectId && processId.equals(current.processId);
  const sameCounter = commandNumber(counter) === current.counter.toNumber();
  return sameProcess && sameCounter ? Math.min(waitMs, MAX_AWAIT_MS) : 0;
}

function helloReply(context: CommandContext): Document {
  const { server, connection, engine } = context;
  const me = connection.localAddress.toLowerCase() || server.defaultHost;
  const opTime = { ts: engine.oplog.clusterTime, t: Long.fromNumber(1) };
  const legacy = 'ismaster' in context.command || 'isMaster' in context.command;
  return {
    ...(legacy ? { ismaster: true } : {}),
    isWritablePrimary: true,
    helloOk: true,
    setName: server.setName,
    setVersion: 1,
    electionId: ELECTION_ID,
    hosts: [me],
    primary: me,
    me,
    secondary: false,
    lastWrite: { opTime, lastWriteDate: new Date(), majorityOpTime: opTime, majorityWriteDate: new Date() },
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: connection.connectionId,
    minWireVersion: 0,
    maxWireVersion: server.maxWireVersion,
    readOnly: false,
    topologyVersion: server.topologyVersion,
  };
}

function buildInfo(context: CommandContext): Document {
  const version = context.server.version;
  return {
    version,
    gitVersion: 'sagastream-embedded',
    versionArray: [...version.split('.').map(Number), 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    storageEngines: ['embedded'],
    modules: [],
    javascriptEngine: 'none',
    sysInfo: 'deprecated',
    openssl: { running: 'disabled' },
  };
}

function serverStatus(context: CommandContext): Document {
  const { server, engine, cursors } = context;
  const uptimeMs = Date.now() - server.startedAt.getTime();
  return {
    host: server.defaultHost,
    version: server.version,
    process: 'sagastream-embedded-mongo',
    pid: process.pid,
    uptime: Math.floor(uptimeMs / 1000),
    uptimeMillis: uptimeMs,
    localTime: new Date(),
    repl: { setName: context.server.setName, isWritablePrimary: true, primary: server.defaultHost },
    metrics: { cursor: { open: { total: cursors.size } } },
    oplog: { entries: engine.oplog.size },
    storageEngine: { name: 'embedded', persistent: false },
  };
}

function replSetGetStatus(context: CommandContext): Document {
  const { server, engine, connection } = context;
  const me = connection.localAddress || server.defaultHost;
  return {
    set: server.setName,
    date: new Date(),
    myState: 1,
    term: 1,
    members: [
      {
        _id: 0,
        name: me,
        health: 1,
        state: 1,
        stateStr: 'PRIMARY',
        uptime: Math.floor((Date.now() - server.startedAt.getTime()) / 1000),
        optime: { ts: engine.oplog.clusterTime, t: 1 },
        self: true,
      },
    ],
  };
}

const ok = (): Document => ({});

/** The runtime parameters this server acts on (each an integer number of seconds, at least 1, as mongod's). */
const PARAMETERS: Record<
  string,
  { get(context: CommandContext): number; set(context: CommandContext, seconds: number): void }
> = {
  ttlMonitorSleepSecs: {
    get: (context) => context.server.parameters.ttlMonitorSleepSecs,
    set: (context, seconds) => {
      context.server.parameters.ttlMonitorSleepSecs = seconds;
    },
  },
  transactionLifetimeLimitSeconds: {
    get: (context) => context.transactions.lifetimeLimitSeconds,
    set: (context, seconds) => {
      context.transactions.lifetimeLimitSeconds = seconds;
    },
  },
};

/** setParameter for the parameters this server acts on; the reply carries the previous value, as mongod's. */
function setParameter(context: CommandContext): Document {
  const { command } = context;
  if (context.db !== 'admin') {
    throw new MongoCommandError('Unauthorized', 'setParameter may only be run against the admin database.');
  }
  const reply: Document = {};
  let found = false;
  for (const [name, value] of Object.entries(command)) {
    if (name === 'setParameter' || GENERIC_FIELDS.includes(name)) continue;
    const parameter = PARAMETERS[name];
    if (!parameter) {
      throw new MongoCommandError('InvalidOptions', `attempted to set unrecognized parameter [${name}]`);
    }
    const seconds = commandNumber(value);
    if (seconds === undefined || !Number.isInteger(seconds) || seconds < 1) {
      throw new MongoCommandError(
        'BadValue',
        `${name} must be an integer of at least 1, got ${String(value)}`,
      );
    }
    reply.was = parameter.get(context);
    parameter.set(context, seconds);
    found = true;
  }
  if (!found)
    throw new MongoCommandError('InvalidOptions', 'no option found to set, use help:true to see options');
  return reply;
}

export const handshakeCommands: Record<string, CommandHandlerFn> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: ok,
  buildInfo,
  buildinfo: buildInfo,
  getParameter: (context) => {
    const { command } = context;
    const reply: Document = {};
    if (command.featureCompatibilityVersion !== undefined || command.getParameter === '*') {
      reply.featureCompatibilityVersion = {
        version: context.server.version.split('.').slice(0, 2).join('.'),
      };
    }
    if (command.authenticationMechanisms !== undefined) reply.authenticationMechanisms = [];
    for (const [name, parameter] of Object.entries(PARAMETERS)) {
      if (command[name] !== undefined || command.getParameter === '*') reply[name] = parameter.get(context);
    }
    return reply;
  },
  setParameter,
  serverStatus,
  hostInfo: () => ({
    system: { hostname: 'localhost', cpuArch: process.arch, numCores: 1 },
    os: { type: process.platform },
  }),
  whatsmyuri: (context) => ({ you: context.connection.remoteAddress }),
  getCmdLineOpts: () => ({ argv: ['sagastream', 'mongo'], parsed: {} }),
  getLog: () => ({ totalLinesWritten: 0, log: [] }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] } }),
  replSetGetStatus,
  endSessions: ok,
  killAllSessions: ok,
  killSessions: ok,
  refreshSessions: ok,
  startSession: () => ({ id: { id: new ObjectId() }, timeoutMinutes: 30 }),
  logout: ok,
};
