// Entry point of the `sagastream` command (bin/sagastream.js loads this built or through tsx).
//
// Exit codes:
//   0  success (including a clean stop after SIGINT/SIGTERM)
//   1  runtime failure (bad environment configuration, a server that cannot start, …)
//   2  usage error (unknown command, unknown option, bad option value)
//   130 a second SIGINT/SIGTERM while shutting down
import type { CliCommand, CliContext } from './cli-command.js';
import { adminCommand } from './commands/admin-command.js';
import { cancelCommand } from './commands/cancel-command.js';
import { signalCommand } from './commands/signal-command.js';
import { checkCommand } from './commands/check-command.js';
import { runCommand } from './commands/run-command.js';
import { dlqCommand } from './commands/dlq-command.js';
import { sagaCommand } from './commands/saga-command.js';
import { statusCommand } from './commands/status-command.js';
import { versionsCommand } from './commands/versions-command.js';
import { demoCommand } from './commands/demo-command.js';
import { devCommand } from './commands/dev-command.js';
import { mongoCommand } from './commands/mongo-command.js';
import { startCommand } from './commands/start-command.js';
import { watcherCommand } from './commands/watcher-command.js';
import { workerCommand } from './commands/worker-command.js';
import { redactUrlsInText } from '../logging/logger.js';
import { UsageError } from './usage-error.js';

const commands: readonly CliCommand[] = [
  startCommand,
  workerCommand,
  watcherCommand,
  adminCommand,
  statusCommand,
  versionsCommand,
  sagaCommand,
  runCommand,
  dlqCommand,
  cancelCommand,
  signalCommand,
  devCommand,
  demoCommand,
  mongoCommand,
  checkCommand,
];

function overview(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const list = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n');
  return `Usage: sagastream <command> [options]

Commands:
${list}

Run "sagastream <command> --help" for a command's options.`;
}

/** Only the message, one line per problem: stack traces are for bugs, not for expected failures. */
function describeFailure(error: unknown, env: CliContext['env']): string {
  const verbose = env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'trace';
  const text =
    error instanceof Error ? (verbose ? (error.stack ?? error.message) : error.message) : String(error);
  return redactUrlsInText(text);
}

export async function main(
  argv: readonly string[],
  context: CliContext = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || (name === 'help' && args.length === 0)) {
    context.stdout.write(`${overview()}\n`);
    return 0;
  }
  if (name === 'help') return main([args[0] ?? '', '--help'], context);

  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) {
    const problem = name === undefined ? 'missing command' : `unknown command "${name}"`;
    context.stderr.write(`sagastream: ${problem}\n\n${overview()}\n`);
    return 2;
  }
  try {
    return await command.run(args, context);
  } catch (error) {
    if (error instanceof UsageError) {
      context.stderr.write(`sagastream ${command.name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    context.stderr.write(`${describeFailure(error, context.env)}\n`);
    return 1;
  }
}
