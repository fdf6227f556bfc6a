// The embedded MongoDB-compatible server: a TCP listener, the command dispatcher, and optional --dbpath durability.
import { createServer, type Server, type Socket } from 'node:net';
import { Long, ObjectId } from 'bson';
import { pino } from 'pino';
import type { DispatcherLogger } from './commands/command-dispatcher.js';
import type { ConnectionLogger } from './wire/connection.js';
import type { DiskStoreLogger } from './persistence/disk-store-options.js';
import { isPersistenceIo, type PersistenceIo } from './persistence/persistence-io.js';
import { z } from 'zod';
import { CommandDispatcher } from './commands/command-dispatcher.js';
import type { CommandHandlerFn, ServerIdentity } from './commands/command-context.js';
import { CursorRegistry } from './commands/cursor-registry.js';
import { FailPointRegistry } from './commands/fail-point-commands.js';
import { DiskStore } from './persistence/disk-store.js';
import type { SnapshotData } from './persistence/snapshot-file.js';
import { Engine } from './storage/engine.js';
import { TtlMonitor } from './storage/ttl-monitor.js';
import { Connection } from './wire/connection.js';

/** What the server logs through: pino's shape (a pino logger fits), narrowed to the calls it makes. */
export type EmbeddedLogger = ConnectionLogger & DispatcherLogger & DiskStoreLogger;

export const embeddedMongoOptionsSchema = z.object({
  /** 0 = a free port chosen by the OS. */
  port: z.number().int().min(0).max(65535).default(0),
  /** Loopback by default: this server has no authentication. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Directory for the journal and snapshots; in memory when absent. */
  dbpath: z.string().min(1).optional(),
  /** Change-stream history kept, in oplog entries. */
  historySize: z.number().int().positive().default(100_000),
  replicaSetName: z.string().min(1).default('rs0'),
  /** fsync cadence of the journal. */
  fsyncIntervalMs: z.number().int().min(0).default(100),
  /** Test seam: the journal's and snapshot's file writes and fsyncs, so tests can make the disk fail. */
  persistenceIo: z.custom<PersistenceIo>(isPersistenceIo).optional(),
  logger: z.custom<EmbeddedLogger>().optional(),
  /** Registers test-only commands (configureFailPoint), like mongod's enableTestCommands=1. Never in production. */
  enableTestCommands: z.boolean().default(false),
  /**
   * The MongoDB release the server presents as: 8.0 (buildInfo 8.0.x, wire version 25, the `bulkWrite` command and
   * per-statement `sort` in updates), or 7.0 (wire version 21, neither), for testing code that must also run
   * against a 7.0 deployment.
   */
  serverVersion: z.enum(['8.0', '7.0']).default('8.0'),
  /**
   * Seconds between TTL monitor passes, 60 like mongod; setParameter ttlMonitorSleepSecs changes it at runtime.
   * Fractions are allowed here so tests need not wait whole seconds.
   */
  ttlMonitorSleepSecs: z.number().positive().default(60),
  /** Transactions open longer are aborted (mongod's default is 60; setParameter changes it at run time). */
  transactionLifetimeLimitSeconds: z.number().int().positive().default(60),
  /**
   * Now in epoch milliseconds, as the TTL monitor, transaction lifetimes and maxTimeMS deadlines see it; tests inject
   * one to expire documents, transactions or long reads without waiting.
   */
  now: z.custom<() => number>((value) => typeof value === 'function').default(() => Date.now),
});

export type EmbeddedMongoOptions = z.input<typeof embeddedMongoOptionsSchema>;

/** buildInfo's version and hello's maxWireVersion for each release the server can present as. */
const RELEASES = {
  '8.0': { version: '8.0.4', maxWireVersion: 25 },
  '7.0': { version: '7.0.15', maxWireVersion: 21 },
} as const;

export class EmbeddedMongoServer {
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;
  private snapshotting = false;
  private stopping: Promise<void> | null = null;

  private constructor(
    private readonly listener: Server,
    private readonly engine: Engine,
    private readonly cursors: CursorRegistry,
    private readonly store: DiskStore | null,
    private readonly logger: EmbeddedLogger,
    readonly host: string,
    readonly port: number,
    readonly replicaSetName: string,
    private readonly ttlMonitor: TtlMonitor,
  ) {}

  /** `mongodb://host:port/?replicaSet=rs0`: the driver sees a single-node replica-set primary. */
  get uri(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `mongodb://${host}:${this.port}/?replicaSet=${this.replicaSetName}`;
  }

