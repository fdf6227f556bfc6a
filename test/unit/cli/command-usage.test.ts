import { describe, expect, it } from 'vitest';
import type { CliCommand } from '../../../src/cli/cli-command.js';
import { adminCommand } from '../../../src/cli/commands/admin-command.js';
import { cancelCommand } from '../../../src/cli/commands/cancel-command.js';
import { demoCommand } from '../../../src/cli/commands/demo-command.js';
import { devCommand } from '../../../src/cli/commands/dev-command.js';
import { dlqCommand } from '../../../src/cli/commands/dlq-command.js';
import { mongoCommand } from '../../../src/cli/commands/mongo-command.js';
import { sagaCommand } from '../../../src/cli/commands/saga-command.js';
import { startCommand } from '../../../src/cli/commands/start-command.js';
import { statusCommand } from '../../../src/cli/commands/status-command.js';
import { watcherCommand } from '../../../src/cli/commands/watcher-command.js';
import { workerCommand } from '../../../src/cli/commands/worker-command.js';

const commands: CliCommand[] = [
  adminCommand,
  cancelCommand,
  demoCommand,
  devCommand,
  dlqCommand,
  mongoCommand,
  sagaCommand,
  startCommand,
  statusCommand,
  watcherCommand,
  workerCommand,
];

/** The column where each option's description (and its continuation lines) starts, in the Options block. */
function descriptionColumns(usage: string): number[] {
  const block = usage.split('\n\n').find((paragraph) => paragraph.startsWith('Options:')) ?? '';
  return block
    .split('\n')
    .slice(1)
    .map((line) => (/^ {2}-\S*(?: \S+)*? {2,}|^ +/.exec(line)?.[0] ?? '').length);
}

describe('command usage', () => {
  it.each(commands.map((command) => [command.name, command] as const))(
    '"%s --help" starts every option description in one column',
    (_, command) => {
      const columns = descriptionColumns(command.usage);
      expect(columns.length).toBeGreaterThan(0);
      expect(new Set(columns).size).toBe(1);
    },
  );
});
