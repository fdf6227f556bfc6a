// The type of a value after a round trip through MongoDB, as steps read earlier outputs back from the saga.
import type { Binary, Decimal128, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';

/** BSON values that come back as they went in. */
type KeptAsIs = Date | ObjectId | Decimal128 | Long | Binary | Timestamp | MinKey | MaxKey | RegExp;

/**
 * `T` as the driver reads it back: `undefined` is stored as `null`, buffers come back as `Binary`, a `bigint`
 * as a number, and `Date`, `ObjectId`, `Decimal128` and the other BSON types keep their types; objects and
 * arrays are converted field by field.
 */
export type Stored<T> = T extends undefined
  ? null
  : T extends KeptAsIs
    ? T
    : T extends Uint8Array
      ? Binary
      : T extends bigint
        ? number
        : T extends readonly (infer E)[]
          ? Stored<E>[]
          : T extends object
            ? { [K in keyof T]: Stored<T[K]> }
            : T;