  static async start(
    input: EmbeddedMongoOptions = {},
    extraCommands: Record<string, CommandHandlerFn> = {},
  ): Promise<EmbeddedMongoServer> {
    const options = embeddedMongoOptionsSchema.parse(input);
    const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'warn', name: 'embedded-mongo' });
    const engine = new Engine({ historySize: options.historySize });
    let store: DiskStore | null = null;
    if (options.dbpath) {
      const opened = await DiskStore.open(options.dbpath, {
        fsyncIntervalMs: options.fsyncIntervalMs,
        logger,
        ...(options.persistenceIo ? { io: options.persistenceIo } : {}),
      });
      store = opened.store;
      const { snapshot, journal } = opened.recovered;
      if (snapshot) {
        for (const collection of snapshot.collections) {
          engine.restoreCollection(
            { db: collection.db, coll: collection.coll },
            collection.uuid,
            collection.options,
            collection.indexes,
            collection.documents,
          );
        }
      }
      for (const entry of journal) engine.replay(entry);
      const history = [...(snapshot?.history ?? []), ...journal];
      const clusterTime = journal.at(-1)?.ts ?? snapshot?.clusterTime;
      if (clusterTime) engine.restoreHistory(history, clusterTime, snapshot?.truncatedThrough ?? null);
      logger.info(
        { dbpath: options.dbpath, collections: engine.allCollections().length, replayed: journal.length },
        'embedded MongoDB recovered its data',
      );
      // Write-ahead: a batch the journal refuses is undone and never reaches change streams (ARCHITECTURE.md).
      engine.useWriteAheadLog(store);
    }
    const cursors = new CursorRegistry();
    const listener = createServer();
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(options.port, options.host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    const address = listener.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const identity: ServerIdentity = {
      setName: options.replicaSetName,
      defaultHost: `${options.host}:${port}`,
      release: options.serverVersion,
      version: RELEASES[options.serverVersion].version,
      maxWireVersion: RELEASES[options.serverVersion].maxWireVersion,
      startedAt: new Date(),
      processId: String(process.pid),
      topologyVersion: { processId: new ObjectId(), counter: Long.fromNumber(0) },
      parameters: { ttlMonitorSleepSecs: options.ttlMonitorSleepSecs },
    };
    const ttlMonitor = new TtlMonitor(engine, {
      intervalMs: () => identity.parameters.ttlMonitorSleepSecs * 1000,
      clock: options.now,
      onError: (error) => logger.error({ err: error }, 'TTL monitor pass failed; retrying on the next one'),
    });
    const server = new EmbeddedMongoServer(
      listener,
      engine,
      cursors,
      store,
      logger,
      options.host,
      port,
      options.replicaSetName,
      ttlMonitor,
    );
    const failPoints = options.enableTestCommands ? new FailPointRegistry() : null;
    const dispatcher = new CommandDispatcher(
      engine,
      cursors,
      identity,
      logger,
      { ...failPoints?.commands, ...extraCommands },
      failPoints?.interceptor,
      {
        transactions: { lifetimeLimitSeconds: options.transactionLifetimeLimitSeconds, now: options.now },
        now: options.now,
        ...(failPoints ? { transactionalWriteFailure: failPoints.transactionalWriteFailure } : {}),
      },
    );
    listener.on('connection', (socket: Socket) => server.accept(socket, dispatcher));
    if (store) engine.onCommit(() => server.maybeSnapshot());
    ttlMonitor.start();
    return server;
  }

  private accept(socket: Socket, dispatcher: CommandDispatcher): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, this.nextConnectionId++, dispatcher.handle, this.logger);
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
  }

  /** Starts a snapshot when the journal has grown past its limit; one at a time. */
  private maybeSnapshot(): void {
    if (!this.store?.needsSnapshot || this.snapshotting || this.stopping) return;
    this.snapshotting = true;
    this.store
      .writeSnapshot(this.snapshotData())
      .catch((error: unknown) =>
        this.logger.error({ err: error }, 'writing a snapshot failed; the journal keeps growing'),
      )
      .finally(() => {
        this.snapshotting = false;
      });
  }

  /** A consistent picture of everything: documents are never mutated in place, so references suffice. */
  private snapshotData(): SnapshotData {
    return {
      clusterTime: this.engine.oplog.clusterTime,
      truncatedThrough: this.engine.oplog.truncatedBefore,
      history: this.engine.oplog.retained(),
      collections: this.engine.allCollections().map((collection) => ({
        db: collection.ns.db,
        coll: collection.ns.coll,
        uuid: collection.uuid.toHexString(),
        options: collection.options,
        indexes: collection.indexSpecs(),
        documents: [...collection.documents.values()],
      })),
    };
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops listening, closes connections and cursors, and makes everything durable. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.ttlMonitor.stop();
      await new Promise<void>((resolve) => {
        this.listener.close(() => resolve());
        for (const connection of this.connections) connection.close();
      });
      this.cursors.closeAll();
      if (this.store) {
        try {
          await this.store.writeSnapshot(this.snapshotData());
        } finally {
          await this.store.close();
        }
      }
    })();
    return this.stopping;
  }
}

export function startEmbeddedMongoServer(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongoServer> {
  return EmbeddedMongoServer.start(options);
}
