/**
 * Error-message disclosure: what a device gives away about its internals in error pages, database
 * errors, verbose headers and protocol banners — web server, framework, language, database and
 * their versions, file-system paths, source locations, internal names, user names, SQL.
 *
 * The patterns are data (data/leak-patterns.json, each with its public source): a pattern applies
 * to some observation attributes, is gated by cheap lower-case substring needles and a detection
 * regex, and extracts facts with named-group regexes (or constant facts). Everything here is pure
 * once the patterns are loaded (lazily, once, from data/; `useLeakPatterns` injects others).
 *
 * Cost: detection runs on de-duplicated observations, never per packet; `matchLeak` memoises its
 * answers (bounded, two generations) and an ordinary value costs one lower-casing plus a few
 * `includes` before any regex runs.
 *
 * What counts (the rules bench/leak-corpus/SOURCES.md scores against):
 *  - a bare status page ("404 Not Found", IIS "403 - Forbidden", Flask's "Internal Server Error")
 *    leaks nothing; a page or header that names software WITH a version does (low severity);
 *  - a header without a version ("Server: nginx") is not a leak; X-Powered-By always is (it names
 *    the framework, which is its only purpose);
 *  - stack traces, debug pages, paths, SQL and user names raise the severity (medium/high);
 *  - facts carry no evidence of patients: snippets and values are masked (see `redactSnippet`).
 */
import type { DeviceFacts, FactValue } from '../inventory/builder.ts';
import { dataFile, readDataJson } from '../knowledge/paths.ts';
import { maskPersonal } from '../protocols/redact.ts';
import type { LeakPatternFile } from './leak-patterns-schema.ts';
import type { LeakFact, LeakFactKind, LeakFinding, Severity } from './finding.ts';

// ---- the pattern data ----------------------------------------------------------------------------

export type { LeakPatternFile } from './leak-patterns-schema.ts';

interface Extractor {
  kind: LeakFactKind;
  value?: string;
  version?: string;
  re?: RegExp;
  tokens: boolean;
  exclude?: RegExp;
  max: number;
}
interface Pattern {
  id: string;
  title: string;
  needles: string[];
  detect: RegExp;
  facts: Extractor[];
  severity: Severity;
  remediation: string;
}
interface Compiled {
  byAttribute: Map<string, Pattern[]>;
  products: Map<string, { kind: LeakFactKind; name: string }>;
  osComments: { re: RegExp; value: string }[];
  osSuffixes: { re: RegExp; value: string; version?: string }[];
}

function rx(src: string, global = false): RegExp {
  const ci = src.startsWith('(?i)');
  return new RegExp(ci ? src.slice(4) : src, `${global ? 'g' : ''}${ci ? 'i' : ''}`);
}

/**
 * Compiles a pattern file. Not validated here: the shipped file is checked by the tests
 * (parseLeakPatterns in leak-patterns-schema.ts, zod, ~0.1 s to load), and a file of one's own is
 * validated with it before it comes here (useLeakPatterns).
 */
export function compileLeakPatterns(file: LeakPatternFile): Compiled {
  const byAttribute = new Map<string, Pattern[]>();
  const ids = new Set<string>();
  for (const p of file.patterns) {
    if (ids.has(p.id)) throw new Error(`leak pattern id "${p.id}" is not unique`);
    ids.add(p.id);
    const compiled: Pattern = {
      id: p.id,
      title: p.title,
      needles: p.needles.map((n) => n.toLowerCase()),
      detect: rx(p.detect),
      facts: p.facts.map((f) => {
        const e: Extractor = { kind: f.kind, tokens: f.tokens === true, max: f.max ?? (f.regex === undefined ? 1 : 4) };
        if (f.value !== undefined) e.value = f.value;
        if (f.version !== undefined) e.version = f.version;
        if (f.regex !== undefined) e.re = rx(f.regex, true);
        if (f.exclude !== undefined) e.exclude = rx(f.exclude);
        return e;
      }),
      severity: p.severity,
      remediation: p.remediation,
    };
    for (const a of p.attributes) {
      const list = byAttribute.get(a) ?? [];
      list.push(compiled);
      byAttribute.set(a, list);
    }
  }
  return {
    byAttribute,
    products: new Map(Object.entries(file.products).map(([k, v]) => [k.toLowerCase(), v])),
    osComments: file.osComments.map((o) => ({ re: rx(o.regex), value: o.value })),
    osSuffixes: file.osVersionSuffixes.map((o) => ({ re: rx(o.regex), value: o.value, ...(o.version !== undefined ? { version: o.version } : {}) })),
  };
}

