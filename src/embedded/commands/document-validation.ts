// Collection validators: writes whose resulting document fails the validator are refused (121), as MongoDB does.
// Query-operator and `$jsonSchema` validators alike; a schema's broken rules are reported in errInfo as mongod does.
import type { Document } from 'bson';
import { MongoCommandError } from '../errors.js';
import { compileFilter, schemaFailures, type DocumentMatcher } from '../query/index.js';
import type { Collection } from '../storage/collection.js';

const compiled = new WeakMap<Document, DocumentMatcher>();

function matcherFor(validator: Document): DocumentMatcher {
  let matcher = compiled.get(validator);
  if (matcher === undefined) {
    matcher = compileFilter(validator);
    compiled.set(validator, matcher);
  }
  return matcher;
}

/** Compiles a validator at create/collMod time so a malformed one is refused there, not at the next write. */
export function checkValidatorSyntax(validator: Document): void {
  matcherFor(validator);
}

/**
 * errInfo.details: for a `{$jsonSchema}` validator, the schema rules the document breaks (mongod's
 * `schemaRulesNotSatisfied`); for query operators, the validator and a reason.
 */
function failureDetails(validator: Document, doc: Document): Document {
  const keys = Object.keys(validator);
  if (keys.length === 1 && keys[0] === '$jsonSchema') {
    return {
      operatorName: '$jsonSchema',
      schemaRulesNotSatisfied: schemaFailures(validator.$jsonSchema as Document, doc),
    };
  }
  return { specifiedAs: validator, reason: 'the document does not match the collection validator' };
}

export interface ValidationLogger {
  warn(object: object, message: string): void;
}

/** How a command's writes meet validators: its bypassDocumentValidation, and where 'warn' failures are logged. */
export interface ValidationPolicy {
  bypass: boolean;
  logger: ValidationLogger;
}

export function validationPolicyOf(context: {
  command: Document;
  logger: ValidationLogger;
}): ValidationPolicy {
  return { bypass: context.command.bypassDocumentValidation === true, logger: context.logger };
}

/**
 * Throws DocumentValidationFailure when `next` fails the collection's validator. `previous` is the document
 * an update replaces: with validationLevel 'moderate' an already invalid document may stay invalid. With
 * validationAction 'warn' the write goes through and the failure is logged at warn level with the same errInfo,
 * as mongod logs it ("Document would fail validation").
 */
export function validateDocument(
  collection: Collection,
  next: Document,
  previous: Document | undefined,
  policy: ValidationPolicy,
): void {
  const { validator, validationLevel, validationAction } = collection.options;
  if (validator === undefined || policy.bypass || validationLevel === 'off') return;
  const matcher = matcherFor(validator);
  if (matcher(next)) return;
  if (validationLevel === 'moderate' && previous !== undefined && !matcher(previous)) return;
  const errInfo = { failingDocumentId: next._id as unknown, details: failureDetails(validator, next) };
  if (validationAction === 'warn') {
    policy.logger.warn({ namespace: collection.fullName, errInfo }, 'Document would fail validation');
    return;
  }
  throw new MongoCommandError('DocumentValidationFailure', 'Document failed validation', {
    extra: { errInfo },
  });
}
