// Dead-letter entries derived from the saga document, which stays the durable record.
import type { DeadLetterJobData, DeadLetterKind } from '../queue/job-data.js';
import { versionOf } from '../definition/index.js';
import type { SagaDocument } from '../model/saga-document.js';

export function deadLetterFor(saga: SagaDocument, kind: DeadLetterKind): DeadLetterJobData {
  // The compensation that failed names the entry; else the forward step that failed.
  const failedStep =
    saga.steps.find((step) => step.compensation?.status === 'failed') ??
    saga.steps.find((step) => step.status === 'failed');
  return {
    sagaId: saga._id,
    saga: saga.saga,
    version: versionOf(saga),
    generation: saga.generation,
    kind,
    ...(failedStep ? { step: failedStep.name } : {}),
    error: saga.error ?? { message: 'unknown failure', code: 'UNEXPECTED' },
    attempts: failedStep ? (failedStep.compensation?.attempts ?? failedStep.attempts) : 0,
    at: (saga.endedAt ?? saga.updatedAt).toISOString(),
    ...(saga.trace ? { trace: saga.trace.traceparent } : {}),
  };
}

export function deadLetterKindOf(saga: SagaDocument): DeadLetterKind {
  return saga.status === 'rejected' ? 'rejected' : 'compensation-failed';
}
