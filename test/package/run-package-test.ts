// The package as users get it: packs sagastream, installs the tarball into fresh projects outside the repository
// (plain `npm init -y`, so CommonJS, then `"type": "module"`), writes the README's "Writing your own saga"
// example there and runs it through the installed CLI: a matching insert completes, a `TerminalError`
// compensates. Then it runs the README's "Testing your sagas" example there with vitest (sagastream/testing
// starting its own MongoDB and redis-server). Without tsx installed, a TypeScript module gets a one-line message.
// Exits non-zero on failure.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const keep = process.argv.includes('--keep');
const workspace = mkdtempSync(join(tmpdir(), 'sagastream-package-'));

/** A stand-in for the payment service the README's example imports: declines totals above 1,000. */
const PAYMENTS_STUB = `export class Payments {
  static async connect(_url: string | undefined, _logger: unknown): Promise<Payments> {
    return new Payments();
  }
  async charge(_customerId: string, total: number, options: { idempotencyKey: string; signal: AbortSignal }) {
    return { id: \`charge-\${options.idempotencyKey}\`, declined: total > 1000 };
  }
  async refund(chargeId: string): Promise<string> {
    return chargeId;
  }
}
`;

function step(message: string): void {
  process.stdout.write(`[package] ${message}\n`);
}

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The ```ts code block of README.md whose first line is `// <file>`. */
function readmeExample(file: string): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const firstLine = `// ${file}\n`;
  const block = readme.split('```ts\n').find((text) => text.startsWith(firstLine));
  const end = block?.indexOf('```') ?? -1;
  if (block === undefined || end < 0)
    throw new Error(`README.md has no \`\`\`ts block starting with "// ${file}"`);
  return block.slice(0, end);
}

function pack(): string {
  step('npm pack (prepack builds dist/)');
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', workspace], repo)) as {
    filename: string;
    files: { path: string }[];
  }[];
  if (!packed) throw new Error('npm pack printed no package');
  const shipped = packed.files.map((file) => file.path);
  for (const needed of [
    'bin/sagastream.js',
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/src/cli/main.js',
    'dist/src/testing/index.js',
    'dist/src/testing/index.d.ts',
  ]) {
    if (!shipped.includes(needed)) throw new Error(`the package lacks ${needed}`);
  }
  const maps = shipped.filter((path) => path.endsWith('.map'));
  if (maps.length > 0) throw new Error(`the package ships source maps without their sources: ${maps[0]}`);
  step(`${packed.filename}: ${shipped.length} files`);
  return join(workspace, packed.filename);
}

function freshProject(name: string, tarball: string, type: 'commonjs' | 'module'): string {
  const dir = join(workspace, name);
  execFileSync('mkdir', ['-p', dir]);
  npm(['init', '-y'], dir);
  if (type === 'module') npm(['pkg', 'set', 'type=module'], dir);
  step(
    `${name}: npm install the tarball, zod, tsx and vitest (typescript to check types) into a fresh "type": "${type}" project`,
  );
  npm(
    ['install', '--no-audit', '--no-fund', tarball, 'zod', 'tsx', 'vitest', 'typescript', '@types/node'],
    dir,
  );
  writeFileSync(join(dir, 'sagas.ts'), readmeExample('sagas.ts'));
  writeFileSync(join(dir, 'sagas.test.ts'), readmeExample('sagas.test.ts'));
  writeFileSync(join(dir, 'start-order.ts'), readmeExample('start-order.ts'));
  writeFileSync(join(dir, 'payments.ts'), PAYMENTS_STUB);
  return dir;
}

/**
 * `sagastream dev --sagas-module ./sagas.ts` in the project, through the installed bin that `npx sagastream`
 * runs (started directly, so SIGTERM reaches the CLI rather than npx); resolves with the MongoDB URI and a stop.
 */
