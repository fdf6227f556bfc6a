// `sagastream versions`: each saga's versions with their sagas in flight, which one new sagas start on, and which
// can be retired (a higher version exists and none is in flight), from the admin API.
import type { VersionReport } from '../../admin/index.js';
import type { CliCommand } from '../cli-command.js';
import { UsageError } from '../usage-error.js';
import { ADMIN_OPTIONS_USAGE, formatTable, parseAdminCommandLine, writeJson } from './admin-api-client.js';

const usage = `Usage: sagastream versions [--url URL] [--token T] [--json]

Lists every version of every saga the deployment has run (recorded in MongoDB) or the admin process loads,
with the sagas in flight on it (running or compensating) and the workers listening to its queue. A version
is RETIRABLE once a higher version exists and none of its sagas is in flight: remove it from the sagas
module with the next deploy. A version with sagas in flight and no worker shows WAITING: deploy a worker that
loads it.

Options:
${ADMIN_OPTIONS_USAGE}`;

function note(report: VersionReport): string {
  if (report.waitingForVersion > 0) return `waiting for version ${report.version}: no worker loads it`;
  if (report.retirable) return 'retirable';
  return report.inFlight > 0 ? 'in use' : '';
}

export function formatVersions(reports: readonly VersionReport[]): string {
  if (reports.length === 0) return 'no saga versions recorded yet';
  return formatTable(
    ['SAGA', 'VERSION', 'IN FLIGHT', 'RUNNING', 'COMPENSATING', 'WORKERS', 'LOADED BY ADMIN', 'STATE'],
    reports.map((report) => [
      report.saga,
      `v${report.version}`,
      report.inFlight,
      report.running,
      report.compensating,
      report.inFlight > 0 ? report.workers : '-',
      report.loadedHere ? 'yes' : 'no',
      note(report),
    ]),
  );
}

export const versionsCommand: CliCommand = {
  name: 'versions',
  summary: 'list saga versions with their sagas in flight; mark the retirable ones (admin API)',
  usage,
  async run(args, context) {
    const { help, json, positionals, client } = parseAdminCommandLine(args, context);
    if (help) {
      context.stdout.write(`${usage}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0] ?? ''}"`);
    const { versions } = await client.get<{ versions: VersionReport[] }>('/api/versions');
    if (json) writeJson(context, { versions });
    else context.stdout.write(`${formatVersions(versions)}\n`);
    return 0;
  },
};
