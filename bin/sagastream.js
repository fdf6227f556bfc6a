#!/usr/bin/env node
// Runs the built CLI when dist/ exists (installed package, Docker image), else the TypeScript source
// through tsx, so `npm start` and `npx sagastream` work in a fresh clone without a build step.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const built = new URL('../dist/src/cli/main.js', import.meta.url);
let cli;
if (existsSync(built)) {
  cli = await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
// Exit explicitly: a finished command must not linger on a forgotten handle.
process.exit(await cli.main(process.argv.slice(2)));
