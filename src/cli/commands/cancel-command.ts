// `sagastream cancel <id>`: cancels a running saga through the admin API (it compensates, then ends `compensated`).
import type { SagaSummary } from '../../admin/index.js';
import type { CliCommand } from '../cli-command.js';
import { ADMIN_OPTIONS_USAGE, parseAdminCommandLine, requireOne, writeJson } from './admin-api-client.js';

const usage = `Usage: sagastream cancel <saga id> [--url URL] [--token T] [--json]

Cancels a running saga: its completed steps are compensated, most recent first, and it ends
"compensated" with reason "cancelled". Needs the admin token.

Options:
${ADMIN_OPTIONS_USAGE}`;

export const cancelCommand: CliCommand = {
  name: 'cancel',
  summary: 'cancel a running saga (admin API)',
  usage,
  async run(args, context) {
    const { help, json, positionals, client } = parseAdminCommandLine(args, context);
    if (help) {
      context.stdout.write(`${usage}\n`);
      return 0;
    }
    const id = requireOne(positionals, 'saga id');
    const saga = await client.post<SagaSummary>(`/api/sagas/${encodeURIComponent(id)}/cancel`);
    if (json) writeJson(context, saga);
    else
      context.stdout.write(
        `saga ${saga.id} is ${saga.status}: compensation of its completed steps has started\n`,
      );
    return 0;
  },
};
