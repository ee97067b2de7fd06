#!/usr/bin/env node
// `npm test`: compiles src/lib/ and its *.test.ts with the project's own TypeScript
// (tsconfig.test.json → .test-build/, CommonJS so the extensionless imports resolve under Node 20),
// then runs every compiled test file with `node --test`. No other dependency.

import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = '.test-build';
const node = (args) => spawnSync(process.execPath, args, { cwd: ui, stdio: 'inherit' }).status ?? 1;

rmSync(join(ui, out), { recursive: true, force: true });
if (node([join(ui, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.test.json']) !== 0) {
  console.error('npm test: the tests do not compile (see above)');
  process.exit(1);
}
// package.json says "type": "module"; the compiled tests are CommonJS.
writeFileSync(join(ui, out, 'package.json'), '{ "type": "commonjs" }\n');
const tests = readdirSync(join(ui, out, 'lib'))
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => join(out, 'lib', f));
if (tests.length === 0) {
  console.error(`npm test: no *.test.js in ${out}/lib`);
  process.exit(1);
}
process.exit(node(['--test', ...tests]));
