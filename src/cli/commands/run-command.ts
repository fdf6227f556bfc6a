// `sagastream run <saga> --input JSON`: starts a saga from the command line through the admin API, and with
// `--wait` follows it to its end.
import type { CliCommand } from '../cli-command.js';
import { UsageError } from '../usage-error.js';
import {
  ADMIN_OPTIONS_USAGE,
  parseAdminCommandLine,
  parseJsonOption,
  requireOne,
  writeJson,
} from './admin-api-client.js';

const usage = `Usage: sagastream run <saga> --input JSON [--key K] [--wait] [--url URL] [--token T] [--json]

Starts saga <saga> with the JSON input, validated by the saga's input schema (a bad input is refused with its
issues and nothing is stored). With --key, a saga that already has that key is shown instead of starting a
second one. Needs the admin token.

Options:
  --input JSON   the saga's input, e.g. '{"customerId":"c-1","total":25}'
  --key K        the saga's unique key (default: a new one each run)
  --wait         wait for the saga to end and print how; exit 0 only when it completed
${ADMIN_OPTIONS_USAGE}`;

const TERMINAL = new Set(['completed', 'compensated', 'failed', 'rejected']);
const POLL_INTERVAL_MS = 500;

/** What `GET /api/sagas/:id` answers, as far as this command reads it. */
interface SagaDetail {
  id: string;
  status: string;
  error: { message: string } | null;
}

interface Started {
  id: string;
  saga: string;
  key: string;
  status: string;
}

function parseInput(text: string | undefined): unknown {
  if (text === undefined) throw new UsageError('--input is required: the saga input as JSON');
  return parseJsonOption(text, 'input');
}

export const runCommand: CliCommand = {
  name: 'run',
  summary: 'start a saga from the command line, and wait for its end (admin API)',
  usage,
  async run(args, context) {
    const { help, json, positionals, options, client } = parseAdminCommandLine(args, context, {
      input: { type: 'string' },
      key: { type: 'string' },
      wait: { type: 'boolean' },
    });
    if (help) {
      context.stdout.write(`${usage}\n`);
      return 0;
    }
    const saga = requireOne(positionals, 'saga name');
    const input = parseInput(options.input);
    if (options.key === '') throw new UsageError('--key cannot be empty');
    const started = await client.post<Started>('/api/sagas', {
      saga,
      input,
      ...(options.key === undefined ? {} : { key: options.key }),
    });
    if (!json) {
      context.stdout.write(`saga ${started.id} (${started.saga}, key ${started.key}) is ${started.status}\n`);
    }
    if (options.wait !== true) {
      if (json) writeJson(context, started);
      return 0;
    }
    let detail = await client.get<SagaDetail>(`/api/sagas/${encodeURIComponent(started.id)}`);
    while (!TERMINAL.has(detail.status)) {
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      detail = await client.get<SagaDetail>(`/api/sagas/${encodeURIComponent(started.id)}`);
    }
    if (json) writeJson(context, detail);
    else {
      const why = detail.error ? `: ${detail.error.message}` : '';
      context.stdout.write(`saga ${detail.id} ended ${detail.status}${why}\n`);
    }
    return detail.status === 'completed' ? 0 : 1;
  },
};
