// `$jsonSchema` as MongoDB implements it (JSON Schema draft 4 plus `bsonType`, no $ref): a predicate for queries and
// validators, and the `schemaRulesNotSatisfied` list mongod puts in a DocumentValidationFailure's errInfo.
import { MongoCommandError } from '../errors.js';
import { bsonTypeName, isPlainDocument } from './bson-type-name.js';
import { compareValues, valuesEqual } from './compare-values.js';
import type { Document } from './document.js';

type Schema = Record<string, unknown>;

const NUMBER_TYPES = new Set(['int', 'long', 'double', 'decimal']);
/** JSON Schema `type` names → the BSON type aliases they cover. */
const JSON_TYPES: Record<string, (alias: string) => boolean> = {
  object: (alias) => alias === 'object',
  array: (alias) => alias === 'array',
  number: (alias) => NUMBER_TYPES.has(alias),
  boolean: (alias) => alias === 'bool',
  string: (alias) => alias === 'string',
  null: (alias) => alias === 'null',
};
const KEYWORDS = new Set([
  'bsonType',
  'type',
  'required',
  'properties',
  'additionalProperties',
  'patternProperties',
  'minProperties',
  'maxProperties',
  'dependencies',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'enum',
  'items',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'title',
  'description',
  'encrypt',
  'encryptMetadata',
]);

function typeMatches(alias: string, wanted: string): boolean {
  return alias === wanted || (wanted === 'number' && NUMBER_TYPES.has(alias));
}

function listOf(value: unknown): string[] {
  return Array.isArray(value) ? (value as string[]) : [value as string];
}

/** Refuses unknown keywords and $ref, as mongod does when the validator or query is parsed. */
export function checkJsonSchema(schema: unknown): void {
  if (!isPlainDocument(schema)) throw new MongoCommandError('TypeMismatch', '$jsonSchema must be an object');
  for (const [keyword, value] of Object.entries(schema)) {
    if (!KEYWORDS.has(keyword)) {
      throw new MongoCommandError('FailedToParse', `Unknown $jsonSchema keyword: ${keyword}`);
    }
    if (keyword === 'properties' || keyword === 'patternProperties') {
      for (const nested of Object.values(value as Schema)) checkJsonSchema(nested);
    } else if (['allOf', 'anyOf', 'oneOf'].includes(keyword)) {
      for (const nested of value as unknown[]) checkJsonSchema(nested);
    } else if (keyword === 'not' || (keyword === 'items' && !Array.isArray(value))) {
      checkJsonSchema(value);
    } else if (keyword === 'type' && listOf(value).some((name) => JSON_TYPES[name] === undefined)) {
      throw new MongoCommandError('BadValue', `Unknown type name alias: ${String(value)}`);
    }
  }
}

/** A failed rule as mongod reports it in errInfo.details.schemaRulesNotSatisfied. */
type Failure = Document;

function typeFailure(keyword: string, schema: Schema, value: unknown): Failure {
  return {
    operatorName: keyword,
    specifiedAs: { [keyword]: schema[keyword] },
    reason: 'type did not match',
    consideredValue: value,
    consideredType: bsonTypeName(value),
  };
}

function plainFailure(keyword: string, schema: Schema, reason: string, value: unknown): Failure {
  return {
    operatorName: keyword,
    specifiedAs: { [keyword]: schema[keyword] },
    reason,
    consideredValue: value,
  };
}

/** Every rule of `schema` that `value` breaks (empty when it satisfies the schema). */
export function schemaFailures(schema: Schema, value: unknown): Failure[] {
  const failures: Failure[] = [];
  const alias = bsonTypeName(value);
  if (
    schema.bsonType !== undefined &&
    !listOf(schema.bsonType).some((wanted) => typeMatches(alias, wanted))
  ) {
    failures.push(typeFailure('bsonType', schema, value));
  }
  if (schema.type !== undefined && !listOf(schema.type).some((wanted) => JSON_TYPES[wanted]?.(alias))) {
    failures.push(typeFailure('type', schema, value));
  }
  if (schema.enum !== undefined && !(schema.enum as unknown[]).some((option) => valuesEqual(option, value))) {
    failures.push(plainFailure('enum', schema, 'value was not found in enum', value));
  }
  if (NUMBER_TYPES.has(alias)) numberFailures(schema, value, failures);
  if (typeof value === 'string') stringFailures(schema, value, failures);
  if (Array.isArray(value)) arrayFailures(schema, value, failures);
  if (isPlainDocument(value)) objectFailures(schema, value, failures);
  combinatorFailures(schema, value, failures);
  return failures;
}

