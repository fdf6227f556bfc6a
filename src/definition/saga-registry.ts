// The sagas a process knows, by name and version; `select` narrows them for `worker --sagas a,b`. New sagas start
// on the highest version of their name; a stored saga runs on the version it started on (`find`).
import { z } from 'zod';
import { SagastreamError } from '../errors/sagastream-error.js';
import type { SagaDefinition } from './saga-definition.js';

/** A stored saga without a version was started before versions existed: version 1. */
export function versionOf(saga: { readonly version?: number | null }): number {
  return typeof saga.version === 'number' && saga.version >= 1 ? saga.version : 1;
}

export class SagaRegistry {
  /** Each name's versions, highest first. */
  readonly #byName: ReadonlyMap<string, readonly SagaDefinition[]>;

  /** @throws SagastreamError `INVALID_DEFINITION` when two definitions share a name and a version. */
  constructor(definitions: Iterable<SagaDefinition>) {
    const byName = new Map<string, SagaDefinition[]>();
    const duplicates = new Set<string>();
    for (const definition of definitions) {
      const versions = byName.get(definition.name) ?? [];
      if (versions.some((known) => known.version === definition.version)) {
        duplicates.add(`"${definition.name}" v${definition.version}`);
      } else versions.push(definition);
      byName.set(definition.name, versions);
    }
    if (duplicates.size > 0) {
      throw new SagastreamError(
        'INVALID_DEFINITION',
        `Saga names must be unique per version, but ${[...duplicates].join(', ')} ` +
          `${duplicates.size === 1 ? 'is' : 'are'} defined more than once; rename one of them ` +
          '(or bump `version` instead if it is a new version of the same saga).',
      );
    }
    for (const versions of byName.values()) versions.sort((a, b) => b.version - a.version);
    this.#byName = byName;
  }

  /**
   * The highest version of `name` (what new sagas start on), or exactly `version` when given.
   * @throws SagastreamError `SAGA_NOT_FOUND` naming the known sagas; `VERSION_NOT_LOADED` for a missing version.
   */
  get(name: string, version?: number): SagaDefinition {
    const versions = this.#byName.get(name);
    if (versions === undefined) {
      throw new SagastreamError(
        'SAGA_NOT_FOUND',
        `No saga named "${name}" is registered; known sagas: ${this.#knownNames()}. ` +
          'Check the name, or add its definition to this process.',
      );
    }
    if (version === undefined) return versions[0]!;
    const definition = versions.find((candidate) => candidate.version === version);
    if (definition === undefined) {
      throw new SagastreamError(
        'VERSION_NOT_LOADED',
        `Saga "${name}" v${version} is not loaded in this process (it loads ` +
          `${versions.map((known) => `v${known.version}`).join(', ')}); sagas started on v${version} run only ` +
          `where its definition is loaded: keep it in the sagas module until \`sagastream versions\` marks it retirable.`,
      );
    }
    return definition;
  }

  /** Exactly `version` of `name`, or undefined when this process does not load it. */
  find(name: string, version: number): SagaDefinition | undefined {
    return this.#byName.get(name)?.find((definition) => definition.version === version);
  }

  /** The definition a stored saga runs on: the version it recorded (1 when it recorded none). */
  forSaga(saga: { readonly saga: string; readonly version?: number | null }): SagaDefinition {
    return this.get(saga.saga, versionOf(saga));
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The versions of `name` loaded here, highest first (empty for an unknown name). */
  versionsOf(name: string): readonly number[] {
    return (this.#byName.get(name) ?? []).map((definition) => definition.version);
  }

  /** The highest version of each saga (what new sagas start on), in registration order. */
  list(): readonly SagaDefinition[] {
    return [...this.#byName.values()].map((versions) => versions[0]!);
  }

  /** Every version of every saga: by name in registration order, highest version first. */
  all(): readonly SagaDefinition[] {
    return [...this.#byName.values()].flat();
  }

  get names(): readonly string[] {
    return [...this.#byName.keys()];
  }

  /**
   * A registry with only the named sagas, every version of each (all of them when `names` is undefined or empty).
   * @throws SagastreamError `SAGA_NOT_FOUND` listing every unknown name and the known ones.
   */
  select(names?: readonly string[]): SagaRegistry {
    const wanted = [...new Set((names ?? []).map((name) => name.trim()).filter((name) => name !== ''))];
    if (wanted.length === 0) return this;
    const unknown = wanted.filter((name) => !this.#byName.has(name));
    if (unknown.length > 0) {
      throw new SagastreamError(
        'SAGA_NOT_FOUND',
        `Unknown saga${unknown.length === 1 ? '' : 's'} ${unknown.map((name) => `"${name}"`).join(', ')}; ` +
          `known sagas: ${this.#knownNames()}.`,
      );
    }
    return new SagaRegistry(this.all().filter((definition) => wanted.includes(definition.name)));
  }

  #knownNames(): string {
    return this.#byName.size === 0 ? '(none)' : this.names.join(', ');
  }
}

/** Duck-typed: a user's sagas module may import its own copy of sagastream, so instanceof would fail. */
export function isSagaRegistry(value: unknown): value is SagaRegistry {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { list?: unknown }).list === 'function' &&
    typeof (value as { get?: unknown }).get === 'function' &&
    typeof (value as { select?: unknown }).select === 'function'
  );
}

/**
 * A registry from another copy of sagastream (an older one may lack `all`/`find`) made into one of this copy,
 * from the definitions it holds.
 */
export function ownRegistry(registry: SagaRegistry): SagaRegistry {
  if (registry instanceof SagaRegistry) return registry;
  const foreign = registry as { all?: () => readonly SagaDefinition[]; list(): readonly SagaDefinition[] };
  return new SagaRegistry(typeof foreign.all === 'function' ? foreign.all() : foreign.list());
}

/** A SagaRegistry, or an array of definitions made into one (the forms users hand over their sagas in). */
export const sagasOption = z
  .custom<SagaRegistry | readonly SagaDefinition[]>(
    (value) => Array.isArray(value) || isSagaRegistry(value),
    {
      error: 'sagas must be a SagaRegistry or an array of defineSaga(...) definitions',
    },
  )
  .transform((value) => (isSagaRegistry(value) ? ownRegistry(value) : new SagaRegistry(value)));
