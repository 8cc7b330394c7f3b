/**
 * Which known vulnerabilities a device is likely to have, from what the inventory knows about it:
 * its vendor and model, the software it revealed, its OS release(s), the services it answered on
 * and flags from observations. Pure: the knowledge comes in as `Advisories`
 * (src/knowledge/advisories.ts).
 *
 * Three paths, one result shape:
 * - **CSAF / NVD advisories**: vendor (normalised, conservative), product (token overlap on the
 *   model or software name) and version (dotted numbers, vX.Y, ranges, wildcards, "All versions").
 *   A vendor-only match is never reported; an unknown version keeps the match at lower confidence.
 * - **KEV** entries by vendor + product name (KEV gives no versions, so these stay low-confidence);
 *   KEV facts (exploited, ransomware) also mark every other match that shares a CVE.
 * - **OS flaws** (data/os-flaws.json): the well-known remotely exploitable flaws of old Windows, by
 *   endoflife.date release cycle, raised when the exposing service is seen or a flag confirms.
 *
 * Every match says why and how sure (0..1).
 */
import type { Advisories, Advisory, AffectedProduct, KevEntry, OsFlaw } from '../knowledge/advisories.ts';
import type { OsRelease } from '../inventory/device.ts';

export interface VulnSubject {
  vendor?: string;
  model?: string;
  os?: { label: string; releases: readonly OsRelease[] };
  software: readonly { name: string; version?: string; vendor?: string }[];
  services: readonly { transport: 'tcp' | 'udp'; port: number; app?: string }[];
  /**
   * Facts from observations: 'smb1' (SMBv1 spoken), 'smb3-compression' (SMB 3.1.1 compression
   * negotiated), 'ms17-010-vulnerable-response' (the MS17-010 check answered vulnerable),
   * 'doublepulsar' (implant answered), 'bluekeep-vulnerable-response', 'iis' (Microsoft-IIS banner).
   */
  flags?: readonly string[];
}

export interface VulnMatch {
  /** CVE or advisory id (ICSMA-…). */
  id: string;
  cves: string[];
  title: string;
  source: 'kev' | 'csaf' | 'nvd' | 'os-flaw';
  /** Some CVE of it is in CISA's Known Exploited Vulnerabilities catalog. */
  kev: boolean;
  /** KEV says it is known to be used in ransomware campaigns. */
  ransomware: boolean;
  /** Highest CVSS base score of its CVEs, when known. */
  cvss?: number;
  /** 0..1 */
  confidence: number;
  why: string;
  remediation?: string;
  url?: string;
}

// ─── Text normalisation ─────────────────────────────────────────────────────────────────────────

/** Lower case, accents folded ("Dräger" → "drager"), punctuation to spaces. */
export function fold(s: string): string {
  // Most names are ASCII, which decomposition leaves as it is: ICU's normaliser is the slow step of
  // the first report's matching (every KEV and advisory vendor is folded once).
  return (ASCII.test(s) ? s : s.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''))
    .toLowerCase()
    .replace(/&/g, ' ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const ASCII = /^[\x00-\x7f]*$/;

/** Memoise a string function (names repeat across devices and advisories); bounded: cleared when full. */
function memo<T>(fn: (s: string) => T, max = 50_000): (s: string) => T {
  const cache = new Map<string, T>();
  return (s: string): T => {
    let v = cache.get(s);
    if (v === undefined) {
      if (cache.size >= max) cache.clear();
      v = fn(s);
      cache.set(s, v);
    }
    return v;
  };
}

const CORPORATE = new Set(['inc', 'incorporated', 'corp', 'corporation', 'co', 'company', 'ltd', 'limited', 'llc', 'gmbh', 'ag', 'sa', 'se', 'plc', 'nv', 'bv', 'oy', 'ab', 'kg', 'kgaa', 'srl', 'spa', 'pty', 'the', 'international', 'intl', 'group', 'holding', 'holdings']);
/** Words that name a division of a company rather than another company ("GE Healthcare" is GE). */
const DIVISION = new Set([
  'healthcare', 'health', 'medical', 'systems', 'system', 'solutions', 'diagnostics', 'healthineers', 'technologies', 'technology',
  'laboratories', 'laboratory', 'labs', 'electronics', 'americas', 'usa', 'us', 'america', 'north', 'informatics', 'instruments',
  'software', 'foundation', 'nederland', 'deutschland', 'germany', 'japan', 'uk', 'france', 'europe', 'global', 'devices', 'networks',
]);
/** Variants of one company's name, after coring (division words dropped). 'phillips' is how two CISA advisories spell Philips. */
const VENDOR_ALIASES: Record<string, readonly string[]> = {
  ge: ['ge', 'general electric', 'gehc', 'ge medical'],
  philips: ['philips', 'koninklijke philips', 'phillips', 'philips medizin'],
  bd: ['bd', 'becton dickinson', 'becton dickinson and', 'becton'],
  siemens: ['siemens'],
  'b braun': ['b braun', 'b braun melsungen'],
  draeger: ['draeger', 'drager', 'draegerwerk', 'dragerwerk'],
  abbott: ['abbott', 'st jude', 'saint jude'],
  baxter: ['baxter', 'hillrom', 'hill rom', 'welch allyn'],
  fujifilm: ['fujifilm', 'fuji film', 'fuji'],
  microsoft: ['microsoft'],
};
const ALIAS_OF = new Map<string, string>();
for (const [canon, list] of Object.entries(VENDOR_ALIASES)) for (const v of list) ALIAS_OF.set(v, canon);

function stripCorporate(tokens: string[]): string[] {
  const t = tokens.filter((w) => !CORPORATE.has(w));
  while (t.length > 1 && (t[t.length - 1] === 'and' || t[t.length - 1] === 'of')) t.pop();
  return t;
}

/** A company name → the names it may go by: 'Becton, Dickinson and Company (BD)' → ['becton dickinson', 'bd']. */
export const vendorNames: (name: string) => readonly string[] = memo(vendorNamesOf);

function vendorNamesOf(name: string): string[] {
  const out = new Set<string>();
  const add = (s: string): void => {
    const t = stripCorporate(fold(s).split(' ').filter((w) => w !== ''));
    if (t.length > 0) out.add(t.join(' '));
  };
  const inParens = [...name.matchAll(/\(([^)]*)\)/g)].map((m) => m[1] ?? '');
  const outside = name.replace(/\([^)]*\)/g, ' ');
  add(outside);
  for (const p of inParens) add(p);
  // Several companies in one field: "Silex Technology and GE Healthcare", "BMC Medical, 3B Medical".
  const parts = outside.split(/,|;|\/|\band\b/i);
  if (parts.length > 1) for (const p of parts) add(p);
  return [...out];
}

