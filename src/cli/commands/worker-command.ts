// `sagastream worker`: runs saga steps (and saga deadline timers). Start as many as you like; BullMQ spreads
// the steps over them.
import { parsePositiveInteger } from '../parse-cli-options.js';
import { UsageError } from '../usage-error.js';
import {
  METRICS_HELP,
  METRICS_OPTIONS,
  ROLE_ENVIRONMENT_HELP,
  SAGAS_MODULE_HELP,
  metricsListener,
  roleCommand,
} from './role-command.js';

const usage = `Usage: sagastream worker [--concurrency N] [--steps-per-job N] [--sagas a,b] [--metrics-port P] [--sagas-module PATH]

Runs the steps and compensations of the sagas as BullMQ jobs. Several worker processes share the work;
SIGTERM or Ctrl-C lets the active steps finish (up to 30 s), then exits 0.

Options:
  --concurrency N      steps run at once per saga in this process (default 10)
  --steps-per-job N    steps of one saga a job runs in a row before it queues the next (default 32;
                       1 queues every step as its own job)
  --sagas a,b          only these sagas (default: all in the sagas module)
${METRICS_HELP}
${SAGAS_MODULE_HELP}
  -h, --help           show this help

${ROLE_ENVIRONMENT_HELP}`;

export const workerCommand = roleCommand({
  name: 'worker',
  summary: 'run saga steps (start several to share the work)',
  usage,
  validate: (values) => {
    parsePositiveInteger(values.concurrency, '--concurrency');
    parsePositiveInteger(values['steps-per-job'], '--steps-per-job');
    metricsListener(values);
  },
  options: {
    concurrency: { type: 'string' },
    'steps-per-job': { type: 'string' },
    sagas: { type: 'string' },
    ...METRICS_OPTIONS,
  },
  roles(values, _config, sagas) {
    const concurrency = parsePositiveInteger(values.concurrency, '--concurrency');
    const stepsPerJob = parsePositiveInteger(values['steps-per-job'], '--steps-per-job');
    const names = values.sagas
      ?.split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    const unknown = (names ?? []).filter((name) => !sagas.registry.has(name));
    if (unknown.length > 0) {
      throw new UsageError(
        `--sagas names unknown saga${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; ` +
          `${sagas.source} defines ${sagas.registry.names.join(', ')}`,
      );
    }
    const metrics = metricsListener(values);
    return {
      watcher: false,
      worker: {
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(stepsPerJob === undefined ? {} : { stepsPerJob }),
        ...(names === undefined || names.length === 0 ? {} : { sagas: names }),
      },
      admin: false,
      ...(metrics ? { metrics } : {}),
    };
  },
});
