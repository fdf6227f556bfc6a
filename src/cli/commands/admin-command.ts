// `sagastream admin`: the admin HTTP API and dashboard, on its own.
import { ROLE_ENVIRONMENT_HELP, SAGAS_MODULE_HELP, roleCommand } from './role-command.js';

const usage = `Usage: sagastream admin [--sagas-module PATH]

Serves the admin API (sagas, steps, dead letters; retry and cancel), the dashboard and /metrics on
ADMIN_HOST:ADMIN_PORT (default 127.0.0.1:8080). Set ADMIN_TOKEN to require "Authorization: Bearer <token>".
SIGTERM or Ctrl-C exits 0.

Options:
${SAGAS_MODULE_HELP}
  -h, --help           show this help

${ROLE_ENVIRONMENT_HELP}
Also: ADMIN_HOST, ADMIN_PORT, ADMIN_TOKEN.`;

export const adminCommand = roleCommand({
  name: 'admin',
  summary: 'serve the admin API and dashboard',
  usage,
  options: {},
  roles: (_values, config) => ({
    watcher: false,
    worker: false,
    admin: {
      host: config.admin.host,
      port: config.admin.port,
      ...(config.admin.token === undefined ? {} : { token: config.admin.token }),
    },
  }),
});
