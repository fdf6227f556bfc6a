// Process entry point for a step worker; extra arguments pass through (--concurrency 20 --sagas a,b).
// Reads its configuration from the environment (MONGODB_URL, REDIS_URL, SAGAS, …) like `sagastream worker`:
//   node --import tsx workers/worker.ts        (from source)    node dist/workers/worker.js   (built)
import { main } from '../src/cli/main.js';

process.exit(await main(['worker', ...process.argv.slice(2)]));
