// Bundles the CLI into dist/vigil.cjs with esbuild (~0.1 s): the installed command then starts
// without a TypeScript loader in the way. bin/vigil.js falls back to the sources when dist is
// missing or older than them, so a stale bundle can never run.
// CommonJS, one file: Node 20 keeps V8's code cache only for scripts (vm.Script), not for ES
// modules, and the code cache is what spares the first packets of every run the parsing and
// compiling of the dissectors (see bin/vigil.js). Commands load their modules when they run them
// (esbuild turns each `await import()` into a lazy initialiser), so `vigil analyze` still does not
// pay for the server, the simulator or zod it does not use.
// The shipped device profiles' pattern literals are worked out first and put into the bundle. Then
// it indexes the IEEE registry (dist/oui.idx) and trains the code cache: the sample capture analysed
// once, V8's compiled code saved.
// Then builds the web dashboard (web/ → web/dist, which `vigil serve` serves at /) with Vite.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
// The shipped device profiles' pattern literals, worked out once here instead of at every first
// report (src/knowledge/device-profiles.ts); without them the bundle works them out as it goes.
const literals = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/profile-literals.ts'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (literals.status !== 0) process.stderr.write(`build: the profile patterns' literals were not worked out (the bundle works them out as it goes): ${literals.stderr.slice(-500)}\n`);
await build({
  entryPoints: ['src/cli/vigil.ts'],
  outfile: 'dist/vigil.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  // No comments or indentation, and escapes for the few non-ASCII characters: an ASCII file becomes a
  // one-byte string as it is read (a UTF-8 one took 15 ms to decode at every start). Names stay, so
  // stack traces still say which function; dist/vigil.cjs.map maps them back to the sources.
  minifyWhitespace: true,
  charset: 'ascii',
  // import.meta does not exist in CommonJS; the two modules that ask where they are get the bundle's URL.
  define: { 'import.meta.url': '__vigil_bundle_url', ...(literals.status === 0 ? { __VIGIL_PROFILE_LITERALS__: literals.stdout } : {}) },
  banner: { js: 'const __vigil_bundle_url = require("node:url").pathToFileURL(__filename).href;' },
  sourcemap: true,
  logLevel: 'warning',
});

// esbuild leaves `import()` of an external package as it is (the package may be an ES module), and a
// vm script cannot run one (see bin/vigil.js): packages are loaded with require, or statically.
const dynamicImport = /\bimport\(\s*["'`][^"'`]+["'`]\s*\)/.exec(readFileSync('dist/vigil.cjs', 'utf8'));
if (dynamicImport !== null) throw new Error(`build: the bundle keeps ${dynamicImport[0]}, which cannot run in it; load that package with createRequire or a static import`);

// The IEEE registry as a binary index for the vendor lookups (before the training run, which then
// compiles the lookups that use it). Failing here costs only speed: lookups search the text instead.
const indexed = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-oui-index.ts'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (indexed.status !== 0) process.stderr.write(`build: the IEEE registry index was not written (vendor lookups search the registry instead): ${indexed.stderr.slice(-500)}\n`);

// The training run: the README's sample capture (real third-party traffic of every protocol Vigil
// dissects) analysed once as `vigil analyze` runs by default (decoding, flows, every dissector, the
// inventory, assessment, behaviour), and what V8 compiled saved. Failing here costs only speed.
const trained = spawnSync(process.execPath, ['bin/vigil.js', 'analyze', 'samples/hospital-sample.pcap', '--no-progress'], {
  stdio: ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
  env: { ...process.env, VIGIL_WRITE_CODE_CACHE: '1' },
});
if (trained.status !== 0) process.stderr.write(`build: the code cache was not trained (the bundle runs without it): ${trained.stderr.slice(-500)}\n`);

// Vite is a development dependency: an install without them (npm ci --omit=dev) keeps the
// dashboard it was packaged with, or serves the API alone.
let vite;
try {
  vite = await import('vite');
} catch {
  process.stderr.write('build: vite is not installed; the web dashboard (web/dist) was not rebuilt\n');
}
if (vite !== undefined) {
  await vite.build({ root: 'web', configFile: 'web/vite.config.ts', logLevel: 'warn' });
}
