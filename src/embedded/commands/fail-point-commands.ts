// Test-only `configureFailPoint` (registered with enableTestCommands, like mongod's enableTestCommands=1): the
// failCommand and failGetMoreAfterCursorCheckout fail points that make chosen commands fail, stall or drop the
// connection, so drivers' retry and change-stream resume paths can be exercised against this server.
import type { Document } from 'bson';
import { MongoCommandError, codeNameOf } from '../errors.js';
import type { ConnectionContext } from '../wire/connection.js';
import {
  commandNumber,
  type CommandContext,
  type CommandHandlerFn,
  type CommandInterceptor,
  type InterceptedCommand,
  type TransactionalWriteFailure,
} from './command-context.js';

const FAIL_POINT_NAMES = [
  'failCommand',
  'failGetMoreAfterCursorCheckout',
  'onPrimaryTransactionalWrite',
] as const;
type FailPointName = (typeof FAIL_POINT_NAMES)[number];

/** Codes on which MongoDB ≥ 4.4 labels a change-stream getMore error ResumableChangeStreamError (change-streams.md). */
const RESUMABLE_CODES = new Map<number, string>([
  [6, 'HostUnreachable'],
  [7, 'HostNotFound'],
  [43, 'CursorNotFound'],
  [63, 'StaleShardVersion'],
  [89, 'NetworkTimeout'],
  [91, 'ShutdownInProgress'],
  [133, 'FailedToSatisfyReadPreference'],
  [150, 'StaleEpoch'],
  [189, 'PrimarySteppedDown'],
  [234, 'RetryChangeStream'],
  [262, 'ExceededTimeLimit'],
  [9001, 'SocketException'],
  [10107, 'NotWritablePrimary'],
  [11600, 'InterruptedAtShutdown'],
  [11602, 'InterruptedDueToReplStateChange'],
  [13388, 'StaleConfig'],
  [13435, 'NotPrimaryNoSecondaryOk'],
  [13436, 'NotPrimaryOrSecondary'],
]);

/** Names of other codes tests commonly inject; the rest get MongoDB's `Location<code>` fallback. */
const OTHER_CODE_NAMES = new Map<number, string>([
  [50, 'MaxTimeMSExpired'],
  [11601, 'Interrupted'],
  [24, 'LockTimeout'],
  [64, 'WriteConcernFailed'],
  [79, 'UnknownReplWriteConcern'],
  [100, 'UnsatisfiableWriteConcern'],
  [112, 'WriteConflict'],
  [246, 'SnapshotUnavailable'],
  [267, 'PreparedTransactionInProgress'],
  [216, 'ElectionInProgress'],
  [251, 'NoSuchTransaction'],
  [280, 'ChangeStreamFatalError'],
  [11000, 'DuplicateKey'],
]);

function codeName(code: number): string {
  return RESUMABLE_CODES.get(code) ?? OTHER_CODE_NAMES.get(code) ?? codeNameOf(code);
}

/** `times` counts down to off; `skip` lets that many matching commands through, then stays on. */
type FailPointMode =
  { kind: 'alwaysOn' } | { kind: 'times'; remaining: number } | { kind: 'skip'; remaining: number };

interface ActiveFailPoint {
  mode: FailPointMode;
  data: Document;
}

