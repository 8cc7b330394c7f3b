#!/usr/bin/env node
// Entry point. Runs the esbuild bundle (dist/vigil.cjs, made by `npm run build`, which `npm ci`
// runs) when it is newer than every source file; otherwise the TypeScript sources through tsx.
//
// The bundle is compiled with V8's code cache (dist/vigil.cjs.cache, written by the build after a
// training run over the sample capture): the parsers, dissectors and assessment start as
// ready bytecode instead of being parsed and compiled function by function while the first packets
// wait. Node 22 does the same for modules (module.enableCompileCache); Node 20 has it only for
// scripts, hence a CommonJS bundle run through vm.Script. A cache from another Node or V8 is
// rejected by V8 and the bundle simply compiles as usual.
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { tuneV8 } from './v8-tuning.js';

tuneV8();

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'vigil.cjs');
const cacheFile = `${bundle}.cache`;

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function runBundle() {
  // The CommonJS wrapper on the bundle's first line keeps its line numbers.
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`;
  // V8 checks a cache against the source's length, not its text: one older than the bundle (a bundle
  // rebuilt by hand) is not used, lest it describe other code.
  let cachedData;
  try {
    if (statSync(cacheFile).mtimeMs >= statSync(bundle).mtimeMs) cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // No import() can run in this script (Node 20 offers vm scripts a module loader only behind a flag,
  // and not at all with a code cache): scripts/build.mjs refuses a bundle that has one.
  const script = new vm.Script(source, { filename: bundle, cachedData });
  // The build's training run: once the capture is analysed, save what V8 compiled (atomically: a
  // reader never sees half a cache).
  if (process.env.VIGIL_WRITE_CODE_CACHE === '1') {
    process.once('exit', () => {
      writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
      renameSync(`${cacheFile}.tmp`, cacheFile);
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
}

if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource(join(root, 'src'))) {
  runBundle();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/vigil.ts');
}
