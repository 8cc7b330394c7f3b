/**
 * Builds data/os-lifecycle.json — the operating-system lifecycle table Vigil's end-of-life
 * assessment reads (src/knowledge/os-lifecycle.ts) — from the public end-of-life data in
 * ../shared/corpus/knowledge/eol (provenance in ../shared/corpus/SOURCES.md):
 *
 * - endoflife.date/<product>.md: endoflife.date's product pages (MIT). Their YAML front matter is
 *   read for each release cycle: label, releaseDate, eol (end of security support), eoes (end of
 *   paid extended support), latest, link. Only the small YAML subset those files use is parsed
 *   here; every value is checked against eol.json (the corpus's own JSON conversion of the same
 *   front matter), so a parsing slip fails the build instead of shipping a wrong date.
 * - release-data/linux-kernel.json: per-version release dates. endoflife.date's kernel page lists
 *   only the branches it tracks (4.9 onward); for an older or skipped branch — which embedded
 *   devices still run — the date of its last release stands in for its end ("derived").
 * - data/os-lifecycle.supplement.json: hand-kept releases endoflife.date lacks (Windows XP
 *   Embedded, WES 2009, POSReady 2009, Windows 2000 Professional…) and ESU end dates it leaves
 *   empty, each with its public Microsoft lifecycle page. endoflife.date wins where both have a
 *   value (the build warns).
 *
 *   node --import tsx scripts/build-os-lifecycle.ts [--corpus DIR] [--out FILE]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { parseOsLifecycle, type LifecycleCycle, type LifecycleProduct, type OsLifecycleTable } from '../src/knowledge/os-lifecycle-schema.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_CORPUS = resolve(REPO, '..', 'shared', 'corpus');
export const SUPPLEMENT_FILE = join(REPO, 'data', 'os-lifecycle.supplement.json');
export const OUT_FILE = join(REPO, 'data', 'os-lifecycle.json');

/** The OS products taken from the corpus, with the short name used in labels. */
export const PRODUCTS: ReadonlyArray<readonly [id: string, name: string]> = [
  ['windows', 'Windows'],
  ['windows-server', 'Windows Server'],
  ['windows-embedded', 'Windows Embedded'],
  ['macos', 'macOS'],
  ['ios', 'iOS'],
  ['android', 'Android'],
  ['debian', 'Debian'],
  ['ubuntu', 'Ubuntu'],
  ['rhel', 'RHEL'],
  ['centos', 'CentOS'],
  ['sles', 'SLES'],
  ['oracle-linux', 'Oracle Linux'],
  ['almalinux', 'AlmaLinux'],
  ['rocky-linux', 'Rocky Linux'],
  ['alpine-linux', 'Alpine Linux'],
  ['fedora', 'Fedora'],
  ['linux-kernel', 'Linux'],
  ['vmware-esxi', 'VMware ESXi'],
  ['cisco-ios-xe', 'Cisco IOS XE'],
];

// ---- The YAML subset of endoflife.date front matter ------------------------------------------

type Scalar = string | boolean | null;

/** A scalar as YAML reads it: quoted strings, true/false, null/~; anything else stays a string. */
function scalar(raw: string): Scalar {
  let v = raw.trim();
  if (v.startsWith('"')) {
    const end = v.indexOf('"', 1);
    return JSON.parse(v.slice(0, end + 1)) as string;
  }
  if (v.startsWith("'")) {
    const end = v.indexOf("'", 1);
    return v.slice(1, end);
  }
  const hash = v.search(/\s#/);
  if (hash >= 0) v = v.slice(0, hash).trim();
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'null' || v === '~' || v === '') return null;
  return v;
}

export interface FrontMatter {
  /** Top-level scalar keys (nested maps and lists other than releases are skipped). */
  top: Record<string, Scalar>;
  releases: Record<string, Scalar>[];
}

/**
 * Parses the front matter of an endoflife.date product page: top-level `key: scalar` lines and the
 * `releases:` list of flat maps ("  - releaseCycle: …" then "    key: value"). Comments and blank
 * lines are skipped; anything else in the list is an error (the format changed: look at it).
 */