/** Drop trailing division words: 'ge healthcare' → 'ge', 'philips medical systems' → 'philips'. */
function core(name: string): string {
  const t = name.split(' ');
  while (t.length > 1 && DIVISION.has(t[t.length - 1] as string)) t.pop();
  return t.join(' ');
}

const canonical = (name: string): string => ALIAS_OF.get(name) ?? ALIAS_OF.get(core(name)) ?? core(name);

export interface VendorMatch {
  score: number;
  how: string;
}

const vendorPairs = memo((pair: string): VendorMatch | null => {
  const [s, a] = pair.split('\u0000');
  return matchVendorOf(s ?? '', a ?? '') ?? null;
}, 200_000);

/** Do two company names mean the same company? Conservative: 'Philips' ≠ 'Phillips 66', 'GE' ≠ 'GE Appliances'. */
export function matchVendor(subject: string, advisory: string): VendorMatch | undefined {
  return vendorPairs(`${subject}\u0000${advisory}`) ?? undefined;
}

function matchVendorOf(subject: string, advisory: string): VendorMatch | undefined {
  let best: VendorMatch | undefined;
  for (const s of vendorNames(subject)) {
    for (const a of vendorNames(advisory)) {
      let m: VendorMatch | undefined;
      if (s === a) m = { score: 1, how: 'same name' };
      else if (ALIAS_OF.has(s) && ALIAS_OF.get(s) === ALIAS_OF.get(a)) m = { score: 0.95, how: 'same company' };
      else if (canonical(s) === canonical(a)) m = { score: core(s) === core(a) ? 0.9 : 0.85, how: core(s) === core(a) ? 'same company, division name differs' : 'same company' };
      if (m !== undefined && (best === undefined || m.score > best.score)) best = m;
    }
  }
  return best;
}

/** Tokens of all the names a vendor goes by, to drop from product names ("BD Pyxis …" → "Pyxis …"). */
const vendorTokens: (vendor: string) => ReadonlySet<string> = memo(vendorTokensOf);

function vendorTokensOf(vendor: string): Set<string> {
  const out = new Set<string>();
  for (const n of vendorNames(vendor)) {
    for (const w of n.split(' ')) out.add(w);
    const canon = canonical(n);
    for (const v of VENDOR_ALIASES[canon] ?? []) for (const w of v.split(' ')) out.add(w);
  }
  return out;
}

// ─── Products ───────────────────────────────────────────────────────────────────────────────────

const STOP = new Set([
  'the', 'and', 'or', 'with', 'for', 'of', 'on', 'in', 'a', 'an', 'by', 'to', 'only', 'all', 'versions', 'version', 'ver', 'model', 'models', 'series',
  'software', 'system', 'systems', 'unit', 'units', 'device', 'devices', 'application', 'applications', 'app', 'edition', 'based', 'prior', 'including',
  'integrated', 'installed', 'used', 'using', 'part', 'number', 'certain', 'products', 'product', 'v', 'x', 'family', 'firmware',
]);
/** Words too common in medical product names to make a match on their own. */
const GENERIC = new Set([
  'pacs', 'dicom', 'viewer', 'server', 'portal', 'monitor', 'monitoring', 'pump', 'pumps', 'infusion', 'patient', 'workstation', 'client', 'web', 'android',
  'ios', 'mobile', 'tool', 'manager', 'management', 'ct', 'mr', 'mri', 'xray', 'ray', 'ultrasound', 'gateway', 'station', 'cloud', 'data', 'network',
  'wireless', 'health', 'care', 'medical', 'module', 'controller', 'interface', 'connect', 'service', 'services', 'windows', 'linux', 'remote',
  'programmer', 'console', 'imaging', 'lab', 'laboratory', 'analyzer', 'reader', 'printer', 'camera', 'scanner', 'battery', 'central', 'bedside',
  'plus', 'pro', 'lite', 'ii', 'iii', 'iv', 'control', 'operating', 'center', 'centre', 'hub', 'smart', 'digital', 'point', 'ecg', 'pc', 'api',
]);
/** A few spellings that differ between banners and advisories. */
const PRODUCT_SYNONYMS: [RegExp, string][] = [
  [/\bhttpd\b/g, 'http server'],
  [/\biis\b/g, 'internet information services'],
];
/** Dotted version numbers inside product names ("IntelliSpace Portal 8.0.x", "Xeleris 1.0"): not part of the product. */
const DOTTED = /\bv?\d+(?:\.(?:\d+|x))+\b/gi;

