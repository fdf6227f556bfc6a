// Where each trigger's change stream stands: the resume token saved after the sagas of the events before it
// were durably created. Saves carry the lease's fencing token so a deposed holder cannot overwrite the new one.
import { MongoServerError, type Collection, type Db, type ResumeToken, type Timestamp } from 'mongodb';

export interface CheckpointDocument {
  /** `trigger:<saga name>`, the same id as the trigger's lease. */
  _id: string;
  resumeToken: ResumeToken;
  /** Cluster time of the last event covered, when known. */
  clusterTime?: Timestamp;
  /** True when the token is an `invalidate` (collection dropped or renamed): resume with `startAfter`. */
  invalidated?: boolean;
  updatedAt: Date;
  fencingToken: number;
}

export interface Checkpoint {
  resumeToken: ResumeToken;
  clusterTime?: Timestamp;
  invalidated?: boolean;
}

const DUPLICATE_KEY = 11000;

export class CheckpointStore {
  readonly collection: Collection<CheckpointDocument>;

  constructor(db: Db, collectionName = 'checkpoints') {
    this.collection = db.collection<CheckpointDocument>(collectionName);
  }

  load(checkpointId: string): Promise<CheckpointDocument | null> {
    return this.collection.findOne({ _id: checkpointId });
  }

  /**
   * Saves unless a holder with a newer fencing token has saved already; false when fenced out.
   * Saving an older token is allowed (it only makes a restart replay events, which the unique saga key absorbs).
   */
  async save(
    checkpointId: string,
    checkpoint: Checkpoint,
    fencingToken: number,
    now = new Date(),
  ): Promise<boolean> {
    const document: Omit<CheckpointDocument, '_id'> = {
      resumeToken: checkpoint.resumeToken,
      ...(checkpoint.clusterTime ? { clusterTime: checkpoint.clusterTime } : {}),
      invalidated: checkpoint.invalidated === true,
      updatedAt: now,
      fencingToken,
    };
    try {
      await this.collection.updateOne(
        { _id: checkpointId, fencingToken: { $lte: fencingToken } },
        checkpoint.clusterTime ? { $set: document } : { $set: document, $unset: { clusterTime: '' } },
        { upsert: true },
      );
      return true;
    } catch (error) {
      // The filter missed on an existing checkpoint, so the upsert collided with it: a newer holder owns it.
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  /** Forgets a trigger's position: the next start begins from now (with backfill, if configured). */
  async remove(checkpointId: string): Promise<void> {
    await this.collection.deleteOne({ _id: checkpointId });
  }
}
