// `sagastream check`: loads a sagas module the way every role does and lists what it defines, so a broken
// module or definition fails a build step instead of a deploy.
import type { SagaDefinition } from '../../definition/index.js';
import type { CliCommand } from '../cli-command.js';
import { parseCliOptions } from '../parse-cli-options.js';
import { loadSagasModule } from '../../runtime/sagas-module.js';

const usage = `Usage: sagastream check [--sagas-module PATH]

Loads the sagas module (--sagas-module or SAGAS; .ts, .mts, .cts, .js, .mjs or .cjs, in a CommonJS or an ESM
project) exactly as the roles do, and prints each saga with its trigger and steps. Exits 0 when it loads, 1
with one line saying why when it does not. Connects to nothing.

Options:
  --sagas-module PATH  the module exporting your SagaRegistry (default: SAGAS)
  -h, --help           show this help`;

function describeSaga(definition: SagaDefinition): string {
  const { trigger } = definition;
  const where =
    trigger === undefined
      ? 'started from code only'
      : `on ${trigger.on.join('/')} in ${trigger.database === undefined ? '' : `${trigger.database}.`}${trigger.collection}`;
  const steps = definition.steps.map((step) => (step.compensate ? `${step.name} (compensable)` : step.name));
  return `${definition.name} v${definition.version}: ${where}; steps ${steps.join(' → ')}`;
}

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'load a sagas module and list its sagas (no connections)',
  usage,
  async run(args, { stdout, env }) {
    const { help, values } = parseCliOptions(args, { 'sagas-module': { type: 'string' } });
    if (help) {
      stdout.write(`${usage}\n`);
      return 0;
    }
    const sagas = await loadSagasModule(values['sagas-module'], env);
    const definitions = sagas.registry.all();
    stdout.write(`${sagas.source}: ${definitions.length} saga${definitions.length === 1 ? '' : 's'}\n`);
    for (const definition of definitions) stdout.write(`  ${describeSaga(definition)}\n`);
    return 0;
  },
};
