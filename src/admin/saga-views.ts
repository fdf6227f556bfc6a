// What the admin API shows of a saga document: a list summary and the full view with its step timeline.
import { versionOf } from '../definition/index.js';
import { EJSON } from 'bson';
import type {
  CompensationRecord,
  HistoryEvent,
  SagaDocument,
  StepRecord,
  StepStatus,
} from '../model/saga-document.js';
import { indexesOf, spanAt, waveAt } from '../model/step-group.js';
import type { ScheduledJobView } from './scheduled-job-view.js';

export interface SagaSummary {
  id: string;
  saga: string;
  /** The definition version the saga runs on. */
  version: number;
  status: SagaDocument['status'];
  key: string;
  /** The step running or being compensated; null once the saga ended. */
  step: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type TimelineOutcome = 'running' | 'completed' | 'failed' | 'timed-out' | 'cancelled';

/**
 * A step's status as shown: the stored one, except for what a cancel or the deadline cut off, and for the step a
 * running saga has scheduled, which is `queued` or `running` as its BullMQ job is.
 */
export type StepStatusView = StepStatus | 'cancelled' | 'queued';

/** One bar of the timeline: one attempt of a step or of its compensation. */
export interface TimelineSegment {
  step: string;
  /** A forward attempt of a parallel group's member: the group (its members' bars run side by side). */
  group?: string;
  phase: 'forward' | 'compensate';
  attempt: number;
  startedAt: Date | null;
  /** Null while the attempt runs. */
  endedAt: Date | null;
  /**
   * Only the first and the latest attempt's start are stored; a middle attempt is drawn from the end of the
   * previous one (so it includes the backoff wait).
   */
  startApproximate: boolean;
  outcome: TimelineOutcome;
}

/**
 * The step running or being compensated; at a parallel group, the group with its unfinished members
 * (`prepare: inventory, courier`), and likewise for a compensation wave.
 */
export function currentStepName(
  saga: Pick<SagaDocument, 'status' | 'steps' | 'stepIndex' | 'compensation'>,
): string | null {
  if (saga.status === 'running') {
    const span = spanAt(saga.steps, saga.stepIndex);
    if (span.end - span.first <= 1) return saga.steps[saga.stepIndex]?.name ?? null;
    const open = indexesOf(span).filter((index) => saga.steps[index]?.status !== 'completed');
    return `${saga.steps[span.first]?.group ?? ''}: ${open.map((index) => saga.steps[index]?.name).join(', ')}`;
  }
  if (saga.status === 'compensating' && saga.compensation) {
    const { plan, position } = saga.compensation;
    const wave = indexesOf(waveAt(saga, position)).map((at) => plan[at]!);
    if (wave.length > 1) {
      const open = wave.filter((index) => saga.steps[index]?.compensation?.status !== 'completed');
      return `${saga.steps[wave[0]!]?.group ?? ''}: ${open.map((index) => saga.steps[index]?.name).join(', ')}`;
    }
    const index = plan[position];
    return index === undefined ? null : (saga.steps[index]?.name ?? null);
  }
  return null;
}

/**
 * An attempt cut off by a cancel or the deadline is stored like a timeout (its effect may exist, which is what
 * compensation needs to know), and a retry the saga will no longer run stays `retrying`. Shown: `cancelled`
 * when an operator cancelled the saga, `timed-out` when its deadline passed.
 */
export function stepStatusView(
  saga: Pick<SagaDocument, 'status' | 'reason'>,
  step: Pick<StepRecord, 'status' | 'late'>,
  job: ScheduledJobView | null = null,
): StepStatusView {
  if (job?.state === 'running') return 'running';
  if (job?.state === 'queued' && step.status !== 'retrying') return 'queued';
  const cutOff =
    (step.status === 'timed-out' && step.late === true) ||
    (step.status === 'retrying' && saga.status !== 'running');
  if (cutOff && saga.reason === 'cancelled') return 'cancelled';
  if (cutOff && saga.reason === 'deadline') return 'timed-out';
  return step.status;
}

/** A next attempt is only due while it can still happen; a failed or finished one keeps no stale date. */
function nextAttemptAt(
  saga: Pick<SagaDocument, 'status'>,
  record: Pick<StepRecord | CompensationRecord, 'status' | 'nextAttemptAt'>,
  running: SagaDocument['status'],
): Date | null {
  return record.status === 'retrying' && saga.status === running ? (record.nextAttemptAt ?? null) : null;
}

export function sagaSummary(saga: SagaDocument): SagaSummary {
  return {
    id: saga._id,
    saga: saga.saga,
    version: versionOf(saga),
    status: saga.status,
    key: saga.key,
    step: currentStepName(saga),
    createdAt: saga.createdAt,
    updatedAt: saga.updatedAt,
  };
}

const FORWARD_END_TYPES: Readonly<Record<string, TimelineOutcome>> = {
  'attempt-failed': 'failed',
  'attempt-timed-out': 'timed-out',
  'step-completed': 'completed',
  'saga-completed': 'completed',
};

const COMPENSATION_END_TYPES: Readonly<Record<string, TimelineOutcome>> = {
  'compensation-attempt-failed': 'failed',
  'step-compensated': 'completed',
  'saga-compensated': 'completed',
  'saga-failed': 'failed',
};

/** The latest history event ending attempt `attempt` of `step` in this phase, not before `notBefore`. */
function endEvent(
  history: readonly HistoryEvent[],
  step: string,
  attempt: number,
  types: Readonly<Record<string, TimelineOutcome>>,
  notBefore: Date | null,
): { at: Date; outcome: TimelineOutcome } | null {
  for (let index = history.length - 1; index >= 0; index--) {
    const event = history[index]!;
    const outcome = types[event.type];
    if (outcome === undefined || event.step !== step || event.attempt !== attempt) continue;
    if (notBefore !== null && event.at.getTime() < notBefore.getTime()) continue;
    return { at: event.at, outcome };
  }
  return null;
}

function forwardSegments(
  step: StepRecord,
  status: StepStatusView,
  history: readonly HistoryEvent[],
  job: ScheduledJobView | null,
): TimelineSegment[] {
  const segments: TimelineSegment[] = [];
  let previousEnd: Date | null = null;
  // A `scheduled` step counts the attempt it waits for, which has no outcome yet.
  const recorded = step.status === 'scheduled' ? step.attempts - 1 : step.attempts;
  for (let attempt = 1; attempt <= recorded; attempt++) {
    const last = attempt === recorded;
    const startedAt =
      attempt === 1 ? (step.startedAt ?? null) : last ? (step.attemptStartedAt ?? previousEnd) : previousEnd;
    const event = endEvent(history, step.name, attempt, FORWARD_END_TYPES, startedAt);
    let endedAt = event?.at ?? null;
    let outcome: TimelineOutcome = event?.outcome ?? 'running';
    if (!event && last && !['running', 'retrying', 'pending', 'queued'].includes(status)) {
      // The final failure is recorded on the step (the saga moved to compensation), not as an attempt event.
      endedAt = step.endedAt ?? null;
      outcome =
        status === 'timed-out' || status === 'completed' || status === 'cancelled' ? status : 'failed';
    }
    segments.push({
      step: step.name,
      phase: 'forward',
      attempt,
      startedAt,
      endedAt,
      startApproximate: attempt > 1 && !last,
      outcome,
    });
    previousEnd = endedAt;
  }
  if (job?.state === 'running') {
    segments.push({
      step: step.name,
      phase: 'forward',
      attempt: recorded + 1,
      startedAt: job.startedAt,
      endedAt: null,
      startApproximate: false,
      outcome: 'running',
    });
  }
  return segments;
}

function compensationSegments(step: StepRecord, history: readonly HistoryEvent[]): TimelineSegment[] {
  const compensation = step.compensation;
  if (!compensation || compensation.status === 'skipped') return [];
  const segments: TimelineSegment[] = [];
  let previousEnd: Date | null = null;
  for (let attempt = 1; attempt <= compensation.attempts; attempt++) {
    const startedAt = attempt === 1 ? (compensation.startedAt ?? null) : previousEnd;
    const event = endEvent(history, step.name, attempt, COMPENSATION_END_TYPES, startedAt);
    const endedAt = event?.at ?? null;
    segments.push({
      step: step.name,
      phase: 'compensate',
      attempt,
      startedAt,
      endedAt,
      startApproximate: attempt > 1,
      outcome: event?.outcome ?? 'running',
    });
    previousEnd = endedAt;
  }
  return segments;
}

/** The BullMQ state of each attempt a running saga has scheduled, by step index (scheduled-job-view.ts). */
export type ScheduledJobViews = ReadonlyMap<number, ScheduledJobView>;

const NO_JOBS: ScheduledJobViews = new Map();

/** A scheduled job's view belongs to the saga's current step (or a member of its current group) only. */
function jobOf(saga: SagaDocument, index: number, jobs: ScheduledJobViews): ScheduledJobView | null {
  return saga.status === 'running' ? (jobs.get(index) ?? null) : null;
}

/** `jobs`: the BullMQ state of the attempts the saga has scheduled, when known. */
export function sagaTimeline(saga: SagaDocument, jobs: ScheduledJobViews = NO_JOBS): TimelineSegment[] {
  const history = saga.history ?? [];
  return saga.steps.flatMap((step, index) => [
    ...forwardSegments(
      step,
      stepStatusView(saga, step, jobOf(saga, index, jobs)),
      history,
      jobOf(saga, index, jobs),
    ).map((segment) => (step.group ? { ...segment, group: step.group } : segment)),
    ...compensationSegments(step, history),
  ]);
}

/** What a saga in a wait step waits for: a signal, or a document of a collection matching a filter. */
export interface WaitingView {
  step: string;
  /** `signal <name>`, or `<database>.<collection>`. */
  for: string;
  /** The filter in relaxed Extended JSON (a document wait); null for a signal. */
  filter: unknown;
  since: Date;
  /** When the step's timeout ends the wait; null: the saga's deadline does. */
  timeoutAt: Date | null;
}

export function waitingView(saga: Pick<SagaDocument, 'waiting' | 'steps'>): WaitingView | null {
  const waiting = saga.waiting;
  if (!waiting) return null;
  return {
    step: saga.steps[waiting.step]?.name ?? '',
    for: waiting.signal === undefined ? waiting.ns : `signal ${waiting.signal}`,
    filter:
      waiting.signal === undefined
        ? (JSON.parse(EJSON.stringify(EJSON.parse(waiting.filter), { relaxed: true })) as unknown)
        : null,
    since: waiting.since,
    timeoutAt: waiting.timeoutAt ?? null,
  };
}

export function sagaDetail(saga: SagaDocument, jobs: ScheduledJobViews = NO_JOBS): Record<string, unknown> {
  return {
    id: saga._id,
    saga: saga.saga,
    version: versionOf(saga),
    status: saga.status,
    key: saga.key,
    generation: saga.generation,
    step: currentStepName(saga),
    input: saga.input,
    ...(saga.validationIssues ? { validationIssues: saga.validationIssues } : {}),
    steps: saga.steps.map((step, index) => ({
      name: step.name,
      /** The parallel group the step is a member of; null for a step on its own. */
      group: step.group ?? null,
      status: stepStatusView(saga, step, jobOf(saga, index, jobs)),
      attempts: step.attempts,
      startedAt: step.startedAt ?? null,
      endedAt: step.endedAt ?? null,
      nextAttemptAt: nextAttemptAt(saga, step, 'running'),
      output: step.output ?? null,
      error: step.error ?? null,
      mayHaveEffect: step.mayHaveEffect === true,
      late: step.late === true,
      compensation: step.compensation
        ? { ...step.compensation, nextAttemptAt: nextAttemptAt(saga, step.compensation, 'compensating') }
        : null,
    })),
    waiting: waitingView(saga),
    reason: saga.reason ?? null,
    error: saga.error ?? null,
    deadline: saga.deadline,
    createdAt: saga.createdAt,
    updatedAt: saga.updatedAt,
    endedAt: saga.endedAt ?? null,
    /** When retention removes it; null while it runs, with retention off, or while a dead letter is open. */
    expiresAt: saga.expiresAt ?? null,
    history: saga.history ?? [],
    timeline: sagaTimeline(saga, jobs),
  };
}
