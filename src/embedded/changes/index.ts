// Change streams of the embedded server: cursors over the oplog, resume tokens, invalidation.
export { ChangeStreamCursor, type ChangeStreamBatch } from './change-stream-cursor.js';
export { openChangeStream, openChangeStreamForAggregate } from './open-change-stream.js';
export type { ChangeStreamSource } from './change-stream-source.js';
export { cursorNamespace, resolveChangeStreamScope, type ChangeStreamScope } from './change-stream-scope.js';
export {
  parseChangeStreamOptions,
  type ChangeStreamOptions,
  type FullDocumentMode,
  type FullDocumentBeforeChangeMode,
} from './change-stream-options.js';
export { isChangeStreamPipeline, validateChangeStreamStages } from './change-stream-pipeline.js';
export {
  compareResumePoints,
  decodeResumeToken,
  encodeResumeToken,
  type ResumePoint,
  type ResumeToken,
  type ResumeTokenKind,
} from './resume-token.js';
