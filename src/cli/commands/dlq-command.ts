// `sagastream dlq list|retry <id>|discard <id>`: the dead-letter queue through the admin API.
import { MAX_DEAD_LETTER_PAGE_SIZE, type SagaSummary } from '../../admin/index.js';
import { parseDeadLetterJobId } from '../../queue/queue-names.js';
import type { CliCommand } from '../cli-command.js';
import { parsePositiveInteger } from '../parse-cli-options.js';
import { UsageError } from '../usage-error.js';
import {
  ADMIN_OPTIONS_USAGE,
  type AdminApiClient,
  formatTable,
  parseAdminCommandLine,
  requireOne,
  writeJson,
} from './admin-api-client.js';

const usage = `Usage: sagastream dlq list [--limit N] [--after ID | --all] [--url URL] [--token T] [--json]
       sagastream dlq retry <dead-letter id>
       sagastream dlq discard <dead-letter id>

list     the dead letters, by saga id: rejected trigger documents, sagas whose compensation failed,
         and sagas stuck in the queues; a page of --limit (default 100, at most ${MAX_DEAD_LETTER_PAGE_SIZE}) at a time,
         and the command to see the next page when there are more
retry    redrive the saga (a failed compensation resumes; rejected input is validated again); for a stuck
         saga (<saga id>.stuck.g<n>), hand it back to the recovery sweeper and queue its job again
discard  drop the dead letter for good; the saga stays as it is
retry and discard need the admin token.

Options:
  --limit N      dead letters per page (list)
  --after ID     the page after this dead-letter id, as the previous page printed (list)
  --all          every dead letter, page after page (list)
${ADMIN_OPTIONS_USAGE}`;

const LIST_OPTIONS = {
  limit: { type: 'string' },
  after: { type: 'string' },
  all: { type: 'boolean' },
} as const;

interface DeadLetterView {
  id: string;
  sagaId: string;
  saga: string;
  kind: string;
  step?: string;
  error: { code: string; message: string };
  attempts: number;
  at: string;
}

interface DeadLetterPageView {
  items: DeadLetterView[];
  next: string | null;
}

function pagePath(limit: number | undefined, after: string | undefined): string {
  const query = new URLSearchParams();
  if (limit !== undefined) query.set('limit', String(limit));
  if (after !== undefined) query.set('after', after);
  const text = query.toString();
  return text === '' ? '/api/dead-letters' : `/api/dead-letters?${text}`;
}

function formatDeadLetters(items: readonly DeadLetterView[]): string {
  const rows = items.map((entry) => [
    entry.id,
    entry.saga,
    entry.kind,
    entry.step ?? '-',
    entry.attempts,
    entry.at,
    `${entry.error.code}: ${entry.error.message}`.slice(0, 80),
  ]);
  return formatTable(['ID', 'SAGA', 'KIND', 'STEP', 'ATTEMPTS', 'AT', 'ERROR'], rows);
}

async function list(
  client: AdminApiClient,
  options: { limit?: string; after?: string; all?: boolean },
): Promise<DeadLetterPageView> {
  const limit = parsePositiveInteger(options.limit, '--limit');
  if (limit !== undefined && limit > MAX_DEAD_LETTER_PAGE_SIZE) {
    throw new UsageError(`--limit must be at most ${MAX_DEAD_LETTER_PAGE_SIZE}`);
  }
  if (options.all === true && options.after !== undefined) {
    throw new UsageError('--all lists every dead letter; leave out --after');
  }
  let page = await client.get<DeadLetterPageView>(pagePath(limit, options.after));
  if (options.all !== true) return page;
  const items = [...page.items];
  while (page.next !== null) {
    page = await client.get<DeadLetterPageView>(pagePath(limit, page.next));
    items.push(...page.items);
  }
  return { items, next: null };
}

export const dlqCommand: CliCommand = {
  name: 'dlq',
  summary: 'list, retry or discard dead letters (admin API)',
  usage,
  async run(args, context) {
    const { help, json, positionals, options, client } = parseAdminCommandLine(args, context, LIST_OPTIONS);
    if (help) {
      context.stdout.write(`${usage}\n`);
      return 0;
    }
    const [action, ...rest] = positionals;
    if (action !== 'list') {
      const given = Object.keys(options)[0];
      if (given !== undefined) throw new UsageError(`--${given} is an option of "dlq list"`);
    }
    switch (action) {
      case 'list': {
        if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0] ?? ''}"`);
        const page = await list(client, options);
        if (json) writeJson(context, page);
        else if (page.items.length === 0) {
          context.stdout.write(options.after === undefined ? 'no dead letters\n' : 'no more dead letters\n');
        } else context.stdout.write(`${formatDeadLetters(page.items)}\n`);
        if (!json && page.next !== null) {
          const limit = options.limit === undefined ? '' : ` --limit ${options.limit}`;
          context.stdout.write(
            `more dead letters: sagastream dlq list${limit} --after ${page.next} (or --all for every one)\n`,
          );
        }
        return 0;
      }
      case 'retry': {
        const id = requireOne(rest, 'dead-letter id');
        const saga = await client.post<SagaSummary>(`/api/dead-letters/${encodeURIComponent(id)}/retry`);
        if (json) writeJson(context, saga);
        else if (parseDeadLetterJobId(id)?.entry === 'stuck') {
          context.stdout.write(`stuck saga ${saga.id} released, its job queued again: now ${saga.status}\n`);
        } else context.stdout.write(`saga ${saga.id} redriven: now ${saga.status}\n`);
        return 0;
      }
      case 'discard': {
        const id = requireOne(rest, 'dead-letter id');
        await client.delete(`/api/dead-letters/${encodeURIComponent(id)}`);
        context.stdout.write(`dead letter ${id} discarded\n`);
        return 0;
      }
      default:
        throw new UsageError(
          action === undefined ? 'missing action: list, retry or discard' : `unknown action "${action}"`,
        );
    }
  },
};
