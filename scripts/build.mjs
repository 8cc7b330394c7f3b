// Bundles the CLI into dist/vigil.js with esbuild (~0.1 s): the installed command then starts
// without a TypeScript loader in the way. bin/vigil.js falls back to the sources when dist is
// missing or older than them, so a stale bundle can never run.
// Then builds the web dashboard (web/ → web/dist, which `vigil serve` serves at /) with Vite.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: without a clean start, every build would leave the last one's behind.
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/vigil.ts'],
  outdir: 'dist',
  bundle: true,
  // Code splitting keeps the simulator (and zod, ~0.1 s to load) out of `vigil analyze`'s start-up.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

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
