// Builds the saga document for a trigger event: `running` when the input validates, `rejected` otherwise.
import { EJSON } from 'bson';
import { requireTrigger, validateValue, type SagaDefinition } from '../definition/index.js';
import type { ValidationIssue } from '../errors/index.js';
import type { SagaDocument, StepRecord } from '../model/saga-document.js';
import { sagaIdFor } from '../model/saga-id.js';
import type { TriggerEvent } from './trigger-event.js';

export function freshSteps(definition: SagaDefinition): StepRecord[] {
  return definition.steps.map((step) => ({
    name: step.name,
    ...(step.group ? { group: step.group.name } : {}),
    status: 'pending',
    attempts: 0,
  }));
}

function keyOf(definition: SagaDefinition, event: TriggerEvent): { key: string; error?: string } {
  try {
    return { key: requireTrigger(definition).trigger.key(event.document) };
  } catch (error) {
    // Without a usable key the document still gets exactly one (rejected) saga, keyed by its documentKey
    // (`{ _id }`) in canonical Extended JSON, which tells `1` from `'1'` and an ObjectId from its hex.
    return {
      key: `${INVALID_KEY_PREFIX}${EJSON.stringify(event.documentKey, { relaxed: false })}`,
      error: (error as Error).message,
    };
  }
}

const INVALID_KEY_PREFIX = 'invalid-key:';

/**
 * The key the first versions stored this event's saga under, when it differs from today's: such a saga is
 * still this document's, if it was started for the same `_id` (`sameTriggerDocument`).
 */
export function legacyKeyOf(
  definition: SagaDefinition,
  event: TriggerEvent,
  key: string,
): string | undefined {
  if (key.startsWith(INVALID_KEY_PREFIX)) {
    const legacy = `${INVALID_KEY_PREFIX}${JSON.stringify(event.documentKey)}`;
    return legacy === key ? undefined : legacy;
  }
  return requireTrigger(definition).trigger.legacyKey?.(event.document);
}

/** Whether two trigger document keys name the same document: the same `_id`, BSON type included. */
export function sameTriggerDocument(documentKey: unknown, other: unknown): boolean {
  return canonicalId(documentKey) === canonicalId(other);
}

function canonicalId(documentKey: unknown): string {
  const id = (documentKey as { _id?: unknown } | null)?._id;
  return EJSON.stringify({ id: id ?? null }, { relaxed: false });
}

function commonFields(definition: SagaDefinition, key: string, now: Date) {
  return {
    // Derived from (saga, key): a replayed event or a second watcher makes the same `_id`, which exists already.
    _id: sagaIdFor(definition.name, key),
    saga: definition.name,
    version: definition.version,
    key,
    stepIndex: 0,
    generation: 0,
    steps: freshSteps(definition),
    deadline: new Date(now.getTime() + definition.timeoutMs),
    revision: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/** A saga started from code (`SagaClient.start`): its input is already validated, and it has no trigger. */
export function codeStartedSagaDocument(
  definition: SagaDefinition,
  input: unknown,
  key: string,
  now = new Date(),
): SagaDocument {
  return {
    ...commonFields(definition, key, now),
    status: 'running',
    input,
    history: [{ at: now, type: 'saga-started', message: 'started from code' }],
  };
}

export async function newSagaDocument(
  definition: SagaDefinition,
  event: TriggerEvent,
  now = new Date(),
): Promise<SagaDocument> {
  const { key, error: keyError } = keyOf(definition, event);
  const base = {
    ...commonFields(definition, key, now),
    trigger: {
      ns: event.ns,
      documentKey: event.documentKey,
      operationType: event.operationType,
      ...(event.clusterTime ? { clusterTime: event.clusterTime } : {}),
    },
  };
  const parsed = keyError ? null : await validateValue(definition.input, event.document);
  if (parsed?.success) {
    return {
      ...base,
      status: 'running',
      input: parsed.data,
      history: [{ at: now, type: 'saga-started' }],
    };
  }
  const issues = parsed
    ? storedIssues(parsed.issues)
    : [{ path: '(key)', message: keyError ?? 'invalid key' }];
  const message = `input rejected: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`;
  return {
    ...base,
    status: 'rejected',
    input: null,
    rawInput: event.document,
    validationIssues: issues,
    reason: 'invalid-input',
    error: { message: message.slice(0, 4096), code: 'INPUT_VALIDATION_FAILED', name: 'ValidationError' },
    endedAt: now,
    history: [{ at: now, type: 'saga-rejected', message: message.slice(0, 1000) }],
  };
}

/** Validation issues as stored on a rejected saga: the value itself is `(root)`. */
export function storedIssues(issues: readonly ValidationIssue[]): { path: string; message: string }[] {
  return issues.map((issue) => ({ path: issue.path || '(root)', message: issue.message }));
}
