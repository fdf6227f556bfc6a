// Child process of `npm run bench`: the raw change-stream baseline. Watches a collection with the driver, as the
// trigger watcher does in its own process, and measures insert→event latency from each document's `sentAt`
// (wall-clock ms with sub-ms precision, comparable across processes on one machine). argv: MONGODB_URL DB COLLECTION
import { performance } from 'node:perf_hooks';
import { MongoClient } from 'mongodb';
import { serveBaseline, type RawChangeMessage } from './raw-chain.js';

const [mongodbUrl = '', database = 'bench', collectionName = 'raw_changes'] = process.argv.slice(2);
const now = (): number => performance.timeOrigin + performance.now();

const client = new MongoClient(mongodbUrl);
await client.connect();
const stream = client
  .db(database)
  .collection<{ seq: number; sentAt: number }>(collectionName)
  .watch([{ $match: { operationType: 'insert' } }]);
const latencies: number[] = [];
stream.on('change', (event) => {
  if (event.operationType === 'insert') latencies.push(now() - event.fullDocument.sentAt);
});
stream.on('error', (error) => process.stderr.write(`raw change stream failed: ${String(error)}\n`));
// The stream opens on its first getMore; give it a moment before the parent starts inserting.
await new Promise((resolve) => setTimeout(resolve, 300));
serveBaseline<RawChangeMessage>({
  latencies,
  progress: () => ({ type: 'progress', received: latencies.length }),
  report: () => ({ type: 'report', latencies }),
  close: () => stream.close().then(() => client.close()),
});
