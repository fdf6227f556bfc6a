import type { Writable } from 'node:stream';

/** What a command may touch besides its arguments, so tests and main share one shape. */
export interface CliContext {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface CliCommand {
  readonly name: string;
  /** One line for the command list in `sagastream --help`. */
  readonly summary: string;
  /** Full help text, printed by `sagastream <name> --help` and after usage errors. */
  readonly usage: string;
  /**
   * Runs the command; resolves with the process exit code. Long-running commands resolve after a shutdown
   * signal has stopped everything they started.
   * @throws UsageError for a bad command line.
   */
  run(args: readonly string[], context: CliContext): Promise<number>;
}
