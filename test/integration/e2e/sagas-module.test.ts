// The real CLI loads a user's sagas module from a CommonJS or an ESM project, in every file type it may take,
// and a module that cannot load fails with one line and exit code 1.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoUrl, redisUrl, uniqueName } from '../helpers.js';
import { runCli } from './cli-process.js';

const projects = mkdtempSync(join(tmpdir(), 'sagastream-modules-'));

afterAll(() => rmSync(projects, { recursive: true, force: true }));

/** A registry as the loader sees one (it duck-types, since a user's module has its own copy of sagastream). */
function registrySource(name: string, typed: boolean): string {
  const annotation = typed ? ': { name: string; version: number }' : '';
  return `const saga${annotation} = { name: '${name}', version: 1, trigger: { collection: 'orders', on: ['insert'] }, steps: [{ name: 'only' }] };
const registry = { list: () => [saga], get: () => saga, select() { return this; } };`;
}

const esmExport = 'export default registry;';
const cjsExport = 'module.exports = registry;';

/** File type → how a module of that type exports, per project type (`.js` and `.ts` follow the project). */
const modules: Record<'commonjs' | 'module', Record<string, { exports: string; typed: boolean }>> = {
  commonjs: {
    ts: { exports: esmExport, typed: true }, // compiled to CommonJS: exports.default with __esModule
    mts: { exports: esmExport, typed: true },
    cts: { exports: esmExport, typed: true },
    js: { exports: cjsExport, typed: false },
    mjs: { exports: esmExport, typed: false },
    cjs: { exports: cjsExport, typed: false },
  },
  module: {
    ts: { exports: esmExport, typed: true },
    mts: { exports: esmExport, typed: true },
    cts: { exports: cjsExport.replace('module.exports =', 'export ='), typed: true },
    js: { exports: esmExport, typed: false },
    mjs: { exports: esmExport, typed: false },
    cjs: { exports: 'module.exports = { registry };', typed: false },
  },
};

/** A fresh directory under the test's temporary folder. */
function directory(name: string): string {
  const dir = join(projects, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('sagas modules', () => {
  for (const type of ['commonjs', 'module'] as const) {
    it(
      `loads .ts, .mts, .cts, .js, .mjs and .cjs modules of a "type": "${type}" project`,
      { timeout: 120_000 },
      async () => {
        const dir = directory(type);
        writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `user-${type}`, type }));
        const results: Record<string, string> = {};
        for (const [extension, { exports, typed }] of Object.entries(modules[type])) {
          const file = join(dir, `sagas-${extension}.${extension}`);
          writeFileSync(file, `${registrySource(`${type}-${extension}`, typed)}\n${exports}\n`);
          const result = await runCli(['check', '--sagas-module', file]);
          results[extension] =
            result.code === 0 ? result.stdout : `exit ${String(result.code)}: ${result.stderr}`;
        }
        for (const extension of Object.keys(modules[type])) {
          expect(results[extension]).toContain(`${type}-${extension} v1: on insert in orders; steps only`);
        }
      },
    );
  }

  it('fails with one line and exit code 1 for a module that is missing, broken or exports no sagas', async () => {
    const dir = directory('broken');
    const broken = join(dir, 'broken.ts');
    writeFileSync(broken, 'export default {{ not typescript');
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export const nothing = 1;\n');
    const cases = [
      [join(dir, 'missing.ts'), /^The sagas module .*missing\.ts does not exist: check the path/],
      [broken, /^Cannot load the sagas module .*broken\.ts: .*\(fix the module/],
      [empty, /^The sagas module .*empty\.mjs exports no sagas/],
    ] as const;
    for (const [file, message] of cases) {
      const result = await runCli(['check', '--sagas-module', file]);
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    }
  });

  it(
    'stops a role with one line naming the module, exit code 1, when its setup throws',
    { timeout: 60_000 },
    async () => {
      const dir = directory('setup');
      const failing = join(dir, 'failing-setup.mjs');
      writeFileSync(
        failing,
        `${registrySource('setup-fails', false)}\nexport default registry;\n` +
          "export async function setup() { throw new Error('payments API key missing\\nat line 2'); }\n",
      );
      const result = await runCli(['worker', '--sagas-module', failing], {
        MONGODB_URL: mongoUrl(),
        REDIS_URL: redisUrl(),
        MONGODB_DB: uniqueName('setup-fails'),
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toEqual([
        `The setup() of the sagas module ${failing} failed: payments API key missing`,
      ]);
      expect(result.stdout).toBe('');
    },
  );
});