const productWords = memo((name: string): readonly string[] => {
  let s = name.replace(/\([^)]*\)/g, ' ').replace(DOTTED, ' ');
  s = fold(s);
  for (const [re, to] of PRODUCT_SYNONYMS) s = s.replace(re, to);
  return s.split(' ').filter((w) => w !== '' && !STOP.has(w));
});

/** The words of a product name that identify it: lower case, no stop words, no dotted versions, without the vendor's own words. */
export function productTokens(name: string, drop: ReadonlySet<string> = new Set()): Set<string> {
  return new Set(productWords(name).filter((w) => !drop.has(w)));
}

const hasDigit = (w: string): boolean => /\d/.test(w);

export interface ProductMatch {
  score: number;
  how: string;
}

/**
 * Token overlap between a device's model (or software name) and an advisory's product name.
 * Model numbers must agree ("Alaris 8015" is not "Alaris 8000"); generic words ("PACS",
 * "monitor") never match on their own.
 */
export function matchProduct(subject: ReadonlySet<string>, advisory: ReadonlySet<string>, strict = false): ProductMatch | undefined {
  if (subject.size === 0 || advisory.size === 0) return undefined;
  const common = [...subject].filter((w) => advisory.has(w));
  if (common.length === 0) return undefined;
  if (!common.some((w) => !GENERIC.has(w) && (w.length >= 3 || hasDigit(w)))) return undefined;
  const sDigits = [...subject].filter(hasDigit);
  const aDigits = [...advisory].filter(hasDigit);
  if (sDigits.length > 0 && aDigits.length > 0 && !sDigits.some((w) => advisory.has(w))) return undefined;
  const sInA = common.length === subject.size;
  const aInS = common.length === advisory.size;
  if (sInA && aInS) return { score: 1, how: 'same product' };
  if (sInA) {
    if (aDigits.length > 0 && sDigits.length === 0) return { score: 0.6, how: `the advisory names a more specific model (${aDigits.join(', ')})` };
    return { score: 0.75 + 0.2 * (subject.size / advisory.size), how: 'the advisory names the product more fully' };
  }
  if (aInS) return { score: 0.8 + 0.15 * (advisory.size / subject.size), how: 'the device names the product more fully' };
  if (strict) return undefined;
  const union = new Set([...subject, ...advisory]).size;
  if (common.length >= 2 && common.length / advisory.size >= 0.5 && common.length / subject.size >= 0.5) {
    return { score: 0.5 + 0.3 * (common.length / union), how: `${common.length} words in common` };
  }
  return undefined;
}

// ─── Versions ───────────────────────────────────────────────────────────────────────────────────

type Part = number | string;

/** '8.00.01' → [8, 0, 1]; 'v2.1' → [2, 1]; 'B.06.18' → ['b', 6, 18]; '12.x' → [12, '*']. */
export function versionParts(v: string): Part[] {
  const s = v.trim().toLowerCase().replace(/^(version|ver)\s*/, '').replace(/^v(?=\d)/, '');
  const out: Part[] = [];
  for (const m of s.matchAll(/(\d+)|([a-z]+)|(\*)/g)) {
    if (m[1] !== undefined) out.push(Number.parseInt(m[1], 10));
    else if (m[2] !== undefined) out.push(m[2] === 'x' ? '*' : m[2]);
    else out.push('*');
  }
  return out;
}

/**
 * Compare a concrete version with a constraint version. `*` in the constraint matches anything
 * from there on ("12.x"). undefined: not comparable (a number against letters).
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 | undefined {
  const x = versionParts(a);
  const y = versionParts(b);
  if (x.length === 0 || y.length === 0) return undefined;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = x[i];
    const q = y[i];
    if (q === '*' || p === '*') return 0;
    if (p === undefined || q === undefined) {
      const rest = (p === undefined ? y : x).slice(i);
      if (rest.every((r) => r === 0 || r === '*')) return 0;
      return p === undefined ? -1 : 1;
    }
    if (typeof p === 'number' && typeof q === 'number') {
      if (p !== q) return p < q ? -1 : 1;
    } else if (typeof p === 'string' && typeof q === 'string') {
      if (p !== q) return p < q ? -1 : 1;
    } else {
      return undefined;
    }
  }
  return 0;
}

type Op = '<' | '<=' | '>' | '>=' | '=' | '!=';
interface Bound {
  op: Op;
  version: string;
}
export type Constraint =
  | { kind: 'all' }
  | { kind: 'versions'; bounds: Bound[]; qualifier?: string }
  /** Not a version: a model, variant or part number ("MMT-1710", "Accu-Chek Inform II", "2nd Edition"). */
  | { kind: 'variant'; names: string[] }
  /** A date or prose that cannot be checked from the network ("manufactured prior to August 28"). */
  | { kind: 'text' };

