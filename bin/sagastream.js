#!/usr/bin/env node
// Runs the TypeScript source through tsx in a clone of the repository (so `npm start` and `npx sagastream` need
// no build step, and a leftover dist/ from `npm pack` never runs stale code), else the built CLI (an installed
// package or the Docker image, which ship no source).
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  // Both of tsx's hooks, as for a user's sagas module: the CLI is ESM, a user's project may be CommonJS.
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
  cli = await import(source.href);
} else {
  cli = await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
}
// Exit explicitly: a finished command must not linger on a forgotten handle.
process.exit(await cli.main(process.argv.slice(2)));
