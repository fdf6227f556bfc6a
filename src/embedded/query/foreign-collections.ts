// The other collections a pipeline reads ($lookup, $graphLookup, $unionWith, also inside $facet and sub-pipelines):
// the aggregate command takes each one's documents when it starts, so a read that pauses sees them as they were then.
import { isPlainDocument } from './bson-type-name.js';

export function foreignCollections(pipeline: readonly unknown[], names = new Set<string>()): Set<string> {
  for (const stage of pipeline) {
    if (!isPlainDocument(stage)) continue;
    for (const [name, spec] of Object.entries(stage)) {
      if (name === '$unionWith' && typeof spec === 'string') names.add(spec);
      if (!isPlainDocument(spec)) continue;
      if ((name === '$lookup' || name === '$graphLookup') && typeof spec.from === 'string')
        names.add(spec.from);
      if (name === '$unionWith' && typeof spec.coll === 'string') names.add(spec.coll);
      if ((name === '$lookup' || name === '$unionWith') && Array.isArray(spec.pipeline)) {
        foreignCollections(spec.pipeline, names);
      }
      if (name === '$facet') {
        for (const subPipeline of Object.values(spec)) {
          if (Array.isArray(subPipeline)) foreignCollections(subPipeline, names);
        }
      }
    }
  }
  return names;
}
