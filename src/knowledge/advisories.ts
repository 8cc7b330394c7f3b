/**
 * Vulnerability knowledge: the CISA Known Exploited Vulnerabilities catalog, CSAF 2.0 advisories
 * (CISA's ICS medical advisories, ICSMA-*), NVD CVE records and the hand-kept list of the
 * well-known remotely exploitable flaws of old Windows releases — normalised to one compact shape
 * (its schema and the normalisers are in knowledge-import.ts).
 *
 * Shipped: `data/advisories.json` (generated from the corpus by scripts/build-advisories.ts with
 * the same normalisers that `vigil knowledge import` uses) and `data/os-flaws.json` (hand-kept).
 * Imported: whatever the user saved with `vigil knowledge import FILE…` in the knowledge directory
 * (`$VIGIL_DATA_DIR/knowledge`, else `~/.local/share/vigil/knowledge`). Imported files are
 * validated with zod when read (the shipped ones by the tests; see loadShipped); entries with the
 * same id are merged, the newer one winning.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { dataFile, readDataJson } from './paths.ts';
import type { Advisory, KevEntry, KnowledgeFile, KnowledgeSource, OsFlaw } from './knowledge-import.ts';

export type { AdvisoryCve, AffectedProduct, Advisory, KevEntry, KnowledgeFile, KnowledgeSource, OsFlaw, Remediation } from './knowledge-import.ts';

export interface Advisories {
  /** KEV entries by CVE id. */
  kev: ReadonlyMap<string, KevEntry>;
  /** CSAF and NVD advisories, one per id. */
  advisories: readonly Advisory[];
  /** NVD/CSAF CVSS base scores by CVE id (the highest seen). */
  cvss: ReadonlyMap<string, number>;
  osFlaws: readonly OsFlaw[];
  /** What was loaded, shipped first. */
  sources: readonly KnowledgeSource[];
  /** Files in the knowledge directory that could not be read (skipped). */
  warnings: readonly string[];
}

// ─── Loading and merging ────────────────────────────────────────────────────────────────────────

/** `DATA_DIR/knowledge` for a given Vigil data directory, else `$VIGIL_DATA_DIR/knowledge`, else `~/.local/share/vigil/knowledge`. */
export function defaultKnowledgeDir(dataDir?: string): string {
  const base = dataDir ?? process.env['VIGIL_DATA_DIR'];
  return base !== undefined && base !== '' ? join(base, 'knowledge') : join(homedir(), '.local', 'share', 'vigil', 'knowledge');
}

/** Merge normalised files in order; a later file wins a tie, a newer date wins always. */
export function mergeKnowledge(files: readonly KnowledgeFile[], osFlaws: readonly OsFlaw[] = [], warnings: readonly string[] = []): Advisories {
  const kev = new Map<string, { entry: KevEntry; date: string }>();
  const advisories = new Map<string, Advisory>();
  const sources: KnowledgeSource[] = [];
  for (const f of files) {
    sources.push(...f.sources);
    const date = f.kev?.date ?? '';
    for (const e of f.kev?.entries ?? []) {
      const old = kev.get(e.cveID);
      if (old === undefined || date >= old.date) kev.set(e.cveID, { entry: e, date });
    }
    for (const a of f.advisories) {
      const old = advisories.get(a.id);
      if (old === undefined || (a.updated ?? '') >= (old.updated ?? '')) advisories.set(a.id, a);
    }
  }
  const cvss = new Map<string, number>();
  for (const a of advisories.values()) {
    for (const c of a.cves) {
      if (c.cvss === undefined) continue;
      const old = cvss.get(c.id);
      // NVD is the reference for a CVE's score; otherwise the highest an advisory gives.
      if (old === undefined || a.source === 'nvd' || c.cvss > old) cvss.set(c.id, c.cvss);
    }
  }
  return {
    kev: new Map([...kev].map(([k, v]) => [k, v.entry])),
    advisories: [...advisories.values()],
    cvss,
    osFlaws,
    sources,
    warnings,
  };
}

/*
 * The shipped files (data/advisories.json, data/os-flaws.json) are read without zod: validating them
 * cost ~60 ms of every analysis, and loading zod ~0.1 s more, for files that only change with a
 * release. The tests check that each schema accepts its shipped file unchanged (no defaults filled
 * in, nothing stripped), so what is read is what validation would return. A file of one's own
 * (readKnowledgeFile, readOsFlawFile in knowledge-import.ts), and every user-imported file, is
 * validated.
 */

let shippedFlaws: OsFlaw[] | undefined;
let shippedKnowledge: KnowledgeFile | undefined;
let shippedMerge: Advisories | undefined;

/** data/os-flaws.json, read once. */
export function loadOsFlaws(): OsFlaw[] {
  return (shippedFlaws ??= (readDataJson(dataFile('os-flaws.json')) as { flaws: OsFlaw[] }).flaws);
}

/** data/advisories.json, read once. */
export function loadShipped(): KnowledgeFile {
  return (shippedKnowledge ??= readDataJson(dataFile('advisories.json')) as KnowledgeFile);
}

/** The shipped knowledge alone, merged once (one object, so the results memoised on it are shared). */
export function shippedAdvisories(): Advisories {
  return (shippedMerge ??= mergeKnowledge([loadShipped()], loadOsFlaws()));
}

/** The last merge with imported files, and what it was made of (the directory and its files' names, sizes and times). */
let lastMerge: { key: string; advisories: Advisories } | undefined;

/**
 * The shipped knowledge plus what the user imported into `knowledgeDir` (null: shipped only).
 * A file in the directory that cannot be read is skipped with a warning. While the directory is
 * unchanged, the same merged object is returned: the server judges at every checkpoint, and the
 * vulnerability results memoised on it (src/inventory/inventory.ts) stay valid. Asynchronous
 * because imported files are validated, and the validation (zod) is loaded only when there are some.
 */
export async function loadAdvisories(knowledgeDir: string | null = defaultKnowledgeDir()): Promise<Advisories> {
  const names = knowledgeDir !== null && existsSync(knowledgeDir) ? readdirSync(knowledgeDir).filter((n) => n.endsWith('.json')).sort() : [];
  if (names.length === 0) return shippedAdvisories();
  const key = JSON.stringify([
    knowledgeDir,
    names.map((name) => {
      try {
        const st = statSync(join(knowledgeDir as string, name));
        return [name, st.size, st.mtimeMs];
      } catch {
        return [name];
      }
    }),
  ]);
  if (lastMerge?.key === key) return lastMerge.advisories;
  const { validateKnowledgeFile } = await import('./knowledge-import.ts');
  const files: KnowledgeFile[] = [loadShipped()];
  const warnings: string[] = [];
  for (const name of names) {
    const path = join(knowledgeDir as string, name);
    try {
      const r = validateKnowledgeFile(JSON.parse(readFileSync(path, 'utf8')));
      if (r.ok) files.push(r.file);
      else warnings.push(`${path}: skipped, not a valid knowledge file: ${r.error}`);
    } catch (e) {
      warnings.push(`${path}: skipped: ${(e as Error).message}`);
    }
  }
  const advisories = mergeKnowledge(files, loadOsFlaws(), warnings);
  lastMerge = { key, advisories };
  return advisories;
}
