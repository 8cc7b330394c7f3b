/**
 * Where Vigil's shipped reference data lives: found by walking up from this module to the
 * package.json named "vigil", so it works from the sources (src/…) and from the bundle (dist/…).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function installRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'vigil') return (cached = dir);
    dir = dirname(dir);
  }
  return (cached = process.cwd());
}

/** Absolute path of a file under data/. */
export function dataFile(rel: string): string {
  return join(installRoot(), 'data', rel);
}
