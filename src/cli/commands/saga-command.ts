// `sagastream saga <id>`: one saga and its step timeline in the terminal, from the admin API.
import type { TimelineSegment } from '../../admin/index.js';
import type { CliCommand } from '../cli-command.js';
import {
  ADMIN_OPTIONS_USAGE,
  formatTable,
  parseAdminCommandLine,
  requireOne,
  writeJson,
} from './admin-api-client.js';

const usage = `Usage: sagastream saga <saga id> [--url URL] [--token T] [--json]

Shows a saga: status, input, each step with its attempts, and the timeline of every attempt and
compensation with its duration (~ marks a duration whose start is approximate).

Options:
${ADMIN_OPTIONS_USAGE}`;

interface SagaDetailView {
  id: string;
  saga: string;
  version: number;
  status: string;
  key: string;
  step: string | null;
  reason: string | null;
  error: { code: string; message: string } | null;
  input: unknown;
  createdAt: string;
  endedAt: string | null;
  waiting?: { step: string; for: string; filter: unknown; since: string; timeoutAt: string | null } | null;
  steps: {
    name: string;
    /** Absent from servers before parallel groups. */
    group?: string | null;
    status: string;
    attempts: number;
    compensation: { status: string } | null;
  }[];
  timeline: (Omit<TimelineSegment, 'startedAt' | 'endedAt'> & {
    startedAt: string | null;
    endedAt: string | null;
  })[];
}

/** `~` marks a duration measured from an approximate start (see TimelineSegment.startApproximate). */
function took(segment: SagaDetailView['timeline'][number]): string {
  const { startedAt: from, endedAt: to } = segment;
  if (from === null) return '';
  const end = to === null ? Date.now() : Date.parse(to);
  const ms = Math.max(0, end - Date.parse(from));
  const text = ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(2)}s`;
  return `${segment.startApproximate ? '~' : ''}${text}${to === null ? '…' : ''}`;
}

const APPROXIMATE_NOTE =
  '~ approximate: only the first and the latest attempt of a step record their start; a middle attempt is\n' +
  '  timed from the end of the one before, so its time includes the backoff wait';

/** Short input on the key line's level, longer input indented below. */
function formatInput(input: unknown): string {
  const compact = JSON.stringify(input) ?? 'null';
  if (compact.length <= 100) return `input ${compact}`;
  const pretty = JSON.stringify(input, null, 2) ?? 'null';
  return `input\n${pretty.replace(/^/gm, '  ')}`;
}

/** `waiting payment-captured for shop.payments {"orderId":"o-1"} since … until …`. */
function formatWaiting(waiting: NonNullable<SagaDetailView['waiting']>): string {
  const filter = waiting.filter === null ? '' : ` ${JSON.stringify(waiting.filter)}`;
  const until = waiting.timeoutAt === null ? '' : ` until ${waiting.timeoutAt}`;
  return `waiting ${waiting.step} for ${waiting.for}${filter} since ${waiting.since}${until}`;
}

/** A bar per attempt on a 40-column scale from the saga's creation to its end (or now). */
export function formatSaga(saga: SagaDetailView): string {
  const width = 40;
  const start = Date.parse(saga.createdAt);
  const ends = saga.timeline.flatMap((segment) => (segment.endedAt ? [Date.parse(segment.endedAt)] : []));
  const end = Math.max(saga.endedAt ? Date.parse(saga.endedAt) : Date.now(), ...ends, start + 1);
  const column = (time: number) => Math.min(width, Math.round(((time - start) / (end - start)) * width));
  const symbol: Record<string, string> = {
    completed: '█',
    failed: '✗',
    'timed-out': '⧖',
    cancelled: '⊘',
    running: '▶',
  };
  const rows = saga.timeline.map((segment) => {
    const from = segment.startedAt === null ? 0 : column(Date.parse(segment.startedAt));
    const to = segment.endedAt === null ? width : column(Date.parse(segment.endedAt));
    const mark =
      segment.phase === 'compensate' && segment.outcome === 'completed'
        ? '▒'
        : (symbol[segment.outcome] ?? '?');
    const bar = ' '.repeat(from) + mark.repeat(Math.max(1, to - from));
    return [
      segment.step,
      segment.phase === 'forward' ? `attempt ${segment.attempt}` : `undo ${segment.attempt}`,
      segment.outcome,
      took(segment),
      `|${bar.padEnd(width)}|`,
    ];
  });
  const lines = [
    `saga ${saga.id}  ${saga.saga} v${saga.version}  ${saga.status.toUpperCase()}`,
    `key ${saga.key}${saga.step ? `  step ${saga.step}` : ''}${saga.reason ? `  reason ${saga.reason}` : ''}`,
    ...(saga.error ? [`error ${saga.error.code}: ${saga.error.message}`] : []),
    ...(saga.waiting ? [formatWaiting(saga.waiting)] : []),
    formatInput(saga.input),
    '',
    formatTable(
      ['STEP', 'STATUS', 'ATTEMPTS', 'COMPENSATION'],
      // A parallel group's members are marked with the group: `∥ prepare  reserve-inventory`.
      saga.steps.map((step) => [
        step.group ? `∥ ${step.group}  ${step.name}` : step.name,
        step.status,
        step.attempts,
        step.compensation?.status ?? '-',
      ]),
    ),
    '',
    rows.length === 0
      ? '(no attempts yet)'
      : formatTable(['STEP', 'ATTEMPT', 'OUTCOME', 'TOOK', 'TIMELINE'], rows),
    ...(saga.timeline.some((segment) => segment.startApproximate) ? [APPROXIMATE_NOTE] : []),
  ];
  return lines.join('\n');
}

export const sagaCommand: CliCommand = {
  name: 'saga',
  summary: 'show one saga and its step timeline (admin API)',
  usage,
  async run(args, context) {
    const { help, json, positionals, client } = parseAdminCommandLine(args, context);
    if (help) {
      context.stdout.write(`${usage}\n`);
      return 0;
    }
    const id = requireOne(positionals, 'saga id');
    const saga = await client.get<SagaDetailView>(`/api/sagas/${encodeURIComponent(id)}`);
    if (json) writeJson(context, saga);
    else context.stdout.write(`${formatSaga(saga)}\n`);
    return 0;
  },
};