const MONTH = /\b(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|jun(e)?|jul(y)?|aug(ust)?|sep(tember)?|oct(ober)?|nov(ember)?|dec(ember)?)\b|\d{1,2}\/\d{1,2}\/\d{2,4}|\bshipped\b|\bmanufactured\b|\bdistributed\b|\breleased\b/i;
const VERSION_HEAD = /^v?(\d[\w.\-]*|[a-z]{1,3}\.?\d[\w.\-]*|[a-z](?:\.\d+)+\w*)/i;

/** One advisory version string → a constraint. */
export function parseConstraint(raw: string): Constraint {
  let s = raw.replace(/\s+/g, ' ').trim();
  if (/^vers:all\/\*$/i.test(s) || /^(all( versions)?|\*|any|all models)$/i.test(s)) return { kind: 'all' };
  if (MONTH.test(s)) return { kind: 'text' };
  let qualifier: string | undefined;
  const vers = /^vers:[a-z0-9.+-]+\/(.*)$/i.exec(s);
  if (vers !== null) s = vers[1] ?? '';
  else {
    const paren = s.indexOf('(');
    if (paren > 0) {
      qualifier = s.slice(paren).replace(/^\(+|\)+$/g, '').trim();
      s = s.slice(0, paren).trim();
    }
    // Prose: "v2.1 and prior", "prior to 3.6.7", "2.0 and later", "1.1 to 1.3.2".
    const lower = s.toLowerCase();
    let m: RegExpExecArray | null;
    if ((m = /(?:prior to|before|earlier than|lower than|below)\s+(?:version\s+)?(v?[\w.\-]+)/.exec(lower)) !== null) s = `<${m[1]}`;
    else if ((m = /(v?[\w.\-]+)\s+(?:and|or)\s+(?:prior|earlier|below|older|lower|before)/.exec(lower)) !== null) s = `<=${m[1]}`;
    else if ((m = /(v?[\w.\-]+)\s+(?:and|or)\s+(?:later|above|newer|higher|after)/.exec(lower)) !== null) s = `>=${m[1]}`;
    else if ((m = /(v?\d[\w.\-]*)\s+(?:to|through|thru|-)\s+(v?\d[\w.\-]*)/.exec(lower)) !== null) s = `>=${m[1]}|<=${m[2]}`;
  }
  const bounds: Bound[] = [];
  const variants: string[] = [];
  for (const piece of s.split('|').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^(>=|<=|!=|>|<|=)?\s*(.*)$/.exec(piece);
    const op = (m?.[1] ?? '=') as Op;
    let rest = (m?.[2] ?? '').trim();
    // "LPI 3.5.12.P30": a word before the version.
    const lead = /^([a-z]{2,})\s+(v?\d.*)$/i.exec(rest);
    if (lead !== null) rest = lead[2] ?? rest;
    const head = VERSION_HEAD.exec(rest);
    const looksLikeVersion = head !== null && (m?.[1] !== undefined || /[.*]|^\d+$|^v\d/i.test(head[0]) || /^\d/.test(head[0]));
    if (head !== null && looksLikeVersion) {
      bounds.push({ op, version: head[0] });
      const extra = rest.slice(head[0].length).trim();
      if (extra !== '') qualifier = qualifier === undefined ? extra : `${extra} (${qualifier})`;
    } else if (m?.[1] === undefined && rest !== '') variants.push(rest);
    else return { kind: 'text' };
  }
  if (bounds.length > 0) return { kind: 'versions', bounds, ...(qualifier !== undefined ? { qualifier } : {}) };
  if (variants.length > 0) return { kind: 'variant', names: variants };
  return { kind: 'text' };
}

/** '9.7.2' extends '9.7' (every component of the shorter is equal); '9.70' does not. */
function extends_(version: string, prefix: string): boolean {
  const v = versionParts(version);
  const p = versionParts(prefix);
  return p.length > 0 && p.length < v.length && p.every((x, i) => x === v[i] || x === '*');
}

/** Does a concrete version satisfy the bounds? Equalities are alternatives; a lower bound pairs with the next upper bound. */
export function satisfies(version: string, bounds: readonly Bound[]): boolean | undefined {
  let comparable = false;
  const cmp = (b: Bound): -1 | 0 | 1 | undefined => {
    const c = compareVersions(version, b.version);
    if (c !== undefined) comparable = true;
    return c;
  };
  for (const b of bounds) if (b.op === '!=' && cmp(b) === 0) return false;
  // "Version 9.7" in an advisory covers 9.7.2 too: equality by the components the advisory gives.
  for (const b of bounds) if (b.op === '=' && (cmp(b) === 0 || extends_(version, b.version))) return true;
  const ranges = bounds.filter((b) => b.op !== '=' && b.op !== '!=');
  const test = (b: Bound): boolean | undefined => {
    const c = cmp(b);
    if (c === undefined) return undefined;
    switch (b.op) {
      case '<':
        return c < 0;
      case '<=':
        return c <= 0;
      case '>':
        return c > 0;
      case '>=':
        return c >= 0;
      default:
        return undefined;
    }
  };
  for (let i = 0; i < ranges.length; i++) {
    const b = ranges[i] as Bound;
    const next = ranges[i + 1];
    if ((b.op === '>' || b.op === '>=') && next !== undefined && (next.op === '<' || next.op === '<=')) {
      if (test(b) === true && test(next) === true) return true;
      i++;
    } else if (test(b) === true) return true;
  }
  return comparable ? false : undefined;
}

