// The stages a user may put after `$changeStream`, and how they run on each event.
import { MongoCommandError } from '../errors.js';
import { cloneDocument, matchOnlyPipeline, runPipeline, type Document } from '../query/index.js';

/** Stages MongoDB allows after `$changeStream`: they transform one event at a time. */
const ALLOWED_STAGES = new Set([
  '$match',
  '$project',
  '$addFields',
  '$set',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
  '$redact',
]);

/** Real MongoDB stages that are refused in a change stream (unknown names get 40324 instead). */
const KNOWN_STAGES = new Set([
  '$bucket',
  '$bucketAuto',
  '$changeStreamSplitLargeEvent',
  '$collStats',
  '$count',
  '$currentOp',
  '$densify',
  '$documents',
  '$facet',
  '$fill',
  '$geoNear',
  '$graphLookup',
  '$group',
  '$indexStats',
  '$limit',
  '$listLocalSessions',
  '$listSearchIndexes',
  '$listSessions',
  '$lookup',
  '$merge',
  '$out',
  '$planCacheStats',
  '$sample',
  '$search',
  '$searchMeta',
  '$setWindowFields',
  '$skip',
  '$sort',
  '$sortByCount',
  '$unionWith',
  '$unwind',
  '$vectorSearch',
]);

function stageName(stage: unknown): string {
  if (typeof stage !== 'object' || stage === null || Array.isArray(stage)) {
    throw new MongoCommandError('TypeMismatch', "Each element of the 'pipeline' array must be an object");
  }
  const keys = Object.keys(stage);
  const name = keys[0];
  if (keys.length !== 1 || name === undefined) {
    throw new MongoCommandError(
      'Location40323',
      'A pipeline stage specification object must contain exactly one field.',
    );
  }
  return name;
}

/** True when `pipeline` opens a change stream (its first stage is `$changeStream`). */
export function isChangeStreamPipeline(pipeline: readonly unknown[]): boolean {
  const first = pipeline[0];
  return typeof first === 'object' && first !== null && !Array.isArray(first) && '$changeStream' in first;
}

/** Rejects user stages that MongoDB rejects after `$changeStream`, with MongoDB's codes. */
export function validateChangeStreamStages(userStages: readonly unknown[]): void {
  for (const stage of userStages) {
    const name = stageName(stage);
    if (ALLOWED_STAGES.has(name)) continue;
    if (name === '$changeStream') {
      throw new MongoCommandError(
        'Location40602',
        '$changeStream is only valid as the first stage in a pipeline',
      );
    }
    if (KNOWN_STAGES.has(name)) {
      throw new MongoCommandError('IllegalOperation', `${name} is not permitted in a $changeStream pipeline`);
    }
    throw new MongoCommandError('Location40324', `Unrecognized pipeline stage name: '${name}'`);
  }
}

const ID_MODIFIED_MESSAGE =
  'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. ' +
  'Modifying the _id field of an event makes it impossible to resume the stream from that point. Only ' +
  'transformations that retain the unmodified _id field are allowed.';

function keepsResumeToken(original: Document, transformed: Document): boolean {
  const token: unknown = transformed._id;
  if (typeof token !== 'object' || token === null || Array.isArray(token)) return false;
  const keys = Object.keys(token);
  return (
    keys.length === 1 && keys[0] === '_data' && (token as Document)._data === (original._id as Document)._data
  );
}

/**
 * Runs the user's stages on one event: the transformed event, or null when a stage filtered it out.
 * A stage that changes `_id` would break resuming, so it fails the stream for good (280, non-resumable).
 */
export function applyUserStages(event: Document, userStages: readonly Document[]): Document | null {
  if (userStages.length === 0) return event;
  const matcher = matchOnlyPipeline(userStages);
  if (matcher) return matcher(event) ? event : null;
  // The event shares documents with the oplog and storage; stages such as $set on a dotted path would
  // otherwise write through into them.
  const [transformed] = runPipeline([cloneDocument(event)], [...userStages]);
  if (transformed === undefined) return null;
  if (!keepsResumeToken(event, transformed)) {
    throw new MongoCommandError('ChangeStreamFatalError', ID_MODIFIED_MESSAGE, {
      labels: ['NonResumableChangeStreamError'],
    });
  }
  return transformed;
}
