// `sagastream status`: counts per saga and status, queue depths, dead letters and watcher lag, from the admin API.
import { watcherName, type AdminStats } from '../../admin/index.js';
import { SAGA_STATUSES } from '../../model/saga-document.js';
import type { CliCommand } from '../cli-command.js';
import { UsageError } from '../usage-error.js';
import { ADMIN_OPTIONS_USAGE, formatTable, parseAdminCommandLine, writeJson } from './admin-api-client.js';

const usage = `Usage: sagastream status [--url URL] [--token T] [--json]

Shows how many sagas are in each status (per saga), the depth of every queue, the dead-letter count,
completions in the last minute and each trigger watcher's state, lease holder and lag.

Options:
${ADMIN_OPTIONS_USAGE}`;

export function formatStats(stats: AdminStats): string {
  const sagas = formatTable(
    ['SAGA', ...SAGA_STATUSES.map((status) => status.toUpperCase())],
    [
      ...stats.sagas.map(({ saga, counts }) => [saga, ...SAGA_STATUSES.map((status) => counts[status])]),
      ['(all)', ...SAGA_STATUSES.map((status) => stats.totals[status])],
    ],
  );
  const queues = formatTable(
    ['QUEUE', 'WAITING', 'ACTIVE', 'DELAYED', 'FAILED'],
    stats.queues.map((queue) => [queue.queue, queue.waiting, queue.active, queue.delayed, queue.failed]),
  );
  const watchers = formatTable(
    ['WATCHER', 'STATE', 'LEASE HOLDER', 'LAG'],
    stats.watchers.map((watcher) => [
      // A partitioned trigger has one row per partition: `<saga>#<i>/<N>`.
      watcherName(watcher),
      watcher.state,
      watcher.leaseHolder ?? '(none)',
      watcher.lagSeconds === null ? '-' : `${watcher.lagSeconds.toFixed(1)}s`,
    ]),
  );
  // Older admin servers send no versions.
  const waiting = (stats.waitingForVersion ?? []).map((entry) => entry.message);
  return [
    sagas,
    ...(waiting.length > 0 ? ['', ...waiting] : []),
    '',
    queues,
    '',
    watchers,
    '',
    `dead letters: ${stats.deadLetters}    completions in the last minute: ${stats.completionsPerMinute}`,
  ].join('\n');
}

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'show saga counts, queue depths, dead letters and watcher lag (admin API)',
  usage,
  async run(args, context) {
    const { help, json, positionals, client } = parseAdminCommandLine(args, context);
    if (help) {
      context.stdout.write(`${usage}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0] ?? ''}"`);
    const stats = await client.get<AdminStats>('/api/stats');
    if (json) writeJson(context, stats);
    else context.stdout.write(`${formatStats(stats)}\n`);
    return 0;
  },
};