async function startDevStack(
  dir: string,
): Promise<{ mongodbUrl: string; redisUrl: string; stop(): Promise<number | null> }> {
  const bin = join(dir, 'node_modules', '.bin', 'sagastream');
  const child = spawn(bin, ['dev', '--sagas-module', './sagas.ts', '--admin-port', '0'], {
    cwd: dir,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const [mongodbUrl, redisUrl] = await new Promise<[string, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 90 s; stderr:\n${stderr}`)), 90_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const urls = /ready: MongoDB (mongodb:\/\/\S+).*Redis (redis:\/\/\S+)/.exec(stdout);
      if (urls?.[1] && urls[2]) {
        clearTimeout(timer);
        resolve([urls[1], urls[2]]);
      }
    });
    void exited.then((code) => reject(new Error(`sagastream dev exited with ${String(code)}:\n${stderr}`)));
  });
  return {
    mongodbUrl,
    redisUrl,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function statusOf(client: MongoClient, orderId: unknown): Promise<string | undefined> {
  const saga = await client
    .db('sagastream')
    .collection('sagas')
    .findOne({ 'trigger.documentKey._id': orderId });
  return saga?.status as string | undefined;
}

async function until(what: string, read: () => Promise<string | undefined>, wanted: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last: string | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (last === wanted) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: expected ${wanted}, still ${String(last)} after 60 s`);
}

/** The example type-checks against the installed package's own declarations, as a user's editor and CI see them. */
function typecheckExample(dir: string, name: string): void {
  const flags = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--target', 'es2023'];
  try {
    const files = ['sagas.ts', 'payments.ts', 'sagas.test.ts', 'start-order.ts'];
    execFileSync('npx', ['tsc', ...flags, '--types', 'node', ...files], { cwd: dir, stdio: 'pipe' });
  } catch (error) {
    const { stdout } = error as { stdout: Buffer };
    throw new Error(`${name}: the README example does not type-check:\n${stdout.toString()}`);
  }
  step(`${name}: tsc --strict accepts the README examples`);
}

/** The README's "Starting sagas from code" example, run with tsx against the dev stack's servers. */
function startFromCode(dir: string, name: string, stack: { mongodbUrl: string; redisUrl: string }): void {
  const env = { ...process.env, MONGODB_URL: stack.mongodbUrl, REDIS_URL: stack.redisUrl };
  const printed = execFileSync('npx', ['tsx', 'start-order.ts'], { cwd: dir, env, encoding: 'utf8' });
  if (!/^saga sg\S+ completed$/m.test(printed)) {
    throw new Error(`${name}: start-order.ts printed ${JSON.stringify(printed)}, not a completed saga`);
  }
  step(`${name}: start-order.ts (SagaClient) started a saga and awaited it: ${printed.trim()}`);
}

async function runExample(dir: string, name: string): Promise<void> {
  step(`${name}: npx sagastream dev --sagas-module ./sagas.ts`);
  const stack = await startDevStack(dir);
  let code: number | null = null;
  const client = await MongoClient.connect(stack.mongodbUrl);
  try {
    const orders = client.db('sagastream').collection('orders');
    const { insertedId: paid } = await orders.insertOne({ status: 'placed', customerId: 'c-1', total: 25 });
    const { insertedId: declined } = await orders.insertOne({
      status: 'placed',
      customerId: 'c-2',
      total: 5000,
    });
    await until(`${name}: the paid order's saga`, () => statusOf(client, paid), 'completed');
    await until(`${name}: the declined order's saga`, () => statusOf(client, declined), 'compensated');
    step(`${name}: a matching insert completed, a TerminalError compensated`);
    startFromCode(dir, name, stack);
  } finally {
    await client.close();
    code = await stack.stop(); // also when the example failed: no stack is left running
  }
  if (code !== 0) throw new Error(`${name}: sagastream dev exited with ${String(code)} after SIGTERM`);
}

interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
}

/** `npx vitest run` on the README's "Testing your sagas" example: every test passes, and there are some. */
function runTests(dir: string, name: string): void {
  step(`${name}: npx vitest run (the README's sagas.test.ts)`);
  try {
    execFileSync(
      'npx',
      ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile=vitest.json'],
      {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 180_000,
      },
    );
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${name}: npx vitest run failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
  const report = JSON.parse(readFileSync(join(dir, 'vitest.json'), 'utf8')) as VitestReport;
  if (report.numTotalTests === 0 || report.numPassedTests !== report.numTotalTests) {
    throw new Error(`${name}: vitest ran ${report.numTotalTests} tests, ${report.numPassedTests} passed`);
  }
  step(`${name}: vitest passed all ${report.numTotalTests} tests of the README's sagas.test.ts`);
}

function checkWithoutTsx(dir: string, name: string): void {
  npm(['uninstall', '--no-audit', '--no-fund', 'tsx'], dir);
  try {
    execFileSync('npx', ['sagastream', 'check', '--sagas-module', './sagas.ts'], { cwd: dir, stdio: 'pipe' });
  } catch (error) {
    const { status, stderr } = error as { status: number; stderr: Buffer };
    const message = stderr.toString();
    if (status === 1 && /needs tsx to load: run `npm install --save-dev tsx`/.test(message)) {
      step(`${name}: without tsx, a .ts module gets: ${message.trim()}`);
      return;
    }
    throw new Error(`${name}: without tsx, check exited ${status}: ${message}`);
  }
  throw new Error(`${name}: without tsx, a .ts sagas module loaded anyway`);
}

try {
  const tarball = pack();
  for (const type of ['commonjs', 'module'] as const) {
    const name = `user-${type}`;
    const dir = freshProject(name, tarball, type);
    typecheckExample(dir, name);
    await runExample(dir, name);
    runTests(dir, name);
    if (type === 'commonjs') checkWithoutTsx(dir, name);
  }
  step('passed');
} finally {
  if (keep) step(`kept ${workspace}`);
  else rmSync(workspace, { recursive: true, force: true });
}
