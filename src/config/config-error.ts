/**
 * Thrown by `loadConfig` when environment variables are missing or malformed. The message names every bad
 * variable with the form it expects, and never contains the values of those that may hold secrets (URLs, tokens);
 * a setting that cannot, such as SAGA_RETENTION, is quoted to show the typo.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';

  constructor(
    /** One `NAME is …: expected form` line per bad variable. */
    readonly problems: readonly string[],
  ) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }

  /** The variable names that were wrong, e.g. `['MONGODB_URL', 'ADMIN_PORT']`. */
  get variables(): string[] {
    return this.problems.map((problem) => problem.split(' ', 1)[0] ?? problem);
  }
}
