// A saga version's shape and its hash: what a stored saga of that version relies on (step names and order, which
// steps compensate, timeouts and retries, the trigger). Stored per (name, version); a process whose definition of
// a version has another shape refuses to start (store/definition-store.ts). A definition's `retention` is left out on
// purpose: how long finished sagas are kept changes nothing a running saga relies on, so it needs no new version.
import { createHash } from 'node:crypto';
import { EJSON } from 'bson';
import type { ResolvedRetryPolicy } from './retry-policy.js';
import type { SagaDefinition } from './saga-definition.js';

export interface StepShape {
  name: string;
  compensates: boolean;
  timeoutMs: number;
  retry: ResolvedRetryPolicy;
  /** A parallel group's member: the group's name. */
  group?: string;
  /** A wait step's collection, operations, timeout and what a timeout does (its `match` is code: not hashed). */
  wait?: {
    collection: string;
    database: string | null;
    on: string[];
    timeoutMs: number | null;
    onTimeout: string;
  };
}

export interface DefinitionShape {
  steps: StepShape[];
  timeoutMs: number;
  compensation: { timeoutMs: number; retry: ResolvedRetryPolicy };
  /** The trigger's filter in canonical Extended JSON, so ObjectIds, dates and regexes compare exactly. */
  trigger: { collection: string; database: string | null; on: string[]; filter: string } | null;
}

function retryShape(retry: ResolvedRetryPolicy): ResolvedRetryPolicy {
  const { type, delayMs, maxDelayMs, jitter } = retry.backoff;
  return { attempts: retry.attempts, backoff: { type, delayMs, maxDelayMs, jitter } };
}

export function definitionShape(definition: SagaDefinition): DefinitionShape {
  const { trigger } = definition;
  return {
    steps: definition.steps.map((step) => ({
      name: step.name,
      compensates: step.compensate !== undefined,
      timeoutMs: step.timeoutMs,
      retry: retryShape(step.retry),
      // Only members carry the key, so the hashes of sagas without groups are what they were.
      ...(step.group ? { group: step.group.name } : {}),
      // Only wait steps carry the key, so the shapes (and hashes) of sagas without waits are what they were.
      ...(step.kind === 'wait'
        ? {
            wait: {
              collection: step.wait.collection,
              database: step.wait.database ?? null,
              on: [...step.wait.on],
              timeoutMs: step.wait.timeoutMs ?? null,
              onTimeout: step.wait.onTimeout,
              ...(step.wait.signal === undefined ? {} : { signal: step.wait.signal }),
            },
          }
        : {}),
    })),
    timeoutMs: definition.timeoutMs,
    compensation: {
      timeoutMs: definition.compensation.timeoutMs,
      retry: retryShape(definition.compensation.retry),
    },
    trigger:
      trigger === undefined
        ? null
        : {
            collection: trigger.collection,
            database: trigger.database ?? null,
            on: [...trigger.on],
            filter: EJSON.stringify(trigger.filter, { relaxed: false }),
          },
  };
}

/** SHA-256 of the shape's JSON (every object above is built in a fixed key order). */
export function definitionFingerprint(shape: DefinitionShape): string {
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex');
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function describeRetry(retry: ResolvedRetryPolicy): string {
  const { type, delayMs, maxDelayMs, jitter } = retry.backoff;
  return `${retry.attempts} attempts, ${type} from ${delayMs}ms (max ${maxDelayMs}ms, jitter ${jitter})`;
}

/** What differs between the shape stored for a version and this process's, one line per difference. */
export function describeShapeChanges(stored: DefinitionShape, current: DefinitionShape): string[] {
  const changes: string[] = [];
  const storedNames = stored.steps.map((step) => step.name);
  const currentNames = current.steps.map((step) => step.name);
  if (!same(storedNames, currentNames)) {
    changes.push(`steps changed from [${storedNames.join(', ')}] to [${currentNames.join(', ')}]`);
  }
  for (const step of current.steps) {
    const before = stored.steps.find((candidate) => candidate.name === step.name);
    if (!before) continue;
    if (before.compensates !== step.compensates) {
      changes.push(`step "${step.name}": compensation ${step.compensates ? 'added' : 'removed'}`);
    }
    if (before.timeoutMs !== step.timeoutMs) {
      changes.push(`step "${step.name}": timeout changed from ${before.timeoutMs}ms to ${step.timeoutMs}ms`);
    }
    if (!same(before.retry, step.retry)) {
      changes.push(
        `step "${step.name}": retry changed from ${describeRetry(before.retry)} to ${describeRetry(step.retry)}`,
      );
    }
    if ((before.group ?? null) !== (step.group ?? null)) {
      const describe = (group: string | undefined) => (group === undefined ? 'no group' : `group "${group}"`);
      changes.push(`step "${step.name}": moved from ${describe(before.group)} to ${describe(step.group)}`);
    }
    if (!same(before.wait ?? null, step.wait ?? null)) {
      changes.push(
        `step "${step.name}": wait changed from ${JSON.stringify(before.wait ?? null)} to ${JSON.stringify(step.wait ?? null)}`,
      );
    }
  }
  if (stored.timeoutMs !== current.timeoutMs) {
    changes.push(`saga timeout changed from ${stored.timeoutMs}ms to ${current.timeoutMs}ms`);
  }
  if (stored.compensation.timeoutMs !== current.compensation.timeoutMs) {
    changes.push(
      `compensation timeout changed from ${stored.compensation.timeoutMs}ms to ${current.compensation.timeoutMs}ms`,
    );
  }
  if (!same(stored.compensation.retry, current.compensation.retry)) {
    changes.push(
      `compensation retry changed from ${describeRetry(stored.compensation.retry)} to ` +
        describeRetry(current.compensation.retry),
    );
  }
  if (!same(stored.trigger, current.trigger)) {
    const describe = (trigger: DefinitionShape['trigger']) =>
      trigger === null
        ? 'none'
        : `${trigger.database ?? '(default database)'}.${trigger.collection} on ${trigger.on.join('/')} ` +
          `where ${trigger.filter}`;
    changes.push(`trigger changed from ${describe(stored.trigger)} to ${describe(current.trigger)}`);
  }
  // A shape stored by another release of sagastream may differ in a field this one does not describe.
  if (changes.length === 0) changes.push('the stored shape differs from this definition');
  return changes;
}
