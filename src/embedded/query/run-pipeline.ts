import { Aggregator } from 'mingo';
import type { Document } from './document.js';
export interface RunPipelineOptions {
  resolveCollection?: (name: string) => Document[];
}
export function runPipeline(docs: Document[], pipeline: Document[], options: RunPipelineOptions = {}): Document[] {
  const aggregator = new Aggregator(pipeline, options.resolveCollection ? { collectionResolver: options.resolveCollection } : {});
  return aggregator.run(docs);
}
