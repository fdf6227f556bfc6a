// The MongoClient options every sagastream process uses (runtime, SagaClient, the connection check): the
// driver's own failure detection, with its bounds written down instead of left to defaults.
import type { MongoClientOptions } from 'mongodb';

/**
 * - the monitor checks the server every 5 s and gives a check 5 s (`connectTimeoutMS` bounds it), so a dead
 *   link is noticed, the pool cleared and the server marked unknown within about 10 s;
 * - an operation waits at most 10 s for a usable server, and a socket at most 60 s for a reply (change-stream
 *   getMores answer within a second or two, so only a dead socket reaches it);
 * - a pooled connection idle for a minute is closed: the pool grows for a burst (a backlog after an outage) and
 *   shrinks back after it, instead of keeping its high-water mark of sockets for the life of the process.
 */
export const MONGO_CLIENT_TIMEOUTS = {
  serverSelectionTimeoutMS: 10_000,
  heartbeatFrequencyMS: 5_000,
  connectTimeoutMS: 5_000,
  socketTimeoutMS: 60_000,
  maxIdleTimeMS: 60_000,
} as const satisfies MongoClientOptions;

/** The options for a MongoClient of this process; `extra` (e.g. an appName) is added on top. */
export function mongoClientOptions(extra: MongoClientOptions = {}): MongoClientOptions {
  return { ...MONGO_CLIENT_TIMEOUTS, ...extra };
}
