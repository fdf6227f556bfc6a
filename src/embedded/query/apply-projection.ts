import { Aggregator } from 'mingo';
import type { Document } from './document.js';
export function applyProjection(doc: Document, projection: Document | undefined): Document {
  if (projection === undefined || Object.keys(projection).length === 0) return doc;
  return new Aggregator([{ $project: projection }]).run([doc])[0] ?? {};
}
