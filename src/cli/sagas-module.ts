// Where a process finds its sagas: a module (`--sagas-module PATH` or SAGAS) exporting a SagaRegistry, by
// default the project's own `sagas/index.ts`. The module may also export `setup`, called once connected.
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { SagaRegistry, type SagaDefinition } from '../definition/index.js';
import { UsageError } from './usage-error.js';

/** What a sagas module's `setup` receives: the process's database (MONGODB_DB) and a logger. */
export interface SagasSetupContext {
  readonly db: Db;
  readonly logger: Logger;
}

/**
 * The shape of a sagas module: `export default registry` (or `export const registry`), a `SagaRegistry` or an
 * array of saga definitions; optionally `export async function setup(context)` to connect the steps' services.
 */
export interface SagasModule {
  readonly registry: SagaRegistry;
  readonly setup?: (context: SagasSetupContext) => void | Promise<void>;
  /** The file it was loaded from, for messages. */
  readonly source: string;
}

/** The project's sagas: `sagas/index.ts` from source, `dist/sagas/index.js` when built. */
export const DEFAULT_SAGAS_MODULE = fileURLToPath(new URL('../../sagas/index.js', import.meta.url));

const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

function isRegistryLike(value: unknown): value is SagaRegistry {
  // Duck-typed: a user's module may import its own copy of sagastream, so instanceof would fail.
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { list?: unknown }).list === 'function' &&
    typeof (value as { get?: unknown }).get === 'function' &&
    typeof (value as { select?: unknown }).select === 'function'
  );
}

function toRegistry(value: unknown): SagaRegistry | undefined {
  if (isRegistryLike(value)) return value;
  if (Array.isArray(value) && value.length > 0) return new SagaRegistry(value as SagaDefinition[]);
  return undefined;
}

/** TypeScript modules load through tsx when this CLI itself runs from the built JavaScript. */
async function enableTypeScript(path: string): Promise<void> {
  if (!TYPESCRIPT_EXTENSIONS.has(extname(path))) return;
  if (import.meta.url.endsWith('.ts')) return; // already running under tsx
  const { register } = await import('tsx/esm/api');
  register();
}

/**
 * Loads the sagas module named by `path` (relative to `cwd`), else by SAGAS, else the project's.
 * @throws UsageError when the file does not exist; Error when it fails to load or exports no registry.
 */
export async function loadSagasModule(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): Promise<SagasModule> {
  const named = path ?? (env.SAGAS?.trim() || undefined);
  const source = named === undefined ? DEFAULT_SAGAS_MODULE : resolve(cwd, named);
  // From source, `sagas/index.js` is really `sagas/index.ts`; tsx resolves it either way.
  const candidates = [source, source.replace(/\.js$/, '.ts')];
  if (named !== undefined && !candidates.some((candidate) => existsSync(candidate))) {
    throw new UsageError(`the sagas module ${source} does not exist (from --sagas-module or SAGAS)`);
  }
  await enableTypeScript(source);
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(source).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot load the sagas module ${source}: ${reason}`, { cause: error });
  }
  const registry = toRegistry(loaded.default) ?? toRegistry(loaded.registry);
  if (registry === undefined) {
    throw new Error(
      `The sagas module ${source} exports no sagas: export a SagaRegistry (or an array of defineSaga(...) ` +
        'definitions) as its default export or as `registry`.',
    );
  }
  const setup = loaded.setup;
  if (setup !== undefined && typeof setup !== 'function') {
    throw new Error(`The sagas module ${source} exports a \`setup\` that is not a function.`);
  }
  return {
    registry,
    ...(typeof setup === 'function' ? { setup: setup as SagasModule['setup'] } : {}),
    source,
  };
}
