// The per-test Entity Map (unified-test-format.md "Entity Map"): clients with command monitoring, databases,
// collections, sessions, change streams, cursors and saved values, created from `createEntities`.
import {
  MongoClient,
  ReadPreference,
  type ChangeStream,
  type ClientSession,
  type Collection,
  type CommandFailedEvent,
  type CommandStartedEvent,
  type CommandSucceededEvent,
  type Db,
  type Document,
  type FindCursor,
  type AggregationCursor,
  type MongoClientOptions,
  type ReadPreferenceLike,
} from 'mongodb';
import type { MatchEntities } from './matcher.js';

export type CommandEventType = 'commandStartedEvent' | 'commandSucceededEvent' | 'commandFailedEvent';

export interface ObservedCommandEvent {
  type: CommandEventType;
  commandName: string;
  databaseName: string;
  command?: Document;
  reply?: Document;
  failure?: unknown;
  serviceId?: unknown;
  serverConnectionId?: unknown;
}

/** Commands whose events MUST be ignored (command monitoring spec, "Security"), plus the runner's fail points. */
const SENSITIVE_COMMANDS = new Set([
  'authenticate',
  'saslstart',
  'saslcontinue',
  'getnonce',
  'createuser',
  'updateuser',
  'copydbgetnonce',
  'copydbsaslstart',
  'copydb',
]);

/**
 * The command as it was sent. The driver hands a transaction's first command the client's readConcern object itself
 * and later adds afterClusterTime to it in place (sessions.js applySession), which would rewrite an event already
 * recorded; the read and write concerns are copied when the event fires.
 */
function asSent(command: Document): Document {
  const copy: Document = { ...command };
  for (const field of ['readConcern', 'writeConcern']) {
    const value: unknown = command[field];
    if (value && typeof value === 'object') copy[field] = { ...(value as Document) };
  }
  return copy;
}

export class ClientEntity {
  readonly events: ObservedCommandEvent[] = [];
  /** Turned off once the operations are done, so cleanup (killCursors, endSessions) is not asserted. */
  recording = true;

  constructor(
    readonly client: MongoClient,
    observe: ReadonlySet<string>,
    private readonly ignored: ReadonlySet<string>,
  ) {
    const record = (event: ObservedCommandEvent): void => {
      if (!this.recording || !observe.has(event.type) || this.isIgnored(event)) return;
      this.events.push(event);
    };
    client.on('commandStarted', (event: CommandStartedEvent) =>
      record({
        type: 'commandStartedEvent',
        commandName: event.commandName,
        databaseName: event.databaseName,
        command: asSent(event.command),
        serviceId: event.serviceId,
        serverConnectionId: event.serverConnectionId,
      }),
    );
    client.on('commandSucceeded', (event: CommandSucceededEvent) =>
      record({
        type: 'commandSucceededEvent',
        commandName: event.commandName,
        databaseName: event.databaseName,
        reply: event.reply as Document,
        serviceId: event.serviceId,
        serverConnectionId: event.serverConnectionId,
      }),
    );
    client.on('commandFailed', (event: CommandFailedEvent) =>
      record({
        type: 'commandFailedEvent',
        commandName: event.commandName,
        databaseName: event.databaseName,
        failure: event.failure,
        serviceId: event.serviceId,
        serverConnectionId: event.serverConnectionId,
      }),
    );
  }

  private isIgnored(event: ObservedCommandEvent): boolean {
    const name = event.commandName;
    if (name === 'configureFailPoint' || this.ignored.has(name)) return true;
    if (SENSITIVE_COMMANDS.has(name.toLowerCase())) return true;
    // hello/legacy hello carrying speculativeAuthenticate is redacted by the driver to an empty document.
    const helloLike = ['hello', 'ismaster'].includes(name.toLowerCase());
    return helloLike && event.command !== undefined && Object.keys(event.command).length === 0;
  }
}

export type Entity =
  | { kind: 'client'; value: ClientEntity }
  | { kind: 'database'; value: Db }
  | { kind: 'collection'; value: Collection }
  | { kind: 'session'; value: ClientSession; lsid: Document; client: MongoClient }
  | { kind: 'changeStream'; value: ChangeStream }
  | { kind: 'cursor'; value: FindCursor | AggregationCursor }
  | { kind: 'value'; value: unknown };

type EntityKind = Entity['kind'];
type EntityOf<K extends EntityKind> = Extract<Entity, { kind: K }>;
type EntityValue<K extends EntityKind> = EntityOf<K>['value'];

/** `readPreference`/`readConcern`/`writeConcern` as the test format writes them, as driver options. */
export function commonOptions(options: Document | undefined): Document {
  if (!options) return {};
  const out: Document = { ...options };
  if (options.readPreference) out.readPreference = toReadPreference(options.readPreference as Document);
  return out;
}

export function toReadPreference(spec: Document | string): ReadPreferenceLike {
  if (typeof spec === 'string') return spec as ReadPreferenceLike;
  const { mode, tagSets, maxStalenessSeconds, hedge } = spec as {
    mode: string;
    tagSets?: Document[];
    maxStalenessSeconds?: number;
    hedge?: Document;
  };
  const lowerFirst = `${mode.charAt(0).toLowerCase()}${mode.slice(1)}`;
  return new ReadPreference(lowerFirst as 'primary', tagSets, { maxStalenessSeconds, hedge });
}

