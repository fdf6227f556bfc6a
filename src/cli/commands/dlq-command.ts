// `sagastream dlq list|retry <id>|discard <id>`: the dead-letter queue through the admin API.
import type { SagaSummary } from '../../admin/index.js';
import type { CliCommand } from '../cli-command.js';
import { UsageError } from '../usage-error.js';
import {
  ADMIN_OPTIONS_USAGE,
  formatTable,
  parseAdminCommandLine,
  requireOne,
  writeJson,
} from './admin-api-client.js';

const usage = `Usage: sagastream dlq list [--url URL] [--token T] [--json]
       sagastream dlq retry <dead-letter id>
       sagastream dlq discard <dead-letter id>

list     the dead letters: rejected trigger documents and sagas whose compensation failed
retry    redrive the saga (a failed compensation resumes; rejected input is validated again)
discard  drop the dead letter for good; the saga stays as it is
retry and discard need the admin token.

Options:
${ADMIN_OPTIONS_USAGE}`;

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

export const dlqCommand: CliCommand = {
  name: 'dlq',
  summary: 'list, retry or discard dead letters (admin API)',
  usage,
  async run(args, context) {
    const { help, json, positionals, client } = parseAdminCommandLine(args, context);
    if (help) {
      context.stdout.write(`${usage}\n`);
      return 0;
    }
    const [action, ...rest] = positionals;
    switch (action) {
      case 'list': {
        if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0] ?? ''}"`);
        const { items } = await client.get<{ items: DeadLetterView[] }>('/api/dead-letters');
        if (json) writeJson(context, items);
        else if (items.length === 0) context.stdout.write('no dead letters\n');
        else {
          const rows = items.map((entry) => [
            entry.id,
            entry.saga,
            entry.kind,
            entry.step ?? '-',
            entry.attempts,
            entry.at,
            `${entry.error.code}: ${entry.error.message}`.slice(0, 80),
          ]);
          context.stdout.write(
            `${formatTable(['ID', 'SAGA', 'KIND', 'STEP', 'ATTEMPTS', 'AT', 'ERROR'], rows)}\n`,
          );
        }
        return 0;
      }
      case 'retry': {
        const id = requireOne(rest, 'dead-letter id');
        const saga = await client.post<SagaSummary>(`/api/dead-letters/${encodeURIComponent(id)}/retry`);
        if (json) writeJson(context, saga);
        else context.stdout.write(`saga ${saga.id} redriven: now ${saga.status}\n`);
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
