/**
 * Builds data/advisories.json — Vigil's shipped vulnerability knowledge — from the corpus
 * (../shared/corpus/knowledge/vulns; provenance in its SOURCES.md): the CISA KEV catalog and every
 * CSAF 2.0 ICS medical advisory (ICSMA-*), normalised by the same code `vigil knowledge import`
 * uses (src/knowledge/advisories.ts). The output is deterministic: the same corpus gives the same
 * bytes (src/knowledge/advisories.test.ts checks it).
 *
 *   node --import tsx scripts/build-advisories.ts [corpus-dir] [out-file]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mergeKnowledge } from '../src/knowledge/advisories.ts';
import { type KnowledgeFile, normaliseDocument } from '../src/knowledge/knowledge-import.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const DEFAULT_CORPUS = resolve(ROOT, '..', 'shared', 'corpus');
export const KEV_FILE = 'knowledge/vulns/kev/known_exploited_vulnerabilities.json';
export const CSAF_DIR = 'knowledge/vulns/csaf-icsma';

function load(path: string): KnowledgeFile {
  const n = normaliseDocument(JSON.parse(readFileSync(path, 'utf8')));
  if (!n.ok) throw new Error(`${path}: ${n.error}`);
  return n.file;
}

/** The knowledge file for a corpus directory. */
export function buildAdvisories(corpus: string = DEFAULT_CORPUS): KnowledgeFile {
  const files: KnowledgeFile[] = [load(join(corpus, KEV_FILE))];
  const dir = join(corpus, CSAF_DIR);
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) files.push(load(join(dir, name)));
  const merged = mergeKnowledge(files);
  const kevFile = files[0];
  const advisories = [...merged.advisories].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  const kevEntries = [...merged.kev.values()].sort((a, b) => b.dateAdded.localeCompare(a.dateAdded) || a.cveID.localeCompare(b.cveID, 'en', { numeric: true }));
  const csafCount = advisories.filter((a) => a.source === 'csaf').length;
  const csafDates = advisories.map((a) => a.updated ?? '').filter((d) => d !== '').sort();
  const lastCsaf = csafDates[csafDates.length - 1];
  return {
    format: 'vigil-knowledge',
    version: 1,
    sources: [
      ...(kevFile?.sources ?? []),
      { kind: 'csaf', name: `CISA ICS medical advisories (CSAF 2.0), ${csafCount} documents`, ...(lastCsaf !== undefined ? { date: lastCsaf } : {}), entries: csafCount },
    ],
    ...(kevFile?.kev !== undefined ? { kev: { ...kevFile.kev, entries: kevEntries } } : {}),
    advisories,
  };
}

/**
 * The exact bytes written to data/advisories.json: one advisory or KEV entry per line, diff-friendly,
 * and ASCII — other characters written as JSON escapes (\u2019), the same data once parsed. Every
 * analysis reads this file, and an ASCII file reads as a one-byte string, parsed in a third of the
 * time (readDataJson in src/knowledge/paths.ts).
 */
export function serialiseAdvisories(file: KnowledgeFile): string {
  return asciiJson(serialiseLines(file));
}

/** JSON text with every non-ASCII character escaped (\uXXXX; a character beyond the BMP as its two halves). */
export function asciiJson(text: string): string {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function serialiseLines(file: KnowledgeFile): string {
  const lines: string[] = ['{', `"format":${JSON.stringify(file.format)},`, `"version":${file.version},`, `"sources":${JSON.stringify(file.sources)},`];
  if (file.kev !== undefined) {
    const { entries, ...head } = file.kev;
    const body = entries.map((e) => JSON.stringify(e)).join(',\n');
    lines.push(`"kev":${JSON.stringify(head).slice(0, -1)}${Object.keys(head).length > 0 ? ',' : ''}"entries":[\n${body}\n]},`);
  }
  lines.push(`"advisories":[\n${file.advisories.map((a) => JSON.stringify(a)).join(',\n')}\n]`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function main(): void {
  const corpus = resolve(process.argv[2] ?? DEFAULT_CORPUS);
  const out = resolve(process.argv[3] ?? join(ROOT, 'data', 'advisories.json'));
  const file = buildAdvisories(corpus);
  const text = serialiseAdvisories(file);
  writeFileSync(out, text);
  const products = file.advisories.reduce((n, a) => n + a.products.length, 0);
  process.stdout.write(`${out}: ${file.kev?.entries.length ?? 0} KEV entries, ${file.advisories.length} advisories, ${products} affected products, ${(text.length / 1024).toFixed(0)} KiB\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
