import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
const port = 47000 + Math.floor(Math.random() * 1000);
const dir = mkdtempSync(join(tmpdir(), 'probe-'));
const start = () => new Promise<ReturnType<typeof spawn>>((resolve) => {
  const child = spawn(process.execPath, ['bin/sagastream.js', 'mongo', '--port', String(port), '--dbpath', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.on('data', () => resolve(child));
});
let server = await start();
const clients = await Promise.all([0, 1, 2].map(() => new MongoClient(`mongodb://127.0.0.1:${port}/?replicaSet=rs0`).connect()));
const t0 = Date.now();
const stats = clients.map(() => ({ ok: 0, err: 0, lastErr: '' }));
const loops = clients.map(async (client, i) => {
  while (Date.now() - t0 < 45_000) {
    try { await client.db('p').collection('c').updateOne({ _id: i as never }, { $inc: { n: 1 } }, { upsert: true }); stats[i]!.ok++; }
    catch (e) { stats[i]!.err++; stats[i]!.lastErr = (e as Error).message; }
    await new Promise((r) => setTimeout(r, 50));
  }
});
await new Promise((r) => setTimeout(r, 3000));
server.kill('SIGTERM'); await new Promise((r) => server.once('exit', r)); console.log('stopped at', Date.now() - t0);
await new Promise((r) => setTimeout(r, 2000));
server = await start(); console.log('restarted at', Date.now() - t0);
const snap = stats.map((s) => ({ ...s }));
await Promise.all(loops);
console.log('after restart:', stats.map((s, i) => ({ okAfter: s.ok - snap[i]!.ok, errAfter: s.err - snap[i]!.err, lastErr: s.lastErr })));
server.kill('SIGTERM'); await Promise.all(clients.map((c) => c.close(true)));
process.exit(0);
