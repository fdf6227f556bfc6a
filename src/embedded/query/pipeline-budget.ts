// How a long aggregation shares the event loop: the command layer's ReadBudget (commands/read-budget.ts) implements
// this, so the query layer can pause between slices of its work without knowing about connections or clocks.
import type { Document } from './document.js';

export interface PipelineBudget {
  /** Called once per document of cheap work: true when the caller must `await pause()` before going on. */
  due(): boolean;
  /** Called after a batch of work of unknown cost (a chunk through a mingo stage): reads the clock now. */
  dueNow(): boolean;
  /** Lets other connections' commands run; throws when the command's maxTimeMS has passed. */
  pause(): Promise<void>;
}

/** The documents of `docs` that `matches`, in order, pausing between slices. */
export async function filterInSlices(
  docs: readonly Document[],
  matches: (doc: Document) => boolean,
  budget: PipelineBudget,
): Promise<Document[]> {
  const out: Document[] = [];
  for (const doc of docs) {
    if (matches(doc)) out.push(doc);
    if (budget.due()) await budget.pause();
  }
  return out;
}
