// `sagastream watcher`: follows the trigger collections' change streams and starts sagas; also runs the
// recovery sweeper. Run two for failover: one holds the lease, the other stands by.
import {
  METRICS_HELP,
  METRICS_OPTIONS,
  ROLE_ENVIRONMENT_HELP,
  SAGAS_MODULE_HELP,
  metricsListener,
  roleCommand,
} from './role-command.js';

const usage = `Usage: sagastream watcher [--metrics-port P] [--metrics-host H] [--sagas-module PATH]

Watches the trigger collection of every saga with a change stream and starts one saga per matching event,
checkpointing its resume token; also runs the recovery sweeper that re-queues lost work. One watcher per
saga is active at a time (a lease in MongoDB); a second process stands by and takes over if the first dies.
SIGTERM or Ctrl-C saves the checkpoint and exits 0.

Options:
${METRICS_HELP}
${SAGAS_MODULE_HELP}
  -h, --help           show this help

${ROLE_ENVIRONMENT_HELP}`;

export const watcherCommand = roleCommand({
  name: 'watcher',
  summary: 'start sagas from change streams (plus the recovery sweeper)',
  usage,
  options: METRICS_OPTIONS,
  validate: (values) => void metricsListener(values),
  roles(values) {
    const metrics = metricsListener(values);
    return { watcher: true, worker: false, admin: false, ...(metrics ? { metrics } : {}) };
  },
});
