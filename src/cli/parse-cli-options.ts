// Thin wrapper over node:util parseArgs that turns its errors into UsageErrors and validates numbers.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

type StringOptions<T extends ParseArgsOptionsConfig> = { [K in keyof T]?: string };

/** Parses `--name value` options (plus `--help`/`-h`); no positionals. */
export function parseCliOptions<T extends ParseArgsOptionsConfig>(
  args: readonly string[],
  options: T,
): { help: boolean; values: StringOptions<T> } {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    });
    const { help, ...rest } = values as Record<string, unknown>;
    return { help: help === true, values: rest as StringOptions<T> };
  } catch (error) {
    throw parseArgsUsageError(error);
  }
}

/**
 * parseArgs throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION. With positionals allowed, its
 * unknown-option message adds advice on passing a positional that starts with '-' (and leaves a quote open);
 * no positional of ours starts with '-', so every command says just `Unknown option '--x'`.
 */
export function parseArgsUsageError(error: unknown): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  const unknownOption = /^(Unknown option '[^']*')\. To specify a positional argument/.exec(message);
  return new UsageError(unknownOption?.[1] ?? message);
}

/** A TCP port option: an integer from 0 (any free port) to 65535. */
export function parsePort(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`${option} must be a port number from 0 to 65535 (0 picks a free port)`);
  }
  return Number(value);
}

export function parsePositiveInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${option} must be a positive integer`);
  }
  return Number(value);
}