function numberFailures(schema: Schema, value: unknown, failures: Failure[]): void {
  if (schema.minimum !== undefined) {
    const order = compareValues(value, schema.minimum);
    if (order < 0 || (order === 0 && schema.exclusiveMinimum === true)) {
      failures.push(plainFailure('minimum', schema, 'comparison failed', value));
    }
  }
  if (schema.maximum !== undefined) {
    const order = compareValues(value, schema.maximum);
    if (order > 0 || (order === 0 && schema.exclusiveMaximum === true)) {
      failures.push(plainFailure('maximum', schema, 'comparison failed', value));
    }
  }
  if (schema.multipleOf !== undefined && Number(value) % Number(schema.multipleOf) !== 0) {
    failures.push(
      plainFailure('multipleOf', schema, 'considered value is not a multiple of the specified value', value),
    );
  }
}

function stringFailures(schema: Schema, value: string, failures: Failure[]): void {
  const length = [...value].length;
  if (schema.minLength !== undefined && length < Number(schema.minLength)) {
    failures.push(plainFailure('minLength', schema, 'specified string length was not satisfied', value));
  }
  if (schema.maxLength !== undefined && length > Number(schema.maxLength)) {
    failures.push(plainFailure('maxLength', schema, 'specified string length was not satisfied', value));
  }
  if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
    failures.push(plainFailure('pattern', schema, 'regular expression did not match', value));
  }
}

function arrayFailures(schema: Schema, value: unknown[], failures: Failure[]): void {
  if (schema.minItems !== undefined && value.length < Number(schema.minItems)) {
    failures.push(plainFailure('minItems', schema, 'array did not match specified length', value));
  }
  if (schema.maxItems !== undefined && value.length > Number(schema.maxItems)) {
    failures.push(plainFailure('maxItems', schema, 'array did not match specified length', value));
  }
  if (
    schema.uniqueItems === true &&
    value.some((item, i) => value.slice(i + 1).some((o) => valuesEqual(item, o)))
  ) {
    failures.push(plainFailure('uniqueItems', schema, 'found a duplicate item', value));
  }
  const items = schema.items;
  if (isPlainDocument(items)) {
    const details = value.flatMap((item, itemIndex) => {
      const itemFailures = schemaFailures(items, item);
      return itemFailures.length > 0 ? [{ itemIndex, details: itemFailures }] : [];
    });
    if (details.length > 0) {
      failures.push({
        operatorName: 'items',
        reason: 'At least one item did not match the sub-schema',
        ...details[0],
      });
    }
  } else if (Array.isArray(items)) {
    const tuple = items as Schema[];
    const bad = tuple.findIndex(
      (itemSchema, i) => i < value.length && schemaFailures(itemSchema, value[i]).length > 0,
    );
    if (bad >= 0) {
      failures.push({
        operatorName: 'items',
        details: [{ itemIndex: bad, details: schemaFailures(tuple[bad]!, value[bad]) }],
      });
    }
    const extra = value.slice(tuple.length);
    if (schema.additionalItems === false && extra.length > 0) {
      failures.push(plainFailure('additionalItems', schema, 'found additional items', value));
    } else if (isPlainDocument(schema.additionalItems)) {
      const additional = schema.additionalItems;
      if (extra.some((item) => schemaFailures(additional, item).length > 0)) {
        failures.push(
          plainFailure('additionalItems', schema, 'At least one additional item did not match', value),
        );
      }
    }
  }
}

