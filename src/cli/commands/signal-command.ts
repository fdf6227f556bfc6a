// `sagastream signal <id> <name> [--data JSON]`: sends a signal to a running saga through the admin API; its
// `.waitFor({ signal: name })` step ends with the data, now or when the saga reaches it.
import type { CliCommand } from '../cli-command.js';
import { UsageError } from '../usage-error.js';
import {
  ADMIN_OPTIONS_USAGE,
  parseAdminCommandLine,
  parseJsonOption,
  writeJson,
} from './admin-api-client.js';

const usage = `Usage: sagastream signal <saga id> <signal name> [--data JSON] [--url URL] [--token T] [--json]

Sends a signal to a running saga. Its wait step for that signal ends with the data (checked by the
step's output schema); a saga that has not reached the step yet takes the signal when it does.
Needs the admin token.

Options:
  --data JSON     the signal's data, e.g. '{"approvedBy":"ada"}' (default: null)
${ADMIN_OPTIONS_USAGE}`;

interface Sent {
  sagaId: string;
  signal: string;
  signalId: string;
}

export const signalCommand: CliCommand = {
  name: 'signal',
  summary: 'send a signal to a running saga (admin API)',
  usage,
  async run(args, context) {
    const { help, json, positionals, options, client } = parseAdminCommandLine(args, context, {
      data: { type: 'string' },
    });
    if (help) {
      context.stdout.write(`${usage}\n`);
      return 0;
    }
    const [id, name] = positionals;
    if (positionals.length !== 2 || !id || !name)
      throw new UsageError('expected a saga id and a signal name');
    const data = parseJsonOption(options.data, 'data');
    const sent = await client.post<Sent>(
      `/api/sagas/${encodeURIComponent(id)}/signals/${encodeURIComponent(name)}`,
      data === undefined ? {} : { data },
    );
    if (json) writeJson(context, sent);
    else context.stdout.write(`signal ${sent.signal} sent to saga ${sent.sagaId}\n`);
    return 0;
  },
};