export type VersionVerdict =
  | { state: 'in'; text: string; qualifier?: string }
  | { state: 'all'; text: string }
  | { state: 'out'; text: string }
  | { state: 'unknown'; text: string };

const quote = (s: readonly string[]): string => s.map((v) => `'${v}'`).join(' or ');

/** A subject's version (and the text that names it, for variants) against an affected product's version strings. */
export function checkVersion(versions: readonly string[], version: string | undefined, names: string): VersionVerdict {
  if (versions.length === 0) return { state: 'unknown', text: 'the advisory states no affected versions' };
  const parsed = versions.map((v) => ({ raw: v, c: parseConstraint(v) }));
  if (parsed.some((p) => p.c.kind === 'all')) return { state: 'all', text: 'all versions are affected' };
  const folded = ` ${fold(names)} `;
  for (const p of parsed) {
    if (p.c.kind === 'variant' && p.c.names.some((n) => fold(n) !== '' && folded.includes(` ${fold(n)} `))) {
      return { state: 'in', text: `the affected variant '${p.raw}' is named` };
    }
  }
  const ranged = parsed.filter((p) => p.c.kind === 'versions');
  if (version === undefined || version.trim() === '') {
    return { state: 'unknown', text: `version not seen; the advisory affects ${quote(versions)}` };
  }
  let outside = false;
  for (const p of ranged) {
    if (p.c.kind !== 'versions') continue;
    const r = satisfies(version, p.c.bounds);
    if (r === true) return { state: 'in', text: `version ${version} is within '${p.raw}'`, ...(p.c.qualifier !== undefined ? { qualifier: p.c.qualifier } : {}) };
    if (r === false) outside = true;
  }
  if (outside && ranged.length === parsed.length) return { state: 'out', text: `version ${version} is outside ${quote(versions)}` };
  if (outside && parsed.every((p) => p.c.kind === 'versions' || p.c.kind === 'variant')) return { state: 'out', text: `version ${version} is outside ${quote(ranged.map((p) => p.raw))}` };
  return { state: 'unknown', text: `version ${version} cannot be checked against ${quote(versions)}` };
}

const VERSION_FACTOR: Record<VersionVerdict['state'], number> = { in: 1, all: 0.95, unknown: 0.6, out: 0 };

// ─── Matching ───────────────────────────────────────────────────────────────────────────────────

interface Candidate {
  /** What it is, for the why: "model 'Sigma Spectrum'", "software 'Apache httpd 2.4.49'". */
  what: string;
  vendor?: string;
  /** The vendor is the device's, not the software's own. */
  vendorIsDevice: boolean;
  product: string;
  version?: string;
}

function candidates(subject: VulnSubject): Candidate[] {
  const out: Candidate[] = [];
  if (subject.model !== undefined && subject.model.trim() !== '') {
    out.push({ what: `model '${subject.model}'`, ...(subject.vendor !== undefined ? { vendor: subject.vendor } : {}), vendorIsDevice: false, product: subject.model });
  }
  for (const sw of subject.software) {
    if (sw.name.trim() === '') continue;
    const what = `software '${sw.name}${sw.version !== undefined ? ` ${sw.version}` : ''}'`;
    const base = { what, product: sw.name, ...(sw.version !== undefined ? { version: sw.version } : {}) };
    if (sw.vendor !== undefined) out.push({ ...base, vendor: sw.vendor, vendorIsDevice: false });
    else {
      out.push({ ...base, vendorIsDevice: false });
      if (subject.vendor !== undefined) out.push({ ...base, vendor: subject.vendor, vendorIsDevice: true });
    }
  }
  return out;
}

/** The vendor of a candidate against an advisory vendor; software without a vendor may name it ("Apache httpd"). */
function candidateVendor(c: Candidate, advisoryVendor: string): { match: VendorMatch; said: string } | undefined {
  if (c.vendor !== undefined) {
    const m = matchVendor(c.vendor, advisoryVendor);
    if (m === undefined) return undefined;
    return { match: c.vendorIsDevice ? { score: m.score * 0.9, how: m.how } : m, said: c.vendorIsDevice ? `'${c.vendor}' (the device's vendor)` : `'${c.vendor}'` };
  }
  const hit = vendorInName(`${c.product}\u0000${advisoryVendor}`);
  return hit === null ? undefined : { match: { score: 0.9, how: `named in '${c.product}'` }, said: `'${hit}' (in the software's name)` };
}

/** "Apache httpd" names the vendor 'Apache': the name of the vendor (or an alias) as whole words of the software's name. */
const vendorInName = memo((pair: string): string | null => {
  const [product, vendor] = pair.split('\u0000');
  const words = ` ${fold(product ?? '')} `;
  for (const n of vendorNames(vendor ?? '')) {
    const variants = [n, ...(VENDOR_ALIASES[canonical(n)] ?? [])];
    const hit = variants.find((v) => v.length >= 3 && words.includes(` ${v} `));
    if (hit !== undefined) return hit;
  }
  return null;
}, 200_000);

interface ProductHit {
  product: AffectedProduct;
  vendor: { match: VendorMatch; said: string };
  productMatch: ProductMatch;
  verdict: VersionVerdict;
  confidence: number;
  candidate: Candidate;
}

const round = (x: number): number => Math.round(Math.min(1, Math.max(0, x)) * 100) / 100;

