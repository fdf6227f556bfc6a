// Process entry point for the admin API and dashboard on ADMIN_HOST:ADMIN_PORT.
// Reads its configuration from the environment (MONGODB_URL, REDIS_URL, SAGAS, …) like `sagastream admin`:
//   node --import tsx workers/admin.ts        (from source)    node dist/workers/admin.js   (built)
import { main } from '../src/cli/main.js';

process.exit(await main(['admin', ...process.argv.slice(2)]));
