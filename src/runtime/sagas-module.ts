// Where a process finds its sagas: a module (`--sagas-module PATH` or SAGAS) exporting a SagaRegistry; the
// example saga in `sagas/` only for the demo commands. The module may also export `setup`, called once connected;
// what it returns is the steps' `ctx.services`.
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SagaRegistry, isSagaRegistry, ownRegistry, type SagaDefinition } from '../definition/index.js';
import type { ServicesSetupContext } from './saga-runtime.js';

/** What a sagas module's `setup` receives: the process's database (MONGODB_DB) and a logger. */
export type SagasSetupContext = ServicesSetupContext;

/**
 * The shape of a sagas module: `export default registry` (or `export const registry`), a `SagaRegistry` or an
 * array of saga definitions; optionally `export async function setup(context)` returning the steps' services.
 */
export interface SagasModule {
  readonly registry: SagaRegistry;
  /** Returns the services steps get as `ctx.services`; runs before any step or trigger of the process. */
  readonly setup?: (context: SagasSetupContext) => unknown;
  /** The file it was loaded from, for messages. */
  readonly source: string;
}

/** The example sagas: `sagas/index.ts` from source, `dist/sagas/index.js` when built. */
export const DEFAULT_SAGAS_MODULE = fileURLToPath(new URL('../../sagas/index.js', import.meta.url));

const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

function toRegistry(value: unknown): SagaRegistry | undefined {
  if (isSagaRegistry(value)) return ownRegistry(value);
  if (Array.isArray(value) && value.length > 0) return new SagaRegistry(value as SagaDefinition[]);
  return undefined;
}

let typeScriptEnabled = false;

/**
 * TypeScript modules load through tsx (an optional peer dependency), with both of its hooks: the ESM loader, and
 * the CommonJS one that a `.ts` file of a CommonJS project (npm's default `"type"`) is compiled for.
 */
async function enableTypeScript(path: string): Promise<void> {
  // Registering again under a process that runs from source through tsx is harmless.
  if (!TYPESCRIPT_EXTENSIONS.has(extname(path)) || typeScriptEnabled) return;
  let hooks: [{ register(): unknown }, { register(): unknown }];
  try {
    hooks = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  } catch {
    throw new Error(
      `The sagas module ${path} is TypeScript, which needs tsx to load: run \`npm install --save-dev tsx\`, ` +
        'or compile your sagas and name the .js file.',
    );
  }
  for (const hook of hooks) hook.register();
  typeScriptEnabled = true;
}

/** A CommonJS module imported from ESM is `{ default: module.exports }`; compiled TypeScript marks its exports. */
function exportsOf(namespace: Record<string, unknown>): Record<string, unknown> {
  const inner = namespace.default;
  const compiled =
    typeof inner === 'object' && inner !== null && (inner as { __esModule?: unknown }).__esModule === true;
  return compiled ? (inner as Record<string, unknown>) : namespace;
}

/** The first line of an error: a syntax error's code frame or a stack is not for the one-line message. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').find((line) => line.trim() !== '') ?? text;
}

export interface LoadSagasOptions {
  /** Without a module named, run the example sagas (`dev --demo`, `demo`); else refuse. */
  readonly demoByDefault?: boolean;
  readonly cwd?: string;
}

/**
 * Loads the sagas module named by `path` (relative to `cwd`), else by SAGAS, else (with `demoByDefault`) the
 * project's example saga. A production role never falls back to the example: it would run the demo saga
 * against the user's own `orders` collection.
 * @throws Error, with one line saying what went wrong and how to fix it, when no module is named, or the file
 * does not exist, fails to load or exports no registry.
 */
export async function loadSagasModule(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  { demoByDefault = false, cwd = process.cwd() }: LoadSagasOptions = {},
): Promise<SagasModule> {
  const named = path ?? (env.SAGAS?.trim() || undefined);
  if (named === undefined && !demoByDefault) {
    throw new Error(
      'No sagas module: name the module that exports your SagaRegistry with --sagas-module PATH or SAGAS=PATH ' +
        '(the example sagas run only under `sagastream dev --demo`).',
    );
  }
  const source = named === undefined ? DEFAULT_SAGAS_MODULE : resolve(cwd, named);
  // From source, `sagas/index.js` is really `sagas/index.ts`; tsx resolves it either way.
  const candidates = [source, source.replace(/\.js$/, '.ts')];
  if (named !== undefined && !candidates.some((candidate) => existsSync(candidate))) {
    throw new Error(
      `The sagas module ${source} does not exist: check the path given with --sagas-module or SAGAS ` +
        `(relative paths start from ${cwd}).`,
    );
  }
  await enableTypeScript(source);
  let loaded: Record<string, unknown>;
  try {
    loaded = exportsOf((await import(pathToFileURL(source).href)) as Record<string, unknown>);
  } catch (error) {
    throw new Error(
      `Cannot load the sagas module ${source}: ${firstLine(error)} (fix the module, or run it with node to see ` +
        'the whole error).',
      { cause: error },
    );
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