function kevFacts(cves: readonly string[], kb: Advisories): { kev: boolean; ransomware: boolean; entries: KevEntry[] } {
  const entries = cves.map((c) => kb.kev.get(c)).filter((e): e is KevEntry => e !== undefined);
  return { kev: entries.length > 0, ransomware: entries.some((e) => e.knownRansomwareCampaignUse.toLowerCase() === 'known'), entries };
}

function maxCvss(cves: readonly string[], kb: Advisories, advisory?: Advisory): number | undefined {
  let best: number | undefined;
  for (const c of cves) {
    const own = advisory?.cves.find((x) => x.id === c)?.cvss;
    const s = kb.cvss.get(c) ?? own;
    if (s !== undefined && (best === undefined || s > best)) best = s;
  }
  return best;
}

function kevNote(facts: { kev: boolean; ransomware: boolean; entries: KevEntry[] }): string {
  if (!facts.kev) return '';
  const first = facts.entries[0] as KevEntry;
  return `; in CISA KEV since ${first.dateAdded}${facts.ransomware ? ', used by ransomware' : ''}`;
}

function matchAdvisory(a: Advisory, cands: readonly Candidate[], kb: Advisories): VulnMatch | undefined {
  const hits: ProductHit[] = [];
  /** Products some candidate's known version is outside of: an unversioned candidate (the model) must not bring them back. */
  const ruledOut = new Set<string>();
  for (const p of a.products) {
    if (p.vendor === '') continue;
    const drop = vendorTokens(p.vendor);
    const aTokens = productTokens(p.product, drop);
    for (const c of cands) {
      const v = candidateVendor(c, p.vendor);
      if (v === undefined) continue;
      const pm = matchProduct(productTokens(c.product, drop), aTokens);
      if (pm === undefined) continue;
      const verdict = checkVersion(p.versions, c.version, c.product);
      if (verdict.state === 'out') {
        ruledOut.add(p.id);
        continue;
      }
      let conf = 0.92 * v.match.score * pm.score * VERSION_FACTOR[verdict.state];
      if (verdict.state === 'in' && verdict.qualifier !== undefined) conf *= 0.9;
      hits.push({ product: p, vendor: v, productMatch: pm, verdict, confidence: conf, candidate: c });
    }
  }
  for (let i = hits.length - 1; i >= 0; i--) {
    const h = hits[i] as ProductHit;
    if (h.verdict.state === 'unknown' && h.candidate.version === undefined && ruledOut.has(h.product.id)) hits.splice(i, 1);
  }
  if (hits.length === 0) return undefined;
  hits.sort((x, y) => y.confidence - x.confidence);
  const best = hits[0] as ProductHit;
  const ids = new Set(hits.map((h) => h.product.id));
  const cves = a.cves.filter((c) => c.products === undefined || c.products.some((p) => ids.has(p))).map((c) => c.id);
  if (cves.length === 0) return undefined;
  const facts = kevFacts(cves, kb);
  const cvss = maxCvss(cves, kb, a);
  const p = best.product;
  const shown = p.name ?? `${p.product}${p.versions.length > 0 ? ` ${p.versions.join(' | ')}` : ''}`;
  const qual = best.verdict.state === 'in' && best.verdict.qualifier !== undefined ? ` (the advisory also says: ${best.verdict.qualifier})` : '';
  const why =
    `vendor ${best.vendor.said} matches '${p.vendor}' (${best.vendor.match.how}) and ${best.candidate.what} matches ${a.id} product '${shown}' (${best.productMatch.how}); ` +
    `${best.verdict.text}${qual}${kevNote(facts)}`;
  const remediation =
    a.remediations.find((r) => r.category === 'vendor_fix' && (r.products === undefined || r.products.some((x) => ids.has(x))))?.text ??
    a.remediations.find((r) => r.products === undefined || r.products.some((x) => ids.has(x)))?.text ??
    facts.entries[0]?.requiredAction;
  return {
    id: a.id,
    cves,
    title: a.title,
    source: a.source,
    kev: facts.kev,
    ransomware: facts.ransomware,
    ...(cvss !== undefined ? { cvss } : {}),
    confidence: round(best.confidence),
    why,
    ...(remediation !== undefined ? { remediation } : {}),
    ...(a.url !== undefined ? { url: a.url } : {}),
  };
}

/** KEV products left to the OS-flaw path: version-less KEV entries for "Windows" would flag every Windows machine. */
function isOsLevel(e: KevEntry): boolean {
  return fold(e.vendorProject) === 'microsoft' && /\b(windows|win32k|smbv?\d?|smb|remote desktop|print spooler|netlogon|kernel)\b/i.test(e.product);
}

