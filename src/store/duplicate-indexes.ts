// Which documents of an unordered insertMany hit a duplicate key, read from the driver's error.
import { MongoServerError } from 'mongodb';

const DUPLICATE_KEY = 11000;

/** Indexes of the duplicate-key failures of an unordered insertMany, or null when other errors occurred. */
export function duplicateIndexes(error: unknown): number[] | null {
  if (!(error instanceof MongoServerError) && !(error instanceof Error)) return null;
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0) return (error as { code?: number }).code === DUPLICATE_KEY ? [0] : null;
  const indexes: number[] = [];
  for (const writeError of list as {
    code?: number;
    index?: number;
    err?: { code?: number; index?: number };
  }[]) {
    const code = writeError.code ?? writeError.err?.code;
    const index = writeError.index ?? writeError.err?.index;
    if (code !== DUPLICATE_KEY || index === undefined) return null;
    indexes.push(index);
  }
  return indexes;
}
