// Opens change-stream cursors: validates the `$changeStream` stage and the user stages, and checks that the
// requested start is still in history (this is where the aggregate fails with 286, never later by surprise).
import type { Document } from '../query/index.js';
import { MongoCommandError } from '../errors.js';
import { ChangeStreamCursor, historyLostError } from './change-stream-cursor.js';
import { historyNeededAfter, parseChangeStreamOptions } from './change-stream-options.js';
import { isChangeStreamPipeline, validateChangeStreamStages } from './change-stream-pipeline.js';
import { resolveChangeStreamScope, type ChangeStreamScope } from './change-stream-scope.js';
import type { ChangeStreamSource } from './change-stream-source.js';
import type { ResumePoint } from './resume-token.js';

/**
 * Opens a stream over `scope`. `stage` is the `$changeStream` stage's argument, `userStages` the stages
 * after it. With no resume option the stream starts after the cluster time at this moment.
 */
export function openChangeStream(
  source: ChangeStreamSource,
  scope: ChangeStreamScope,
  stage: unknown,
  userStages: readonly Document[],
): ChangeStreamCursor {
  const options = parseChangeStreamOptions(stage);
  validateChangeStreamStages(userStages);
  const oplog = source.oplog;
  let start: ResumePoint;
  if (options.start === null) {
    start = { ts: oplog.clusterTime, kind: 'highWaterMark' };
  } else {
    start = options.start;
    // A point beyond the clock is fine: the stream waits for it, as MongoDB does for future times.
    if (!oplog.covers(historyNeededAfter(start))) throw historyLostError();
  }
  return new ChangeStreamCursor(source, scope, options, userStages, start);
}

/**
 * Everything the `aggregate` command needs: `db` is the command's database and `target` its `aggregate`
 * value (a collection name, or 1). Throws MongoCommandError for anything MongoDB refuses.
 */
export function openChangeStreamForAggregate(
  source: ChangeStreamSource,
  db: string,
  target: string | number,
  pipeline: readonly unknown[],
): ChangeStreamCursor {
  if (!isChangeStreamPipeline(pipeline)) {
    throw new MongoCommandError(
      'Location40602',
      '$changeStream is only valid as the first stage in a pipeline',
    );
  }
  const stage: unknown = (pipeline[0] as Document).$changeStream;
  const { allChangesForCluster } = parseChangeStreamOptions(stage);
  const scope = resolveChangeStreamScope(db, target, allChangesForCluster);
  return openChangeStream(source, scope, stage, pipeline.slice(1) as Document[]);
}
