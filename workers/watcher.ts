// Process entry point for the trigger watcher (change streams → sagas) with the recovery sweeper.
// Reads its configuration from the environment (MONGODB_URL, REDIS_URL, SAGAS, …) like `sagastream watcher`:
//   node --import tsx workers/watcher.ts        (from source)    node dist/workers/watcher.js   (built)
import { main } from '../src/cli/main.js';

process.exit(await main(['watcher', ...process.argv.slice(2)]));
