/**
 * Where Vigil's shipped reference data lives: found by walking up from this module to the
 * package.json named "vigil", so it works from the sources (src/…) and from the bundle (dist/…).
 */
import { isAscii } from 'node:buffer';
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

/**
 * A data file's JSON. An ASCII file (data/advisories.json is written so: other characters as JSON
 * escapes) is read as a one-byte string, which V8 parses about three times as fast as the two-byte
 * string UTF-8 text with any non-ASCII character becomes.
 */
export function readDataJson(path: string): unknown {
  const bytes = readFileSync(path);
  return JSON.parse(isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8'));
}
