// Shared by the operator commands (status, saga, dlq, cancel): their common options and a small client for the
// admin HTTP API. The token comes from --token or ADMIN_TOKEN (prefer the variable: arguments show in `ps`).
import { parseArgs } from 'node:util';
import type { CliContext } from '../cli-command.js';
import { parseArgsUsageError } from '../parse-cli-options.js';
import { UsageError } from '../usage-error.js';

export const ADMIN_OPTIONS_USAGE = `  --url URL      admin API address (default: ADMIN_URL, else http://127.0.0.1:8080)
  --token T      admin token (default: ADMIN_TOKEN; prefer the variable, arguments are visible in ps)
  --json         print the API's JSON instead of a table
  -h, --help     show this help`;

/** A command's own options besides the common ones: string-valued (`--limit N`) or flags (`--all`). */
export type ExtraOptions = Readonly<Record<string, { type: 'string' } | { type: 'boolean' }>>;

export interface AdminCommandLine<E extends ExtraOptions = Record<never, never>> {
  help: boolean;
  json: boolean;
  positionals: string[];
  /** The values of the command's own options, absent when not given. */
  options: { [K in keyof E]?: E[K] extends { type: 'boolean' } ? boolean : string };
  client: AdminApiClient;
}

/** Parses `[--url U] [--token T] [--json] [the command's own options] positionals…`. */
export function parseAdminCommandLine<E extends ExtraOptions = Record<never, never>>(
  args: readonly string[],
  context: CliContext,
  extra?: E,
): AdminCommandLine<E> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        ...extra,
        url: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw parseArgsUsageError(error);
  }
  const { values, positionals } = parsed;
  const url = values.url ?? context.env.ADMIN_URL?.trim() ?? '';
  const baseUrl = url === '' ? 'http://127.0.0.1:8080' : url;
  if (!/^https?:\/\/[^\s/]+/.test(baseUrl))
    throw new UsageError('--url must be an http:// or https:// address');
  const token = values.token ?? (context.env.ADMIN_TOKEN?.trim() || undefined);
  const options = Object.fromEntries(
    Object.keys(extra ?? {}).flatMap((name) => {
      const value: unknown = (values as Record<string, unknown>)[name];
      return value === undefined ? [] : [[name, value]];
    }),
  ) as AdminCommandLine<E>['options'];
  return {
    help: values.help === true,
    json: values.json === true,
    positionals,
    options,
    client: new AdminApiClient(baseUrl, token),
  };
}

/** A refusal from the admin API, with its error code (e.g. NOT_FOUND, UNAUTHORIZED, MUTATIONS_DISABLED). */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export class AdminApiClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly token: string | undefined,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason =
        cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
      throw new Error(
        `cannot reach the admin API at ${this.baseUrl} (${reason}); start the admin server or pass --url / ADMIN_URL`,
      );
    }
    if (response.status === 204) return undefined as T;
    const answer = (await response.json().catch(() => null)) as {
      error?: { code?: string; message?: string };
    } | null;
    if (!response.ok) {
      const code = answer?.error?.code ?? `HTTP_${response.status}`;
      const message = answer?.error?.message ?? response.statusText;
      const hint = response.status === 401 ? ' (pass --token or set ADMIN_TOKEN)' : '';
      throw new AdminApiError(response.status, code, `${code}: ${message}${hint}`);
    }
    return answer as T;
  }
}

/** Left-aligned text columns, two spaces apart. */
export type TableCell = string | number | null | undefined;

export function formatTable(header: readonly string[], rows: readonly (readonly TableCell[])[]): string {
  const cells = [header, ...rows].map((row) =>
    row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))),
  );
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function requireOne(positionals: readonly string[], what: string): string {
  if (positionals.length !== 1 || positionals[0] === undefined || positionals[0] === '') {
    throw new UsageError(`expected exactly one ${what}`);
  }
  return positionals[0];
}

export function writeJson(context: CliContext, value: unknown): void {
  context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The JSON value of option `--name`; undefined when it was not given. */
export function parseJsonOption(text: string | undefined, name: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`--${name} is not valid JSON (${(error as Error).message})`);
  }
}
