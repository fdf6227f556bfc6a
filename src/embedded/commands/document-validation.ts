// Collection validators: writes whose resulting document fails the validator are refused (121), as MongoDB does.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { compileFilter, type DocumentMatcher } from '../query/index.js';
import type { Collection } from '../storage/collection.js';

/** null: a validator this server stores but cannot evaluate. */
const compiled = new WeakMap<Document, DocumentMatcher | null>();

/** True when `$jsonSchema` appears at the top level or under $and/$or/$nor. */
function usesJsonSchema(filter: unknown): boolean {
  if (filter === null || typeof filter !== 'object') return false;
  if (Array.isArray(filter)) return filter.some(usesJsonSchema);
  return Object.entries(filter).some(
    ([key, value]) =>
      key === '$jsonSchema' || (['$and', '$or', '$nor'].includes(key) && usesJsonSchema(value)),
  );
}

/**
 * The validator's matcher. `$jsonSchema` is not implemented by the query layer, so such validators are kept
 * (listCollections shows them) but not enforced; query-operator validators are.
 */
function matcherFor(validator: Document): DocumentMatcher | null {
  let matcher = compiled.get(validator);
  if (matcher === undefined) {
    matcher = usesJsonSchema(validator) ? null : compileFilter(validator);
    compiled.set(validator, matcher);
  }
  return matcher;
}

/** Compiles a validator at create/collMod time so a malformed one is refused there, not at the next write. */
export function checkValidatorSyntax(validator: Document): void {
  matcherFor(validator);
}

/**
 * Throws DocumentValidationFailure when `next` fails the collection's validator. `previous` is the document
 * an update replaces: with validationLevel 'moderate' an already invalid document may stay invalid.
 * `bypass` is the command's bypassDocumentValidation.
 */
export function validateDocument(
  collection: Collection,
  next: Document,
  previous: Document | undefined,
  bypass: boolean,
): void {
  const { validator, validationLevel, validationAction } = collection.options;
  if (validator === undefined || bypass || validationLevel === 'off') return;
  const matcher = matcherFor(validator);
  if (matcher === null || matcher(next)) return;
  if (validationLevel === 'moderate' && previous !== undefined && !matcher(previous)) return;
  if (validationAction === 'warn') return;
  throw new MongoCommandError('DocumentValidationFailure', 'Document failed validation', {
    extra: {
      errInfo: {
        failingDocumentId: next._id as unknown,
        details: { specifiedAs: validator, reason: 'the document does not match the collection validator' },
      },
    },
  });
}
