// The sagas a process knows, by name; `select` narrows them for `worker --sagas a,b`.
import { z } from 'zod';
import { SagastreamError } from '../errors/sagastream-error.js';
import type { SagaDefinition } from './saga-definition.js';

export class SagaRegistry {
  readonly #byName: ReadonlyMap<string, SagaDefinition>;

  /** @throws SagastreamError `INVALID_DEFINITION` when two definitions share a name. */
  constructor(definitions: Iterable<SagaDefinition>) {
    const byName = new Map<string, SagaDefinition>();
    const duplicates = new Set<string>();
    for (const definition of definitions) {
      if (byName.has(definition.name)) duplicates.add(definition.name);
      else byName.set(definition.name, definition);
    }
    if (duplicates.size > 0) {
      throw new SagastreamError(
        'INVALID_DEFINITION',
        `Saga names must be unique, but ${[...duplicates].map((name) => `"${name}"`).join(', ')} ` +
          `${duplicates.size === 1 ? 'is' : 'are'} defined more than once; rename one of them ` +
          '(or bump `version` instead if it is a new version of the same saga).',
      );
    }
    this.#byName = byName;
  }

  /** @throws SagastreamError `SAGA_NOT_FOUND` naming the known sagas. */
  get(name: string): SagaDefinition {
    const definition = this.#byName.get(name);
    if (definition === undefined) {
      throw new SagastreamError(
        'SAGA_NOT_FOUND',
        `No saga named "${name}" is registered; known sagas: ${this.#knownNames()}. ` +
          'Check the name, or add its definition to this process.',
      );
    }
    return definition;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** All definitions, in registration order. */
  list(): readonly SagaDefinition[] {
    return [...this.#byName.values()];
  }

  get names(): readonly string[] {
    return [...this.#byName.keys()];
  }

  /**
   * A registry with only the named sagas (all of them when `names` is undefined or empty).
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
    return new SagaRegistry(this.list().filter((definition) => wanted.includes(definition.name)));
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

/** A SagaRegistry, or an array of definitions made into one (the forms users hand over their sagas in). */
export const sagasOption = z
  .custom<SagaRegistry | readonly SagaDefinition[]>(
    (value) => Array.isArray(value) || isSagaRegistry(value),
    {
      error: 'sagas must be a SagaRegistry or an array of defineSaga(...) definitions',
    },
  )
  .transform((value) => (isSagaRegistry(value) ? value : new SagaRegistry(value)));
