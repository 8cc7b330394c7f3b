// Bundles the CLI into dist/vigil.js with esbuild (~0.1 s): the installed command then starts
// without a TypeScript loader in the way. bin/vigil.js falls back to the sources when dist is
// missing or older than them, so a stale bundle can never run.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/vigil.ts'],
  outfile: 'dist/vigil.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