function parseMode(raw: unknown): FailPointMode | null {
  if (raw === 'off') return null;
  if (raw === 'alwaysOn') return { kind: 'alwaysOn' };
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const mode = raw as Document;
    const times = commandNumber(mode.times);
    if (times !== undefined && times >= 0) {
      return times === 0 ? null : { kind: 'times', remaining: times };
    }
    const skip = commandNumber(mode.skip);
    if (skip !== undefined && skip >= 0) return { kind: 'skip', remaining: skip };
  }
  throw new MongoCommandError(
    'BadValue',
    `invalid fail point mode ${JSON.stringify(raw)}; use 'alwaysOn', 'off', {times: n} or {skip: n}`,
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** The fail points of one server: `commands` registers configureFailPoint, `interceptor` applies them. */
export class FailPointRegistry {
  private readonly active = new Map<FailPointName, ActiveFailPoint>();
  /** appName from each connection's handshake, for failCommand's `appName` filter. */
  private readonly appNames = new WeakMap<ConnectionContext, string>();

  readonly commands: Record<string, CommandHandlerFn> = {
    configureFailPoint: (context) => this.configure(context),
  };

  readonly interceptor: CommandInterceptor = (call, execute) => this.intercept(call, execute);

  /**
   * onPrimaryTransactionalWrite, consumed once per attempt of a retryable write: mongod's hook that drops the
   * connection after the write is applied (the driver's retry must get the first result) or fails it before.
   */
  readonly transactionalWriteFailure = (): TransactionalWriteFailure | undefined => {
    const point = this.active.get('onPrimaryTransactionalWrite');
    if (!point) return undefined;
    const { mode } = point;
    if (mode.kind === 'skip' && mode.remaining > 0) {
      mode.remaining -= 1;
      return undefined;
    }
    if (mode.kind === 'times') {
      mode.remaining -= 1;
      if (mode.remaining <= 0) this.active.delete('onPrimaryTransactionalWrite');
    }
    const code = commandNumber(point.data.failBeforeCommitExceptionCode);
    return {
      ...(code === undefined ? {} : { failBeforeCommitCode: code }),
      closeConnection: point.data.closeConnection !== false,
    };
  };

  private configure(context: CommandContext): Document {
    if (context.db !== 'admin') {
      throw new MongoCommandError(
        'Unauthorized',
        'configureFailPoint may only be run against the admin database.',
      );
    }
    const name = context.command.configureFailPoint as unknown;
    if (!FAIL_POINT_NAMES.includes(name as FailPointName)) {
      throw new MongoCommandError(
        'BadValue',
        `unknown fail point ${JSON.stringify(name)}; this server supports ${FAIL_POINT_NAMES.join(', ')}`,
      );
    }
    const failPoint = name as FailPointName;
    const data = (context.command.data ?? {}) as unknown;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new MongoCommandError(
        'TypeMismatch',
        "BSON field 'data' is the wrong type, expected type 'object'",
      );
    }
    if (failPoint === 'failCommand' && !Array.isArray((data as Document).failCommands)) {
      if (context.command.mode !== 'off') {
        throw new MongoCommandError(
          'BadValue',
          "failCommand requires 'data.failCommands', an array of command names",
        );
      }
    }
    const mode = parseMode(context.command.mode);
    const previous = this.active.get(failPoint);
    if (mode) this.active.set(failPoint, { mode, data: data });
    else this.active.delete(failPoint);
    return { count: previous ? 1 : 0 };
  }

  private async intercept(call: InterceptedCommand, execute: () => Promise<Document>): Promise<Document> {
    const application = (call.command.client as Document | undefined)?.application as Document | undefined;
    if (typeof application?.name === 'string') this.appNames.set(call.connection, application.name);
    if (this.active.size === 0 || call.name === 'configureFailPoint') return execute();

    const getMoreFailure =
      call.name === 'getMore' ? this.fire('failGetMoreAfterCursorCheckout', call) : undefined;
    if (getMoreFailure) return this.errorReply(call, getMoreFailure.data, true);

    const failure = this.fire('failCommand', call);
    if (!failure) return execute();
    const { data } = failure;
    if (data.blockConnection === true && typeof data.blockTimeMS === 'number') {
      await sleep(data.blockTimeMS, call.connection.signal);
    }
    if (data.closeConnection === true) {
      call.connection.close();
      return { ok: 0, errmsg: 'connection closed by the failCommand fail point', code: 6 };
    }
    if (typeof data.errorCode === 'number') return this.errorReply(call, data, false);
    const reply = await execute();
    if (data.writeConcernError && typeof data.writeConcernError === 'object') {
      reply.writeConcernError = data.writeConcernError as Document;
      if (Array.isArray(data.errorLabels)) reply.errorLabels = data.errorLabels as string[];
    }
    return reply;
  }

  /** Consumes one activation of a fail point when it applies to this command, returning its data. */
  private fire(name: FailPointName, call: InterceptedCommand): ActiveFailPoint | undefined {
    const point = this.active.get(name);
    if (!point || !this.applies(name, point.data, call)) return undefined;
    const { mode } = point;
    if (mode.kind === 'skip') {
      if (mode.remaining > 0) {
        mode.remaining -= 1;
        return undefined;
      }
    } else if (mode.kind === 'times') {
      mode.remaining -= 1;
      if (mode.remaining <= 0) this.active.delete(name);
    }
    return point;
  }

  private applies(name: FailPointName, data: Document, call: InterceptedCommand): boolean {
    if (name === 'failGetMoreAfterCursorCheckout') return call.name === 'getMore';
    const failCommands = Array.isArray(data.failCommands) ? (data.failCommands as unknown[]) : [];
    if (!failCommands.includes(call.name)) return false;
    if (typeof data.appName === 'string' && this.appNames.get(call.connection) !== data.appName) return false;
    if (typeof data.namespace === 'string') {
      const target = call.command[call.name] as unknown;
      const coll = call.name === 'getMore' ? (call.command.collection as unknown) : target;
      if (data.namespace !== `${call.db}.${typeof coll === 'string' ? coll : ''}`) return false;
    }
    return true;
  }

  /**
   * `{ok: 0, code, codeName, errmsg, errorLabels?}`. Explicit `errorLabels` replace the server's own labels. Without
   * them, only an error raised after the cursor is checked out (failGetMoreAfterCursorCheckout) gets the
   * ResumableChangeStreamError label for a resumable code, as in MongoDB ≥ 4.4: failCommand fires before mongod knows
   * the getMore is on a change stream, so it adds no label (change-streams-resume-errorLabels.json relies on both).
   */
  private errorReply(call: InterceptedCommand, data: Document, afterCursorCheckout: boolean): Document {
    const code = typeof data.errorCode === 'number' ? data.errorCode : 1;
    const reply: Document = {
      ok: 0,
      errmsg: `Failing command ${call.name} via '${afterCursorCheckout ? 'failGetMoreAfterCursorCheckout' : 'failCommand'}' failpoint`,
      code,
      codeName: codeName(code),
    };
    // Explicit labels, even none, replace the ones the server would add (error-labels.ts).
    if (Array.isArray(data.errorLabels)) {
      reply.errorLabels = data.errorLabels as string[];
    } else if (afterCursorCheckout && RESUMABLE_CODES.has(code)) {
      reply.errorLabels = ['ResumableChangeStreamError'];
    }
    return reply;
  }
}
