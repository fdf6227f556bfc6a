// What queued jobs carry. Step jobs name the exact attempt they stand for (see StepJobRef).
import type { StoredError } from '../model/saga-document.js';
import type { StepJobRef } from '../model/step-job-ref.js';

export type StepJobData = StepJobRef;

export interface DeadlineJobData {
  kind: 'deadline';
  sagaId: string;
  saga: string;
  generation: number;
}

export type DeadLetterKind = 'rejected' | 'compensation-failed' | 'stuck';

export interface DeadLetterJobData {
  sagaId: string;
  saga: string;
  generation: number;
  kind: DeadLetterKind;
  step?: string;
  error: StoredError;
  attempts: number;
  at: string;
}
