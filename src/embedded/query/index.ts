// BSON-aware query layer of the embedded server: matching, updates, projection, sort and aggregation.
export { bsonTypeName, isPlainDocument } from './bson-type-name.js';
export { compareValues, valuesEqual } from './compare-values.js';
export { valueKey } from './value-key.js';
export { cloneDocument } from './clone-document.js';
export { compileFilter, mingoOptionsFor } from './compile-filter.js';
export type { DocumentMatcher, QueryOptions } from './compile-filter.js';
export { parseCollation, collatedValueCompare } from './collation.js';
export { evaluateExpression, evaluateLetVariables } from './mingo-context.js';
export { applyUpdate } from './apply-update.js';
export type { ApplyUpdateOptions, UpdateDescription, UpdateOutcome } from './apply-update.js';
export { upsertSeed } from './upsert-seed.js';
export { applyProjection } from './apply-projection.js';
export { compileSort } from './compile-sort.js';
export { matchOnlyPipeline, runPipeline } from './run-pipeline.js';
export type { RunPipelineOptions } from './run-pipeline.js';
export type { Document } from './document.js';
export { schemaFailures } from './json-schema.js';