function matchKev(e: KevEntry, cands: readonly Candidate[], kb: Advisories): VulnMatch | undefined {
  if (isOsLevel(e)) return undefined;
  const drop = vendorTokens(e.vendorProject);
  const aTokens = productTokens(e.product, drop);
  let best: { conf: number; why: string } | undefined;
  for (const c of cands) {
    const v = candidateVendor(c, e.vendorProject);
    if (v === undefined) continue;
    const pm = matchProduct(productTokens(c.product, drop), aTokens, true);
    if (pm === undefined) continue;
    const conf = 0.92 * v.match.score * pm.score * 0.35;
    if (best === undefined || conf > best.conf) {
      const version = c.version !== undefined ? `version ${c.version} was not checked` : 'the version was not seen either';
      best = {
        conf,
        why:
          `vendor ${v.said} matches KEV '${e.vendorProject}' (${v.match.how}) and ${c.what} matches KEV product '${e.product}' (${pm.how}); ` +
          `KEV lists no affected versions, so ${version} — confirm against the vendor's advisory; in CISA KEV since ${e.dateAdded}` +
          `${e.knownRansomwareCampaignUse.toLowerCase() === 'known' ? ', used by ransomware' : ''}`,
      };
    }
  }
  if (best === undefined) return undefined;
  const cvss = kb.cvss.get(e.cveID);
  return {
    id: e.cveID,
    cves: [e.cveID],
    title: e.name,
    source: 'kev',
    kev: true,
    ransomware: e.knownRansomwareCampaignUse.toLowerCase() === 'known',
    ...(cvss !== undefined ? { cvss } : {}),
    confidence: round(best.conf),
    why: best.why,
    remediation: e.requiredAction,
    url: `https://nvd.nist.gov/vuln/detail/${e.cveID}`,
  };
}

function matchOsFlaw(f: OsFlaw, subject: VulnSubject, kb: Advisories): VulnMatch | undefined {
  const releases = subject.os?.releases ?? [];
  const affected = releases.filter((r) => f.affects[r.product]?.includes(r.cycle) === true);
  const flags = new Set((subject.flags ?? []).map((x) => x.toLowerCase()));
  const confirmed = f.confirmedBy.filter((x) => flags.has(x));
  const raised = f.raisedBy.filter((x) => flags.has(x));
  if (affected.length === 0 && confirmed.length === 0) return undefined;
  const ex = f.exposure;
  const service = subject.services.find((s) => (s.transport === ex.transport && ex.ports.includes(s.port)) || (s.app !== undefined && ex.apps.includes(s.app.toLowerCase())));
  if (ex.required && service === undefined && confirmed.length === 0) return undefined;

  const name = [f.bulletin, f.nickname].filter((x): x is string => x !== undefined).join(', ');
  const label = (r: OsRelease): string => `${r.label} (${r.product}/${r.cycle})`;
  const reasons: string[] = [];
  let conf: number;
  if (affected.length > 0 && affected.length === releases.length) {
    conf = 0.55;
    reasons.push(`${affected.map(label).join(' / ')} ${affected.length === 1 ? 'is' : 'are all'} affected by ${f.id}${name !== '' ? ` (${name})` : ''}`);
  } else if (affected.length > 0) {
    conf = 0.25 + 0.25 * (affected.length / releases.length);
    const other = releases.filter((r) => !affected.includes(r));
    reasons.push(`the OS could be ${affected.map(label).join(' / ')}, affected by ${f.id}${name !== '' ? ` (${name})` : ''}, or ${other.map(label).join(' / ')}, not affected`);
  } else {
    conf = 0.5;
    reasons.push(`${subject.os !== undefined ? `the OS (${subject.os.label}) is not a release ${f.id} is listed for` : 'the OS is not known'}, but observations confirm it`);
  }
  if (service !== undefined) {
    conf += 0.2;
    reasons.push(`${ex.service} is open (${service.transport}/${service.port})`);
  } else reasons.push(`no ${ex.service} service was seen (${ex.transport}/${ex.ports.join(',')}), so exposure is not confirmed`);
  if (raised.length > 0) {
    conf += 0.1;
    reasons.push(`observed: ${raised.join(', ')}`);
  }
  if (confirmed.length > 0) {
    conf = Math.max(conf, 0.95);
    reasons.push(`confirmed by observation: ${confirmed.join(', ')}`);
  } else reasons.push('the patch level cannot be seen from the network');

  const facts = kevFacts(f.cves, kb);
  if (facts.kev) reasons.push(`in CISA KEV since ${facts.entries.map((e) => e.dateAdded).sort()[0] ?? ''}${facts.ransomware ? ', used by ransomware' : ''}`);
  const primary = kb.kev.get(f.id) ?? facts.entries[0];
  const title = primary !== undefined ? `${primary.name}${name !== '' ? ` (${name})` : ''}` : f.title;
  const cvss = maxCvss(f.cves, kb);
  return {
    id: f.id,
    cves: [...f.cves],
    title,
    source: 'os-flaw',
    kev: facts.kev,
    ransomware: facts.ransomware,
    ...(cvss !== undefined ? { cvss } : {}),
    confidence: round(Math.min(conf, 0.95)),
    why: reasons.join('; '),
    remediation: f.remediation,
    url: f.url,
  };
}

/**
 * The knowledge base indexed by vendor, built once per knowledge base on first use: which of its
 * vendor names a device's vendor (or a software name) can match is then a few map lookups, not a
 * scan of every vendor name (~50 ms on the first device), and only the advisories and KEV entries of
 * those vendors are looked at.
 */