let patterns: Compiled | undefined;
function loaded(): Compiled {
  if (patterns === undefined) patterns = compileLeakPatterns(readDataJson(dataFile('leak-patterns.json')) as LeakPatternFile);
  return patterns;
}

/** Replaces the shipped patterns (tests, or a user's own file, validated: parseLeakPatterns); clears the memo. */
export function useLeakPatterns(file: LeakPatternFile): void {
  patterns = compileLeakPatterns(file);
  memo.clear();
  memoOld.clear();
}

/** Attributes the detector reads (the others are never looked at). */
export function leakAttributes(): string[] {
  return [...loaded().byAttribute.keys()];
}

// ---- text preparation ----------------------------------------------------------------------------

/** Longest value looked at (the HTTP dissector keeps 1 KiB of body, escaped: a little more). */
const MAX_VALUE = 4096;
const ENTITIES: Record<string, string> = { nbsp: ' ', lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", '#39': "'", '#34': '"', '#x27': "'", '#47': '/', '#x2F': '/' };

function unescapeBreaks(s: string): string {
  return s.includes('\\') ? s.replace(/\\r\\n|\\n|\\r/g, '\n').replace(/\\t/g, '\t') : s;
}

/**
 * The dissector's escaped text back to lines: `redact.printable` writes CR/LF/TAB as \r \n \t
 * (backslash escapes, and does not escape backslashes). Outside Windows paths every \r \n \t is a
 * break; inside one ("C:\inetpub\new\x.aspx") only a trailing run and "\r\n" are, so "\new" stays
 * a folder. HTML entities are decoded.
 */
export function prepareText(value: string): string {
  let t = value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value;
  if (t.includes('\\')) {
    // Windows paths keep their backslashes; everywhere else \r \n \t are the dissector's escapes.
    let out = '';
    let last = 0;
    for (const m of t.matchAll(/(?<!\w)[A-Za-z]:\\[^\s<>"'|*?]*/g)) {
      out += unescapeBreaks(t.slice(last, m.index));
      out += (m[0] as string).replace(/\\r\\n/g, '\n').replace(/(?:\\[rnt])+$/, '\n');
      last = m.index + m[0].length;
    }
    t = out + unescapeBreaks(t.slice(last));
  }
  if (t.includes('&')) t = t.replace(/&(nbsp|lt|gt|amp|quot|apos|#39|#34|#x27|#47|#x2F);/gi, (m, e: string) => ENTITIES[e] ?? ENTITIES[e.toLowerCase()] ?? m);
  return t;
}

// ---- redaction -----------------------------------------------------------------------------------

/** Patient-looking data beyond redact.ts: identifiers, phone numbers, dates of birth, names in SQL literals. */
const EXTRA_PERSONAL: ReadonlyArray<[RegExp, string]> = [
  [/\b(MRN|PID|patient[ _-]?id|patientid|medical record(?: number)?|NHS(?: number)?|SSN|DOB|birth ?date|date of birth)(\s*[:=#]?\s*)['"]?[\w./-]{1,40}/gi, '$1$2[REDACTED]'],
  [/\b(?:19|20)\d{2}[-/.](?:0[1-9]|1[0-2])[-/.](?:0[1-9]|[12]\d|3[01])\b/g, '[DATE]'],
  [/\b(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)\d{2}\b/g, '[DATE]'],
  [/(?<![\w.])(?:\+\d{1,3}[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?![\w.])/g, '[PHONE]'],
  [/(?<![\w.-])\d{7,}(?![\w.-])/g, '[NUMBER]'],
  [/\^\^\^[^|\s]*|\b[A-Z][A-Za-z'-]+\^[A-Z][A-Za-z'-]+(?:\^[\w'-]*)*/g, '[NAME]'], // HL7 XPN names (FAMILY^GIVEN)
];

/** Masks personal data in a text: redact.ts's patterns plus patient identifiers, phones, dates, HL7 names. */
export function redactLeakText(s: string): string {
  let out = maskPersonal(s);
  for (const [re, sub] of EXTRA_PERSONAL) out = out.replace(re, sub);
  return out;
}

/** SQL fragments: string literals and long numbers are data (perhaps a patient's), the statement's shape is the leak. */
export function redactSql(s: string): string {
  return redactLeakText(s)
    .replace(/'[^'\n]{2,}'/g, "'…'")
    .replace(/"[^"\n]{2,}"(?=\s*(?:,|\)|$|AND|OR|WHERE))/gi, '"…"')
    .replace(/(?<![\w.])\d{5,}(?![\w.])/g, '[N]');
}

/** Snippet of at most `max` characters centred on [at, at+len), white space collapsed, redacted. */
export function redactSnippet(text: string, at: number, len: number, max = 300): string {
  const mid = at + Math.min(len, max) / 2;
  let start = Math.max(0, Math.floor(mid - max / 2));
  const end = Math.min(text.length, start + max);
  start = Math.max(0, end - max);
  let s = text.slice(start, end).replace(/\s+/g, ' ');
  s = redactLeakText(s);
  if (start > 0) s = `…${s}`;
  if (end < text.length) s = `${s}…`;
  return s.length > max + 2 ? `${s.slice(0, max + 1)}…` : s;
}

// ---- matching ------------------------------------------------------------------------------------

export interface LeakMatch {
  pattern: string;
  title: string;
  facts: LeakFact[];
  severity: Severity;
  remediation: string;
  /** Where the detection matched in the prepared text (for the snippet). */
  at: number;
  length: number;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
/** A leak of these kinds is at least this severe, whatever pattern found it. */
const KIND_SEVERITY: Partial<Record<LeakFactKind, Severity>> = { sql: 'high', username: 'high', stack_trace: 'medium', source_location: 'medium', path: 'medium' };

function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

function fill(template: string, groups: Record<string, string | undefined> | undefined): string | undefined {
  let missing = false;
  const out = template.replace(/\{(\w+)\}/g, (_, g: string) => {
    const v = groups?.[g];
    if (v === undefined || v === '') missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

/** Tidies an extracted value: trailing escapes and punctuation off, length capped, personal data masked. */
function cleanValue(kind: LeakFactKind, v: string): string {
  let s = v.replace(/(?:\\[rnt])+$/g, '').replace(/\s+/g, ' ').trim();
  if (kind === 'path' || kind === 'source_location') s = s.replace(/[.,;)\]]+$/, '');
  if (s.length > 200) s = `${s.slice(0, 200)}…`;
  return kind === 'sql' ? redactSql(s) : redactLeakText(s);
}

function cleanVersion(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().replace(/[.,;)]+$/, '');
  return s === '' ? undefined : s.slice(0, 40);
}

/** "Apache/2.4.41 (Ubuntu) OpenSSL/1.1.1f PHP/7.4.3" → facts; versionless tokens kept only where `keepBare`. */
function tokenFacts(text: string, fallback: LeakFactKind, c: Compiled, keepBare: boolean, out: LeakFact[]): void {
  const comments = [...text.matchAll(/\(([^)]*)\)/g)].map((m) => m[1] as string).join(' ');
  const bare = text.replace(/\([^)]*\)/g, ' ');
  let n = 0;
  for (const m of bare.matchAll(/([A-Za-z][\w.+-]*(?: [A-Za-z][\w+-]*)?)\/([vVrR]?\d[\w.+~-]*)/g)) {
    if (++n > 8) break;
    let name = m[1] as string;
    // "Apache Tomcat/9" is one product; "Foo Bar/1" where Foo is a known product on its own is two.
    const known = c.products.get(name.toLowerCase()) ?? c.products.get(name.split(' ').pop()?.toLowerCase() ?? '');
    if (!c.products.has(name.toLowerCase()) && name.includes(' ')) name = name.split(' ').pop() as string;
    const version = (m[2] as string).replace(/^[vV](?=\d)/, '');
    out.push({ kind: known?.kind ?? fallback, value: known?.name ?? name, version });
    for (const s of c.osSuffixes) {
      if (s.re.test(version)) out.push(s.version !== undefined ? { kind: 'os', value: s.value, version: s.version } : { kind: 'os', value: s.value });
    }
  }
  if (keepBare && n === 0) {
    for (const w of bare.split(/[\s,;]+/)) {
      if (!/^[A-Za-z][\w.+-]{1,40}$/.test(w)) continue;
      const known = c.products.get(w.toLowerCase());
      out.push({ kind: known?.kind ?? fallback, value: known?.name ?? w });
      if (out.length >= 4) break;
    }
  }
  for (const o of c.osComments) if (o.re.test(comments)) out.push({ kind: 'os', value: o.value });
}

function runExtractor(e: Extractor, text: string, c: Compiled, attribute: string, out: LeakFact[]): void {
  if (e.re === undefined) {
    if (e.value !== undefined) out.push(e.version !== undefined ? { kind: e.kind, value: e.value, version: e.version } : { kind: e.kind, value: e.value });
    return;
  }
  e.re.lastIndex = 0;
  let n = 0;
  for (const m of text.matchAll(e.re)) {
    if (n >= e.max) break;
    n++;
    const g = m.groups;
    if (e.tokens) {
      const t = g?.['tokens'];
      if (t !== undefined) tokenFacts(t, e.kind, c, attribute === 'http.x_powered_by', out);
      continue;
    }
    const raw = e.value !== undefined ? fill(e.value, g) : (g?.['value'] ?? m[0]);
    if (raw === undefined) continue;
    const value = cleanValue(e.kind, raw);
    if (value === '' || (e.exclude !== undefined && e.exclude.test(value))) continue;
    const version = cleanVersion(g?.['version'] ?? e.version);
    out.push(version !== undefined ? { kind: e.kind, value, version } : { kind: e.kind, value });
  }
}

/** How specific a version is: "11.2.0.4.0" says more than "11g". */
function versionDetail(v: string): number {
  return v.split(/[.\-_]/).length;
}

/**
 * Facts de-duplicated: same kind and value (case-insensitive) once; a versioned fact replaces the
 * same fact without version (and a more detailed version a vaguer one); a path that is only the file part of a source location is kept (both
 * are facts), but identical ones are not.
 */
export function dedupeFacts(facts: LeakFact[], max = 32): LeakFact[] {
  const out: LeakFact[] = [];
  const index = new Map<string, number>();
  for (const f of facts) {
    const key = `${f.kind}|${f.value.toLowerCase()}`;
    const i = index.get(key);
    if (i === undefined) {
      if (out.length >= max) continue;
      index.set(key, out.length);
      out.push(f);
      continue;
    }
    const have = out[i] as LeakFact;
    if (f.version !== undefined && (have.version === undefined || versionDetail(f.version) > versionDetail(have.version))) out[i] = f;
  }
  return out;
}

const MEMO_MAX = 20_000;
let memo = new Map<string, LeakMatch[]>();
let memoOld = new Map<string, LeakMatch[]>();
const NONE: LeakMatch[] = [];

function matchUncached(attribute: string, value: string): LeakMatch[] {
  const list = loaded().byAttribute.get(attribute);
  if (list === undefined || value.length === 0) return NONE;
  const c = loaded();
  let lower: string | undefined;
  let text: string | undefined;
  let out: LeakMatch[] | undefined;
  for (const p of list) {
    if (p.needles.length > 0) {
      lower ??= value.length > MAX_VALUE ? value.slice(0, MAX_VALUE).toLowerCase() : value.toLowerCase();
      let hit = false;
      for (const n of p.needles) {
        if (lower.includes(n)) {
          hit = true;
          break;
        }
      }
      if (!hit) continue;
    }
    text ??= prepareText(value);
    const d = p.detect.exec(text);
    if (d === null) continue;
    const raw: LeakFact[] = [];
    for (const e of p.facts) runExtractor(e, text, c, attribute, raw);
    const facts = dedupeFacts(raw);
    if (facts.length === 0) continue;
    let severity = p.severity;
    for (const f of facts) {
      const s = KIND_SEVERITY[f.kind];
      if (s !== undefined) severity = maxSeverity(severity, s);
    }
    (out ??= []).push({ pattern: p.id, title: p.title, facts, severity, remediation: p.remediation, at: d.index, length: d[0].length });
  }
  return out ?? NONE;
}

/**
 * The leaks one observed value shows: one entry per pattern that recognised it, with its facts.
 * Memoised (two generations of 20,000 (attribute, value) pairs); never throws on any input.
 */
export function matchLeak(attribute: string, value: string): LeakMatch[] {
  const key = `${attribute}\u0000${value}`;
  let r = memo.get(key);
  if (r !== undefined) return r;
  r = memoOld.get(key);
  if (r === undefined) r = matchUncached(attribute, value);
  if (memo.size >= MEMO_MAX) {
    memoOld = memo;
    memo = new Map();
  }
  memo.set(key, r);
  return r;
}

// ---- per device ----------------------------------------------------------------------------------

/** Findings kept per device at most. */
const MAX_FINDINGS = 64;

function evidenceOf(attribute: string, v: FactValue, text: string, m: LeakMatch): LeakFinding['evidence'] {
  const ev = v.evidence[0];
  return {
    protocol: ev?.protocol ?? v.protocol,
    attribute,
    frame: ev?.frame ?? 0,
    time: ev?.time ?? 0,
    snippet: redactSnippet(text, m.at, m.length),
  };
}

/**
 * Every leak a device shows: one finding per pattern per distinct observed value (so the same
 * error page seen twice is one finding, two different pages are two), most severe first, bounded.
 */
export function detectLeaks(facts: DeviceFacts): LeakFinding[] {
  const c = loaded();
  const out: LeakFinding[] = [];
  const seen = new Set<string>();
  for (const [attribute, values] of facts.facts) {
    if (!c.byAttribute.has(attribute)) continue;
    for (const v of values) {
      const matches = matchLeak(attribute, v.value);
      if (matches.length === 0) continue;
      const text = prepareText(v.value);
      for (const m of matches) {
        const key = `${m.pattern}\u0000${attribute}\u0000${v.value}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ pattern: m.pattern, title: m.title, facts: m.facts.map((f) => ({ ...f })), evidence: evidenceOf(attribute, v, text, m), severity: m.severity, remediation: m.remediation });
        if (out.length >= MAX_FINDINGS * 4) break;
      }
    }
  }
  out.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.evidence.frame - b.evidence.frame);
  return out.slice(0, MAX_FINDINGS);
}

// ---- software for the inventory -----------------------------------------------------------------

const SOFTWARE_KINDS = new Set<LeakFactKind>(['web_server', 'framework', 'database', 'runtime', 'language', 'product']);

/**
 * The software the findings name (web server, framework, database, runtime, language, product),
 * in the inventory's Software shape without evidence: one per name, a versioned one preferred.
 * A leaked "Oracle" with version "11g" becomes { name: 'Oracle', version: '11g' }.
 */
export function leakSoftware(findings: readonly LeakFinding[]): { name: string; version?: string }[] {
  const out: { name: string; version?: string }[] = [];
  const index = new Map<string, number>();
  for (const f of findings) {
    for (const fact of f.facts) {
      if (!SOFTWARE_KINDS.has(fact.kind)) continue;
      const key = fact.value.toLowerCase();
      const i = index.get(key);
      if (i === undefined) {
        if (out.length >= 32) continue;
        index.set(key, out.length);
        out.push(fact.version !== undefined ? { name: fact.value, version: fact.version } : { name: fact.value });
      } else if ((out[i] as { version?: string }).version === undefined && fact.version !== undefined) {
        out[i] = { name: fact.value, version: fact.version };
      }
    }
  }
  return out;
}