function objectFailures(schema: Schema, value: Record<string, unknown>, failures: Failure[]): void {
  const keys = Object.keys(value);
  if (schema.minProperties !== undefined && keys.length < Number(schema.minProperties)) {
    failures.push(
      plainFailure('minProperties', schema, 'specified number of properties was not satisfied', value),
    );
  }
  if (schema.maxProperties !== undefined && keys.length > Number(schema.maxProperties)) {
    failures.push(
      plainFailure('maxProperties', schema, 'specified number of properties was not satisfied', value),
    );
  }
  if (Array.isArray(schema.required)) {
    const missingProperties = (schema.required as string[]).filter((name) => !(name in value));
    if (missingProperties.length > 0) {
      failures.push({
        operatorName: 'required',
        specifiedAs: { required: schema.required },
        missingProperties,
      });
    }
  }
  const properties = (isPlainDocument(schema.properties) ? schema.properties : {}) as Record<string, Schema>;
  const propertiesNotSatisfied = Object.entries(properties).flatMap(([propertyName, propertySchema]) => {
    if (!(propertyName in value)) return [];
    const details = schemaFailures(propertySchema, value[propertyName]);
    return details.length > 0 ? [{ propertyName, details }] : [];
  });
  if (propertiesNotSatisfied.length > 0)
    failures.push({ operatorName: 'properties', propertiesNotSatisfied });
  const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>).map(
    ([pattern, patternSchema]) => ({ regex: new RegExp(pattern, 'u'), patternSchema }),
  );
  for (const { regex, patternSchema } of patterns) {
    for (const key of keys.filter((name) => regex.test(name))) {
      const details = schemaFailures(patternSchema, value[key]);
      if (details.length > 0)
        failures.push({ operatorName: 'patternProperties', propertyName: key, details });
    }
  }
  if (schema.additionalProperties !== undefined && schema.additionalProperties !== true) {
    const additional = keys.filter(
      (key) => !(key in properties) && !patterns.some(({ regex }) => regex.test(key)),
    );
    if (schema.additionalProperties === false && additional.length > 0) {
      failures.push({
        operatorName: 'additionalProperties',
        specifiedAs: { additionalProperties: false },
        additionalProperties: additional,
      });
    } else if (isPlainDocument(schema.additionalProperties)) {
      const additionalSchema = schema.additionalProperties;
      for (const key of additional) {
        const details = schemaFailures(additionalSchema, value[key]);
        if (details.length > 0)
          failures.push({ operatorName: 'additionalProperties', propertyName: key, details });
      }
    }
  }
  if (isPlainDocument(schema.dependencies)) {
    for (const [property, dependency] of Object.entries(schema.dependencies)) {
      if (!(property in value)) continue;
      const broken = Array.isArray(dependency)
        ? (dependency as string[]).some((name) => !(name in value))
        : schemaFailures(dependency as Schema, value).length > 0;
      if (broken)
        failures.push({
          operatorName: 'dependencies',
          failingDependencies: [{ conditionalProperty: property }],
        });
    }
  }
}

function combinatorFailures(schema: Schema, value: unknown, failures: Failure[]): void {
  const passes = (nested: Schema): boolean => schemaFailures(nested, value).length === 0;
  if (Array.isArray(schema.allOf) && !(schema.allOf as Schema[]).every(passes)) {
    failures.push({
      operatorName: 'allOf',
      schemasNotSatisfied: (schema.allOf as Schema[]).filter((s) => !passes(s)),
    });
  }
  if (Array.isArray(schema.anyOf) && !(schema.anyOf as Schema[]).some(passes)) {
    failures.push({ operatorName: 'anyOf', schemasNotSatisfied: schema.anyOf });
  }
  if (Array.isArray(schema.oneOf) && (schema.oneOf as Schema[]).filter(passes).length !== 1) {
    failures.push({ operatorName: 'oneOf', reason: 'exactly one schema must match' });
  }
  if (isPlainDocument(schema.not) && passes(schema.not)) {
    failures.push({ operatorName: 'not', reason: 'child expression matched' });
  }
}

/** A predicate for `{$jsonSchema: schema}` in a filter; the schema is checked once, here. */
export function compileJsonSchema(schema: unknown): (doc: unknown) => boolean {
  checkJsonSchema(schema);
  return (doc) => schemaFailures(schema as Schema, doc).length === 0;
}
