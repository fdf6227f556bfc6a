// The shape of every saga version a process has run, per (name, version), in `saga_definitions`: a process whose
// definition of a stored version has another shape refuses to start, since sagas in flight on that version would
// run on steps they were not started with.
import type { Collection, Db } from 'mongodb';
import {
  definitionFingerprint,
  definitionShape,
  describeShapeChanges,
  type DefinitionShape,
  type SagaDefinition,
} from '../definition/index.js';
import { SagastreamError } from '../errors/index.js';

export interface DefinitionRecord {
  /** `<name>@v<version>` */
  _id: string;
  saga: string;
  version: number;
  fingerprint: string;
  shape: DefinitionShape;
  recordedAt: Date;
}

export interface CheckDefinitionsOptions {
  /**
   * Refuse a changed shape (the default). Off (`sagastream dev`), a changed shape is recorded as the version's new
   * shape instead, so editing a saga during development needs no version bump.
   */
  enforce: boolean;
}

export const DEFINITIONS_COLLECTION = 'saga_definitions';

export function definitionRecordId(saga: string, version: number): string {
  return `${saga}@v${version}`;
}

export class DefinitionStore {
  readonly collection: Collection<DefinitionRecord>;

  constructor(db: Db) {
    this.collection = db.collection<DefinitionRecord>(DEFINITIONS_COLLECTION);
  }

  /** `sagastream versions` and the admin API list the records in (saga, version) order through this index. */
  async ensureIndexes(): Promise<void> {
    await this.collection.createIndexes([{ key: { saga: 1, version: 1 }, name: 'saga_version' }]);
  }

  /**
   * Records each version's shape the first time a process runs it, and compares it with the stored one after.
   * @throws SagastreamError `DEFINITION_CHANGED` (with `enforce`) naming every saga version whose shape changed,
   * what changed, and that its version must be bumped.
   */
  async check(definitions: readonly SagaDefinition[], options: CheckDefinitionsOptions): Promise<void> {
    const refusals: string[] = [];
    for (const definition of definitions) {
      const shape = definitionShape(definition);
      const fingerprint = definitionFingerprint(shape);
      const _id = definitionRecordId(definition.name, definition.version);
      const record = { saga: definition.name, version: definition.version, fingerprint, shape };
      // Upsert keyed by _id: two processes starting at once record the same shape once.
      const stored = await this.collection.findOneAndUpdate(
        { _id },
        { $setOnInsert: { ...record, recordedAt: new Date() } },
        { upsert: true, returnDocument: 'before' },
      );
      if (stored === null || stored.fingerprint === fingerprint) continue;
      if (!options.enforce) {
        await this.collection.updateOne({ _id }, { $set: { ...record, recordedAt: new Date() } });
        continue;
      }
      const changes = describeShapeChanges(stored.shape, shape);
      refusals.push(
        `saga "${definition.name}" v${definition.version} changed shape since it was first run: ` +
          `${changes.join('; ')}. Sagas started on v${definition.version} may still be in flight and would ` +
          `run on steps they were not started with: keep v${definition.version} as it was and define the ` +
          `change as version ${definition.version + 1} (bump \`version\`).`,
      );
    }
    if (refusals.length > 0) {
      throw new SagastreamError('DEFINITION_CHANGED', `Refusing to start: ${refusals.join(' ')}`);
    }
  }

  /** Every recorded (name, version), for `sagastream versions`. */
  list(): Promise<Pick<DefinitionRecord, 'saga' | 'version' | 'recordedAt'>[]> {
    return this.collection
      .find({}, { projection: { _id: 0, saga: 1, version: 1, recordedAt: 1 } })
      .sort({ saga: 1, version: 1 })
      .toArray();
  }
}