export function parseFrontMatter(text: string, file = 'front matter'): FrontMatter {
  const lines = text.split(/\r?\n/);
  if (lines[0] !== '---') throw new Error(`${file}: no front matter`);
  const end = lines.indexOf('---', 1);
  if (end < 0) throw new Error(`${file}: unterminated front matter`);
  const top: Record<string, Scalar> = {};
  const releases: Record<string, Scalar>[] = [];
  let inReleases = false;
  let current: Record<string, Scalar> | undefined;
  for (let i = 1; i < end; i++) {
    const line = lines[i] as string;
    if (/^\s*(#.*)?$/.test(line)) continue;
    const topKey = /^([A-Za-z_][\w-]*):(.*)$/.exec(line);
    if (topKey !== null) {
      inReleases = topKey[1] === 'releases';
      current = undefined;
      if (!inReleases) top[topKey[1] as string] = scalar(topKey[2] as string);
      continue;
    }
    if (!inReleases) continue; // nested content of another key (identifiers, customFields…)
    const item = /^ {2}- ([A-Za-z_]\w*):(.*)$/.exec(line);
    if (item !== null) {
      current = { [item[1] as string]: scalar(item[2] as string) };
      releases.push(current);
      continue;
    }
    const field = /^ {4}([A-Za-z_]\w*):(.*)$/.exec(line);
    if (field !== null && current !== undefined) {
      current[field[1] as string] = scalar(field[2] as string);
      continue;
    }
    throw new Error(`${file}:${i + 1}: unexpected line in releases: ${line}`);
  }
  return { top, releases };
}

// ---- Building ---------------------------------------------------------------------------------

const ISO = /^\d{4}-\d{2}-\d{2}$/;

function isoOrUndefined(v: Scalar | undefined, where: string): string | undefined {
  if (v === undefined || v === null || v === false) return undefined;
  if (typeof v === 'string' && ISO.test(v)) return v;
  throw new Error(`${where}: expected a date, got ${JSON.stringify(v)}`);
}

function stripHtml(s: string): string {
  return s.replace(/<abbr title=(['"])(.*?)\1>(.*?)<\/abbr>/g, '$3').replace(/<[^>]+>/g, '').trim();
}

/** "What people call it": endoflife.date's label template, filled, with the product's name in front. */
export function cycleLabel(product: string, name: string, top: Record<string, Scalar>, r: Record<string, Scalar>): string {
  const cycle = String(r.releaseCycle);
  const codename = typeof r.codename === 'string' ? r.codename : undefined;
  if (product === 'ubuntu') return `Ubuntu ${cycle}${r.lts === true ? ' LTS' : ''}${codename !== undefined ? ` (${codename})` : ''}`;
  const template = typeof r.releaseLabel === 'string' ? r.releaseLabel : typeof top.releaseLabel === 'string' ? top.releaseLabel : '__RELEASE_CYCLE__';
  let base = stripHtml(template.replace(/__RELEASE_CYCLE__/g, cycle).replace(/__CODENAME__/g, codename ?? ''))
    .replace(/\s*\(\s*\)|\s*''/g, '')
    .trim();
  if (product === 'windows') {
    // endoflife.date's (E)/(W) edition groups, and the LTSC cycles that share the (E) label.
    base = base.replace(/ \(E\)$/, ' Enterprise').replace(/ \(W\)$/, ' Home/Pro');
    if (r.lts === true) base += ' LTSC';
  }
  if (product === 'linux-kernel') return `Linux kernel ${base}`;
  if (base.toLowerCase().startsWith(name.toLowerCase()) || /^(Mac OS X|OS X)\b/.test(base)) return base;
  return `${name} ${base}`;
}

const SupplementSchema = z.strictObject({
  about: z.string().optional(),
  releases: z.array(
    z.strictObject({
      product: z.string(),
      cycle: z.string(),
      label: z.string(),
      releaseDate: z.string().regex(ISO).optional(),
      eol: z.string().regex(ISO),
      extendedEol: z.string().regex(ISO).optional(),
      source: z.url(),
      note: z.string().optional(),
    }),
  ),
  amend: z.array(
    z.strictObject({
      product: z.string(),
      cycle: z.string(),
      extendedEol: z.string().regex(ISO).optional(),
      source: z.url(),
      note: z.string().optional(),
    }),
  ),
});
export type Supplement = z.infer<typeof SupplementSchema>;

/** The origin commits and the collection date, from the corpus's SOURCES.md. */
export function corpusProvenance(sourcesMd: string): { eolCommit: string; releaseDataCommit: string; collected?: string } {
  const commit = (repo: string): string => {
    const m = new RegExp(`\\|\\s*${repo.replace(/[.]/g, '\\.')}\\s*\\|\\s*\`([0-9a-f]{40})\``).exec(sourcesMd);
    if (m === null) throw new Error(`SOURCES.md: no commit for ${repo}`);
    return m[1] as string;
  };
  const collected = /collected (\d{4}-\d{2}-\d{2})/.exec(sourcesMd)?.[1];
  const out: { eolCommit: string; releaseDataCommit: string; collected?: string } = {
    eolCommit: commit('endoflife-date/endoflife.date'),
    releaseDataCommit: commit('endoflife-date/release-data'),
  };
  if (collected !== undefined) out.collected = collected;
  return out;
}

/** Compares one release's front-matter values with eol.json's conversion of the same page. */
function crossCheck(product: string, fm: Record<string, Scalar>, json: Record<string, unknown> | undefined): void {
  const where = `${product}/${String(fm.releaseCycle)}`;
  if (json === undefined) throw new Error(`${where}: missing from eol.json`);
  for (const key of ['releaseCycle', 'releaseLabel', 'codename', 'releaseDate', 'eol', 'eoes', 'latest', 'link', 'lts'] as const) {
    const a = fm[key] ?? null;
    const b = json[key] ?? null;
    if (String(a) !== String(b)) throw new Error(`${where}: ${key} is ${JSON.stringify(a)} in the .md, ${JSON.stringify(b)} in eol.json`);
  }
}

/** Kernel branches endoflife.date's page does not list, ended by the date of their last release. */
function derivedKernelBranches(releaseData: unknown, listed: ReadonlySet<string>, snapshot: string): LifecycleCycle[] {
  const versions = (releaseData as { versions?: Record<string, { name: string; date: string }> }).versions ?? {};
  const branches = new Map<string, { first?: string; last?: string }>();
  for (const { name, date } of Object.values(versions)) {
    const m = /^(2\.6\.\d+|\d+\.\d+)(?:\.|$)/.exec(name);
    if (m === null || !ISO.test(date) || date < '1991-01-01') continue; // 1970-01-01: unknown date
    const b = branches.get(m[1] as string) ?? {};
    if (b.first === undefined || date < b.first) b.first = date;
    if (b.last === undefined || date > b.last) b.last = date;
    branches.set(m[1] as string, b);
  }
  const cutoff = new Date(Date.parse(`${snapshot}T00:00:00Z`) - 365 * 86400_000).toISOString().slice(0, 10);
  const out: LifecycleCycle[] = [];
  for (const [branch, { first, last }] of branches) {
    if (listed.has(branch) || last === undefined || last >= cutoff) continue;
    const c: LifecycleCycle = { cycle: branch, label: `Linux kernel ${branch}`, eol: last, source: 'https://www.kernel.org/category/releases.html', origin: 'derived' };
    if (first !== undefined) c.releaseDate = first;
    out.push(c);
  }
  const key = (v: string): number[] => v.split('.').map(Number);
  return out.sort((a, b) => {
    const x = key(a.cycle);
    const y = key(b.cycle);
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (y[i] ?? -1) - (x[i] ?? -1);
    return 0;
  });
}

export interface BuildResult {
  table: OsLifecycleTable;
  warnings: string[];
}

/** Builds the table from a corpus directory and a supplement (pure apart from reading the corpus). */
export function buildOsLifecycle(opts: { corpus: string; supplement: unknown; generated: string }): BuildResult {
  const warnings: string[] = [];
  const eolDir = join(opts.corpus, 'knowledge', 'eol');
  const prov = corpusProvenance(readFileSync(join(opts.corpus, 'SOURCES.md'), 'utf8'));
  const snapshot = prov.collected ?? opts.generated;
  const eolJson = JSON.parse(readFileSync(join(eolDir, 'eol.json'), 'utf8')) as Record<string, { releases: Record<string, unknown>[] }>;
  const supplement = SupplementSchema.parse(opts.supplement);

  const products: Record<string, LifecycleProduct> = {};
  for (const [id, name] of PRODUCTS) {
    const file = join(eolDir, 'endoflife.date', `${id}.md`);
    const fm = parseFrontMatter(readFileSync(file, 'utf8'), `${id}.md`);
    const jsonReleases = eolJson[id]?.releases ?? [];
    if (jsonReleases.length !== fm.releases.length) throw new Error(`${id}: ${fm.releases.length} releases in the .md, ${jsonReleases.length} in eol.json`);
    const permalink = typeof fm.top.permalink === 'string' ? fm.top.permalink : `/${id}`;
    const policy = typeof fm.top.releasePolicyLink === 'string' ? fm.top.releasePolicyLink : undefined;
    const page = `https://endoflife.date${permalink}`;
    const cycles: LifecycleCycle[] = fm.releases.map((r, i) => {
      crossCheck(id, r, jsonReleases.find((j) => String(j.releaseCycle) === String(r.releaseCycle)) ?? jsonReleases[i]);
      const where = `${id}/${String(r.releaseCycle)}`;
      const c: LifecycleCycle = {
        cycle: String(r.releaseCycle),
        label: cycleLabel(id, name, fm.top, r),
        source: typeof r.link === 'string' ? r.link : (policy ?? page),
      };
      const releaseDate = isoOrUndefined(r.releaseDate, `${where} releaseDate`);
      if (releaseDate !== undefined) c.releaseDate = releaseDate;
      if (r.eol === true) c.eol = true;
      else {
        const eol = isoOrUndefined(r.eol, `${where} eol`);
        if (eol !== undefined) c.eol = eol;
      }
      const eoes = isoOrUndefined(r.eoes === true ? null : r.eoes, `${where} eoes`);
      if (eoes !== undefined) c.extendedEol = eoes;
      if (typeof r.latest === 'string') c.latest = r.latest;
      return c;
    });
    const p: LifecycleProduct = { title: String(fm.top.title), name, page, cycles };
    if (policy !== undefined) p.policy = policy;
    if (typeof fm.top.eolColumn === 'string') p.eolMeaning = stripHtml(fm.top.eolColumn);
    if (typeof fm.top.eoesColumn === 'string') p.extendedMeaning = stripHtml(fm.top.eoesColumn);
    products[id] = p;
  }

  // Kernel branches endoflife.date does not list.
  const kernel = products['linux-kernel'];
  if (kernel !== undefined) {
    const rd = JSON.parse(readFileSync(join(eolDir, 'release-data', 'linux-kernel.json'), 'utf8')) as unknown;
    const derived = derivedKernelBranches(rd, new Set(kernel.cycles.map((c) => c.cycle)), snapshot);
    kernel.cycles.push(...derived);
    kernel.note =
      `Cycles marked "derived" (${derived.length}) are branches endoflife.date's page does not list; their end is the date of the branch's last release ` +
      `in endoflife-date/release-data (releases/linux-kernel.json), counted only when that was over a year before the corpus snapshot (${snapshot}).`;
  }

  // The hand-kept supplement.
  for (const s of supplement.releases) {
    const p = products[s.product];
    if (p === undefined) throw new Error(`supplement: unknown product ${s.product}`);
    if (p.cycles.some((c) => c.cycle === s.cycle)) {
      warnings.push(`supplement: ${s.product}/${s.cycle} is now in endoflife.date; the supplement entry is ignored (remove it)`);
      continue;
    }
    const c: LifecycleCycle = { cycle: s.cycle, label: s.label, eol: s.eol, source: s.source, origin: 'supplement' };
    if (s.releaseDate !== undefined) c.releaseDate = s.releaseDate;
    if (s.extendedEol !== undefined) c.extendedEol = s.extendedEol;
    p.cycles.push(c);
  }
  for (const a of supplement.amend) {
    const c = products[a.product]?.cycles.find((x) => x.cycle === a.cycle);
    if (c === undefined) throw new Error(`supplement amend: no ${a.product}/${a.cycle} in endoflife.date`);
    if (a.extendedEol !== undefined) {
      if (c.extendedEol === undefined) {
        c.extendedEol = a.extendedEol;
        c.extendedSource = a.source;
      } else if (c.extendedEol !== a.extendedEol) warnings.push(`supplement amend: ${a.product}/${a.cycle} extendedEol ${a.extendedEol} ignored, endoflife.date says ${c.extendedEol}`);
    } else if (c.source === (products[a.product]?.policy ?? products[a.product]?.page)) {
      c.source = a.source; // endoflife.date had no link for this release
    }
  }
  // Supplement cycles sorted in with the others: newest release first, undated last.
  for (const p of Object.values(products)) {
    if (!p.cycles.some((c) => c.origin === 'supplement')) continue;
    const order = new Map(p.cycles.map((c, i) => [c, i]));
    p.cycles.sort((a, b) => {
      const x = a.releaseDate ?? (typeof a.eol === 'string' ? a.eol : '');
      const y = b.releaseDate ?? (typeof b.eol === 'string' ? b.eol : '');
      return x === y ? (order.get(a) ?? 0) - (order.get(b) ?? 0) : x < y ? 1 : -1;
    });
  }

  const table: OsLifecycleTable = {
    format: 1,
    generated: opts.generated,
    snapshot,
    sources: [
      { name: 'endoflife.date', repo: 'endoflife-date/endoflife.date', commit: prov.eolCommit, licence: 'MIT', files: `products/{${PRODUCTS.map(([id]) => id).join(',')}}.md` },
      { name: 'endoflife.date release data', repo: 'endoflife-date/release-data', commit: prov.releaseDataCommit, licence: 'MIT', files: 'releases/linux-kernel.json' },
      { name: 'Vigil supplement (Microsoft lifecycle pages)', files: 'data/os-lifecycle.supplement.json' },
    ],
    products,
  };
  return { table: parseOsLifecycle(table), warnings };
}

/** The JSON text: one cycle per line, so the file stays small and diffs read well. */
export function serializeOsLifecycle(t: OsLifecycleTable): string {
  const out: string[] = ['{'];
  const { products, ...head } = t;
  for (const [k, v] of Object.entries(head)) {
    if (k === 'sources') {
      out.push('  "sources": [');
      (v as OsLifecycleTable['sources']).forEach((s, i, a) => out.push(`    ${JSON.stringify(s)}${i < a.length - 1 ? ',' : ''}`));
      out.push('  ],');
    } else out.push(`  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  }
  out.push('  "products": {');
  const ids = Object.keys(products);
  ids.forEach((id, pi) => {
    const { cycles, ...meta } = products[id] as LifecycleProduct;
    out.push(`    ${JSON.stringify(id)}: {`);
    for (const [k, v] of Object.entries(meta)) out.push(`      ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
    out.push('      "cycles": [');
    cycles.forEach((c, i) => out.push(`        ${JSON.stringify(c)}${i < cycles.length - 1 ? ',' : ''}`));
    out.push('      ]');
    out.push(`    }${pi < ids.length - 1 ? ',' : ''}`);
  });
  out.push('  }', '}', '');
  return out.join('\n');
}

function main(argv: string[]): void {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const corpus = resolve(arg('--corpus') ?? DEFAULT_CORPUS);
  const out = resolve(arg('--out') ?? OUT_FILE);
  if (!existsSync(join(corpus, 'SOURCES.md'))) throw new Error(`no corpus at ${corpus} (give --corpus DIR)`);
  const { table, warnings } = buildOsLifecycle({
    corpus,
    supplement: JSON.parse(readFileSync(SUPPLEMENT_FILE, 'utf8')) as unknown,
    generated: new Date().toISOString().slice(0, 10),
  });
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const text = serializeOsLifecycle(table);
  writeFileSync(out, text);
  const cycles = Object.values(table.products).reduce((n, p) => n + p.cycles.length, 0);
  process.stdout.write(`${out}: ${Object.keys(table.products).length} products, ${cycles} cycles, ${text.length} bytes\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
