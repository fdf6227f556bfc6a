// What this process knows about its connections to MongoDB and Redis: one state per connection, grouped by
// target and role. A group's loss and its recovery are logged once each and reported to metrics; readiness
// reads the groups that are not up.
import type { SagaLogger } from '../logging/saga-logger.js';

export type ConnectionTarget = 'redis' | 'mongodb';

/**
 * Redis: `producer` (jobs are queued on it), `worker` (a BullMQ worker's commands), `worker-blocking` (its
 * BZPOPMIN). MongoDB: `client` (the process's MongoClient: store, change streams, leases).
 */
export type ConnectionRole = 'producer' | 'worker' | 'worker-blocking' | 'client';

/** Where connection states are counted; PrometheusSagaMetrics implements it beside SagaMetrics. */
export interface ConnectionMetrics {
  /** Every connection of `target`/`role` is up (true) or at least one is not (false). */
  connectionUp(target: ConnectionTarget, role: ConnectionRole, up: boolean): void;
  /** A connection that had been up is up again. */
  connectionReconnected(target: ConnectionTarget, role: ConnectionRole): void;
}

export function isConnectionMetrics(value: unknown): value is ConnectionMetrics {
  const candidate = value as Partial<ConnectionMetrics> | null | undefined;
  return (
    typeof candidate?.connectionUp === 'function' && typeof candidate.connectionReconnected === 'function'
  );
}

/** What a watched connection reports; `close` when it is gone for good (its owner closed it). */
export interface ConnectionHandle {
  up(): void;
  down(reason: string): void;
  close(): void;
}

type MemberState = { kind: 'connecting' } | { kind: 'up' } | { kind: 'down'; reason: string };

interface Member {
  state: MemberState;
  /** Up at least once: a later `up` is a reconnect. */
  wasUp: boolean;
}

interface Group {
  readonly target: ConnectionTarget;
  readonly role: ConnectionRole;
  readonly members: Set<Member>;
  /** Set while a loss is logged and not yet restored. */
  lostAt: number | null;
  /** The last state reported to metrics, so each change is reported once. */
  reportedUp: boolean | null;
}

/** A group that is not up, for readiness: `redis worker: connection lost (PING not answered within 2000 ms)`. */
export interface ConnectionProblem {
  readonly target: ConnectionTarget;
  readonly role: ConnectionRole;
  readonly reason: string;
}

export interface ConnectionStatesOptions {
  readonly logger: SagaLogger;
  readonly metrics?: ConnectionMetrics;
  /** Milliseconds since an epoch, for the outage's length in the `restored` line; tests inject their own. */
  readonly now?: () => number;
}

export class ConnectionStates {
  private readonly groups = new Map<string, Group>();
  private readonly logger: SagaLogger;
  private readonly metrics: ConnectionMetrics | undefined;
  private readonly now: () => number;

  constructor(options: ConnectionStatesOptions) {
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.now = options.now ?? Date.now;
  }

  /** A new connection, `connecting` until it reports `up`. */
  register(target: ConnectionTarget, role: ConnectionRole): ConnectionHandle {
    const key = `${target}/${role}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { target, role, members: new Set(), lostAt: null, reportedUp: null };
      this.groups.set(key, group);
    }
    const member: Member = { state: { kind: 'connecting' }, wasUp: false };
    const owner = group;
    owner.members.add(member);
    this.changed(owner);
    let closed = false;
    return {
      up: () => {
        if (closed || member.state.kind === 'up') return;
        if (member.wasUp) this.metrics?.connectionReconnected(target, role);
        member.state = { kind: 'up' };
        member.wasUp = true;
        this.changed(owner);
      },
      down: (reason) => {
        if (closed || member.state.kind === 'down') return;
        // A connection that never came up is still connecting: no loss to report, but not ready either.
        member.state = member.wasUp ? { kind: 'down', reason } : { kind: 'connecting' };
        this.changed(owner, member.wasUp ? reason : undefined);
      },
      close: () => {
        if (closed) return;
        closed = true;
        owner.members.delete(member);
        this.changed(owner);
      },
    };
  }

  /** Groups with a connection that is not up (lost, or not connected yet), for readiness. */
  problems(): ConnectionProblem[] {
    const problems: ConnectionProblem[] = [];
    for (const group of this.groups.values()) {
      const notUp = [...group.members].find((member) => member.state.kind !== 'up');
      if (!notUp) continue;
      const reason =
        notUp.state.kind === 'down' ? `connection lost (${notUp.state.reason})` : 'not connected yet';
      problems.push({ target: group.target, role: group.role, reason });
    }
    return problems;
  }

  /** True when every registered connection of `target` is up. */
  isUp(target: ConnectionTarget): boolean {
    return !this.problems().some((problem) => problem.target === target);
  }

  private changed(group: Group, lossReason?: string): void {
    const up = [...group.members].every((member) => member.state.kind === 'up');
    if (group.reportedUp !== up) {
      group.reportedUp = up;
      this.metrics?.connectionUp(group.target, group.role, up);
    }
    const fields = { target: group.target, role: group.role };
    if (lossReason !== undefined && group.lostAt === null) {
      group.lostAt = this.now();
      this.logger.warn({ ...fields, reason: lossReason }, `${group.target} connection lost`);
    } else if (up && group.lostAt !== null) {
      const downMs = this.now() - group.lostAt;
      group.lostAt = null;
      this.logger.info({ ...fields, downMs }, `${group.target} connection restored`);
    }
  }
}
