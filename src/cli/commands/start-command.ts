// `sagastream start`: every role in one process against MONGODB_URL / REDIS_URL.
import { parsePositiveInteger } from '../parse-cli-options.js';
import { ROLE_ENVIRONMENT_HELP, SAGAS_MODULE_HELP, roleCommand } from './role-command.js';

const usage = `Usage: sagastream start [--concurrency N] [--sagas-module PATH]

Runs the watcher (with the recovery sweeper), a worker and the admin API in one process against the
MongoDB replica set and Redis named by MONGODB_URL and REDIS_URL. For more throughput or availability, run
the roles as separate processes instead (sagastream watcher / worker / admin). SIGTERM or Ctrl-C stops
gracefully and exits 0.

Options:
  --concurrency N      steps run at once per saga (default 10)
${SAGAS_MODULE_HELP}
  -h, --help           show this help

${ROLE_ENVIRONMENT_HELP}
Also: ADMIN_HOST, ADMIN_PORT, ADMIN_TOKEN.`;

export const startCommand = roleCommand({
  name: 'start',
  summary: 'run all roles in one process (watcher, worker, admin)',
  usage,
  validate: (values) => void parsePositiveInteger(values.concurrency, '--concurrency'),
  options: { concurrency: { type: 'string' } },
  roles(values, config) {
    const concurrency = parsePositiveInteger(values.concurrency, '--concurrency');
    return {
      watcher: true,
      worker: concurrency === undefined ? {} : { concurrency },
      admin: {
        host: config.admin.host,
        port: config.admin.port,
        ...(config.admin.token === undefined ? {} : { token: config.admin.token }),
      },
    };
  },
});