interface Index {
  /** CVEs an NVD record describes. */
  nvd: ReadonlySet<string>;
  /** Vendor names of the knowledge base by the canonical form of each name they go by. */
  byCanonical: ReadonlyMap<string, readonly string[]>;
  /** Vendor names of the knowledge base by each wording that names them inside a product name (vendorInName). */
  byWording: ReadonlyMap<string, readonly string[]>;
  /** Positions in kb.advisories of the advisories with a product of each vendor name. */
  advisories: ReadonlyMap<string, readonly number[]>;
  /** KEV entries by vendor name, in the catalogue's order. */
  kev: ReadonlyMap<string, readonly KevEntry[]>;
}
const indexes = new WeakMap<Advisories, Index>();
function indexOf(kb: Advisories): Index {
  let index = indexes.get(kb);
  if (index === undefined) {
    const vendors = new Set<string>();
    const advisories = new Map<string, number[]>();
    const kev = new Map<string, KevEntry[]>();
    for (const e of kb.kev.values()) {
      vendors.add(e.vendorProject);
      // Flaws of the OS itself are matched by the OS-flaw table, never by product name (matchKev
      // refuses them): not listed, so a Windows subject does not walk past some 200 of them.
      if (!isOsLevel(e)) push(kev, e.vendorProject, e);
    }
    kb.advisories.forEach((a, i) => {
      for (const p of a.products) {
        vendors.add(p.vendor);
        const list = advisories.get(p.vendor);
        if (list === undefined) advisories.set(p.vendor, [i]);
        else if (list[list.length - 1] !== i) list.push(i);
      }
    });
    const byCanonical = new Map<string, string[]>();
    const byWording = new Map<string, string[]>();
    for (const v of vendors) {
      if (v === '') continue;
      for (const n of vendorNames(v)) {
        // matchVendor holds exactly when some name of each side has the same canonical form (an equal
        // name or a shared alias has it too).
        pushOnce(byCanonical, canonical(n), v);
        for (const w of [n, ...(VENDOR_ALIASES[canonical(n)] ?? [])]) if (w.length >= 3) pushOnce(byWording, w, v);
      }
    }
    index = { nvd: new Set(kb.advisories.filter((a) => a.source === 'nvd').map((a) => a.id)), byCanonical, byWording, advisories, kev };
    indexes.set(kb, index);
  }
  return index;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [v]);
  else l.push(v);
}

function pushOnce<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [v]);
  else if (!l.includes(v)) l.push(v);
}

/**
 * The knowledge base's vendor names some candidate matches (candidateVendor would not be
 * undefined): by its vendor's names' canonical forms, or — software without a vendor — by every run
 * of whole words of its name that is some vendor's name or alias (vendorInName's test).
 */
function knownVendorsOf(cands: readonly Candidate[], index: Index): ReadonlySet<string> {
  const out = new Set<string>();
  for (const c of cands) {
    if (c.vendor !== undefined) {
      for (const n of vendorNames(c.vendor)) for (const v of index.byCanonical.get(canonical(n)) ?? []) out.add(v);
    } else {
      const words = fold(c.product).split(' ');
      for (let i = 0; i < words.length; i++) {
        let run = '';
        for (let j = i; j < words.length; j++) {
          run = j === i ? (words[i] as string) : `${run} ${words[j] as string}`;
          for (const v of index.byWording.get(run) ?? []) out.add(v);
        }
      }
    }
  }
  return out;
}

/** For the tests: the vendor names the index finds for a subject, and those a scan of every vendor name with candidateVendor finds. */
export function knownVendorsForTest(subject: VulnSubject, kb: Advisories): { indexed: string[]; scanned: string[] } {
  const cands = candidates(subject);
  const all = new Set<string>();
  for (const e of kb.kev.values()) all.add(e.vendorProject);
  for (const a of kb.advisories) for (const p of a.products) all.add(p.vendor);
  const scanned = [...all].filter((v) => v !== '' && cands.some((c) => candidateVendor(c, v) !== undefined));
  return { indexed: [...knownVendorsOf(cands, indexOf(kb))].sort(), scanned: scanned.sort() };
}

/**
 * Ids (device ids, CVE and advisory ids) in code-point order: the same on every machine whatever its
 * locale, and without a collator (ICU's first one takes 6–10 ms to make, a tenth of a hospital's report).
 */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every known vulnerability the subject plausibly has, most certain first. */
export function matchVulnerabilities(subject: VulnSubject, kb: Advisories): VulnMatch[] {
  const out: VulnMatch[] = [];
  const cands = candidates(subject);
  const covered = new Set<string>();
  const index = indexOf(kb);
  const vendors = knownVendorsOf(cands, index);
  if (vendors.size > 0) {
    // The advisories with a product of one of those vendors, in the knowledge base's order.
    const at = new Set<number>();
    for (const v of vendors) for (const i of index.advisories.get(v) ?? []) at.add(i);
    for (const i of [...at].sort((x, y) => x - y)) {
      const a = kb.advisories[i] as Advisory;
      const m = matchAdvisory(a, cands, kb);
      if (m === undefined) continue;
      out.push(m);
      for (const c of m.cves) covered.add(c);
    }
  }
  for (const f of kb.osFlaws) {
    const m = matchOsFlaw(f, subject, kb);
    if (m === undefined) continue;
    out.push(m);
    for (const c of m.cves) covered.add(c);
  }
  if (vendors.size > 0) {
    // A CVE that an NVD record describes is decided by its versions there, not by KEV's product name.
    const entries: KevEntry[] = [];
    for (const v of vendors) entries.push(...(index.kev.get(v) ?? []));
    for (const e of entries) {
      if (covered.has(e.cveID) || index.nvd.has(e.cveID)) continue;
      const m = matchKev(e, cands, kb);
      if (m !== undefined) out.push(m);
    }
  }
  return out.sort((x, y) => y.confidence - x.confidence || Number(y.kev) - Number(x.kev) || (y.cvss ?? 0) - (x.cvss ?? 0) || byText(x.id, y.id));
}
