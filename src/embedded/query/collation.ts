// Collations: the `collation` option of queries, sorts and writes, as a string comparison built on Intl.Collator.
import type { CollationSpec } from 'mingo/types';
import { MongoCommandError } from '../errors.js';
import { isPlainDocument } from './bson-type-name.js';
import { createValueCompare, type ValueCompare } from './compare-values.js';

export type StringCompare = (a: string, b: string) => number;

const collators = new Map<string, StringCompare>();

/** ICU strength → Intl sensitivity: 1 ignores case and accents, 2 ignores case, 3+ distinguishes both. */
function sensitivityOf(strength: number, caseLevel: boolean): Intl.CollatorOptions['sensitivity'] {
  if (strength === 1) return caseLevel ? 'case' : 'base';
  if (strength === 2) return caseLevel ? 'variant' : 'accent';
  return 'variant';
}

function badCollation(message: string): MongoCommandError {
  return new MongoCommandError('BadValue', message);
}

/** Checks a collation document as the server parses it; `undefined`/`null` mean "no collation". */
export function parseCollation(raw: unknown): CollationSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isPlainDocument(raw)) throw badCollation("BSON field 'collation' must be an object");
  const locale: unknown = raw.locale;
  if (typeof locale !== 'string') throw badCollation("Missing expected field 'locale'");
  const strength: unknown = raw.strength ?? 3;
  if (typeof strength !== 'number' || !Number.isInteger(strength) || strength < 1 || strength > 5) {
    throw badCollation('strength must be an integer 1 through 5');
  }
  return raw as unknown as CollationSpec;
}

/**
 * The string comparison of a collation, or undefined for none / the `simple` locale (binary comparison,
 * which the query layer's default path already does).
 */
export function collationCompare(spec: CollationSpec | undefined): StringCompare | undefined {
  if (spec === undefined || spec.locale === 'simple') return undefined;
  const strength = Number(spec.strength ?? 3);
  const key = JSON.stringify([spec.locale, strength, spec.caseLevel, spec.caseFirst, spec.numericOrdering]);
  let compare = collators.get(key);
  if (compare === undefined) {
    const locale = spec.locale.replace(/_/g, '-').replace(/@.*$/, '');
    let supported: string[];
    try {
      supported = Intl.Collator.supportedLocalesOf(locale);
    } catch (error) {
      throw new MongoCommandError('BadValue', `Field 'locale' is invalid in: ${JSON.stringify(spec)}`, {
        cause: error,
      });
    }
    if (supported.length === 0) {
      throw new MongoCommandError('BadValue', `Field 'locale' is invalid in: ${JSON.stringify(spec)}`);
    }
    const collator = new Intl.Collator(supported[0], {
      usage: 'sort',
      sensitivity: sensitivityOf(strength, spec.caseLevel === true),
      numeric: spec.numericOrdering === true,
      ...(spec.caseFirst && spec.caseFirst !== 'off' ? { caseFirst: spec.caseFirst } : {}),
    });
    compare = (a, b) => collator.compare(a, b);
    collators.set(key, compare);
  }
  return compare;
}

const valueCompares = new WeakMap<StringCompare, ValueCompare>();

/** The whole-value comparison under a collation, or undefined when strings compare binary. */
export function collatedValueCompare(spec: CollationSpec | undefined): ValueCompare | undefined {
  const strings = collationCompare(spec);
  if (strings === undefined) return undefined;
  let compare = valueCompares.get(strings);
  if (compare === undefined) {
    compare = createValueCompare(strings);
    valueCompares.set(strings, compare);
  }
  return compare;
}
