// The `let` and `collation` of a command (or of one of its statements) as the query layer takes them.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { evaluateLetVariables, parseCollation, type QueryOptions } from '../query/index.js';
import type { Collection } from '../storage/collection.js';

/**
 * `let` is per command; `collation` is per statement for update/delete and per command otherwise. `let` values
 * are expressions, evaluated once before the command runs, as MongoDB does.
 */
export function queryOptionsOf(command: Document, statement?: Document): QueryOptions {
  const options: QueryOptions = {};
  const rawLet: unknown = command.let;
  if (rawLet !== undefined && rawLet !== null) {
    if (typeof rawLet !== 'object' || Array.isArray(rawLet)) {
      throw new MongoCommandError(
        'TypeMismatch',
        "BSON field 'let' is the wrong type, expected type 'object'",
      );
    }
    options.variables = evaluateLetVariables(rawLet as Document);
  }
  const collation = parseCollation(statement ? statement.collation : command.collation);
  if (collation) options.collation = collation;
  return options;
}

/**
 * Documents that may match: the collection's index-assisted candidates, or every document under a non-simple
 * collation (index keys are binary, so a collated equality can match a different key).
 */
export function candidateDocuments(
  collection: Collection,
  filter: Document,
  options: QueryOptions,
): Iterable<Document> {
  if (options.collation && options.collation.locale !== 'simple') return collection.allDocuments();
  return collection.candidates(filter);
}
