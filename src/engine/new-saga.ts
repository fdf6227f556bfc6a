// Builds the saga document for a trigger event: `running` when the input validates, `rejected` otherwise.
import type { SagaDefinition } from '../definition/index.js';
import type { SagaDocument, StepRecord } from '../store/saga-document.js';
import { newSagaId } from './saga-id.js';
import type { TriggerEvent } from './trigger-event.js';

export function freshSteps(definition: SagaDefinition): StepRecord[] {
  return definition.steps.map((step) => ({ name: step.name, status: 'pending', attempts: 0 }));
}

/** Zod issues as stored on a rejected saga: a dotted path and a message each. */
export function validationIssues(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): {
  path: string;
  message: string;
}[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

function keyOf(definition: SagaDefinition, event: TriggerEvent): { key: string; error?: string } {
  try {
    return { key: definition.trigger.key(event.document) };
  } catch (error) {
    // Without a usable key the document still gets exactly one (rejected) saga, keyed by its _id.
    // documentKey is `{ _id }`; String() of it would give every such saga the same key.
    return { key: `invalid-key:${JSON.stringify(event.documentKey)}`, error: (error as Error).message };
  }
}

export function newSagaDocument(
  definition: SagaDefinition,
  event: TriggerEvent,
  now = new Date(),
): SagaDocument {
  const { key, error: keyError } = keyOf(definition, event);
  const base = {
    _id: newSagaId(now.getTime()),
    saga: definition.name,
    version: definition.version,
    key,
    stepIndex: 0,
    generation: 0,
    steps: freshSteps(definition),
    trigger: {
      ns: event.ns,
      documentKey: event.documentKey,
      operationType: event.operationType,
      ...(event.clusterTime ? { clusterTime: event.clusterTime } : {}),
    },
    deadline: new Date(now.getTime() + definition.timeoutMs),
    revision: 0,
    createdAt: now,
    updatedAt: now,
  };
  const parsed = keyError ? null : definition.input.safeParse(event.document);
  if (parsed?.success) {
    return {
      ...base,
      status: 'running',
      input: parsed.data,
      history: [{ at: now, type: 'saga-started' }],
    };
  }
  const issues = parsed
    ? validationIssues(parsed.error)
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