/** The test's connection string with `uriOptions` applied (keys override, case-insensitively). */
export function clientUri(baseUri: string, uriOptions: Document | undefined): string {
  const queryStart = baseUri.indexOf('?');
  let base = queryStart === -1 ? baseUri : baseUri.slice(0, queryStart);
  const params = new URLSearchParams(queryStart === -1 ? '' : baseUri.slice(queryStart + 1));
  if (!base.slice('mongodb://'.length).includes('/')) base += '/';
  for (const [key, value] of Object.entries(uriOptions ?? {})) {
    for (const existing of [...params.keys()])
      if (existing.toLowerCase() === key.toLowerCase()) params.delete(existing);
    if (key === 'directConnection' && value === true) params.delete('replicaSet');
    const values: unknown[] = key === 'readPreferenceTags' && Array.isArray(value) ? value : [value];
    for (const item of values) {
      params.append(
        key,
        typeof item === 'object' && item !== null
          ? Object.entries(item as Document)
              .map(([k, v]) => `${k}:${String(v)}`)
              .join(',')
          : String(item),
      );
    }
  }
  const query = params.toString();
  return query ? `${base}?${query}` : base;
}

export interface EntityMapOptions {
  uri: string;
}

export class EntityMap implements MatchEntities {
  private readonly entities = new Map<string, Entity>();

  constructor(private readonly options: EntityMapOptions) {}

  has(name: string): boolean {
    return this.entities.has(name);
  }

  set(name: string, entity: Entity): void {
    if (this.entities.has(name)) throw new Error(`entity ${name} is already defined`);
    this.entities.set(name, entity);
  }

  get(name: string): Entity {
    const entity = this.entities.get(name);
    if (!entity) throw new Error(`entity ${name} is not defined`);
    return entity;
  }

  getAs<K extends EntityKind>(name: string, kind: K): EntityValue<K> {
    return this.getEntity(name, kind).value as EntityValue<K>;
  }

  getEntity<K extends EntityKind>(name: string, kind: K): EntityOf<K> {
    const entity = this.get(name);
    if (entity.kind !== kind) throw new Error(`entity ${name} is a ${entity.kind}, expected a ${kind}`);
    return entity as EntityOf<K>;
  }

  clients(): Array<[string, ClientEntity]> {
    return [...this.entities].flatMap(([name, entity]) =>
      entity.kind === 'client' ? [[name, entity.value]] : [],
    );
  }

  value(name: string): unknown {
    return this.get(name).value;
  }

  sessionLsid(name: string): Document {
    const entity = this.get(name);
    if (entity.kind !== 'session') throw new Error(`entity ${name} is a ${entity.kind}, expected a session`);
    return entity.lsid;
  }

  /** Creates the entities of `createEntities` in order (a database needs its client first, and so on). */
  create(specs: Document[]): void {
    for (const spec of specs) {
      const [kind, raw] = Object.entries(spec)[0] ?? [];
      const options = raw as Document;
      const id = options.id as string;
      switch (kind) {
        case 'client':
          this.set(id, { kind: 'client', value: this.createClient(options) });
          break;
        case 'database': {
          const client = this.getAs(options.client as string, 'client').client;
          const db = client.db(
            options.databaseName as string,
            commonOptions(options.databaseOptions as Document),
          );
          this.set(id, { kind: 'database', value: db });
          break;
        }
        case 'collection': {
          const db = this.getAs(options.database as string, 'database');
          const collection = db.collection(
            options.collectionName as string,
            commonOptions(options.collectionOptions as Document),
          );
          this.set(id, { kind: 'collection', value: collection });
          break;
        }
        case 'session': {
          const client = this.getAs(options.client as string, 'client').client;
          const session = client.startSession((options.sessionOptions ?? {}) as Document);
          const lsid = session.id;
          if (!lsid) throw new Error(`session ${id} has no logical session id`);
          this.set(id, { kind: 'session', value: session, lsid, client });
          break;
        }
        default:
          throw new Error(`unsupported entity type ${String(kind)}`);
      }
    }
  }

  private createClient(spec: Document): ClientEntity {
    for (const unsupported of [
      'autoEncryptOpts',
      'observeLogMessages',
      'storeEventsAsEntities',
      'observeTracingMessages',
    ]) {
      if (spec[unsupported] !== undefined)
        throw new Error(`client option ${unsupported} is not supported by this runner`);
    }
    const uriOptions = spec.uriOptions as Document | undefined;
    const options: MongoClientOptions = { monitorCommands: true };
    // Fail fast when a server stops answering instead of waiting the driver's default 30 s.
    if (!uriOptions || !('serverSelectionTimeoutMS' in uriOptions)) options.serverSelectionTimeoutMS = 5000;
    if (spec.serverApi) options.serverApi = spec.serverApi as MongoClientOptions['serverApi'];
    const client = new MongoClient(clientUri(this.options.uri, uriOptions), options);
    const observe = new Set((spec.observeEvents as string[] | undefined) ?? []);
    const ignored = new Set((spec.ignoreCommandMonitoringEvents as string[] | undefined) ?? []);
    return new ClientEntity(client, observe, ignored);
  }

  /** Stops recording events on every client. */
  stopRecording(): void {
    for (const [, client] of this.clients()) client.recording = false;
  }

  /** Closes change streams and cursors, ends sessions, closes clients; errors are ignored, as the spec asks. */
  async close(): Promise<void> {
    const all = [...this.entities.values()];
    const settle = (promises: Array<Promise<unknown>>): Promise<unknown> => Promise.allSettled(promises);
    await settle(
      all.flatMap((entity) =>
        entity.kind === 'changeStream' || entity.kind === 'cursor' ? [entity.value.close()] : [],
      ),
    );
    await settle(all.flatMap((entity) => (entity.kind === 'session' ? [entity.value.endSession()] : [])));
    await settle(all.flatMap((entity) => (entity.kind === 'client' ? [entity.value.client.close()] : [])));
    this.entities.clear();
  }
}
