/**
 * Manufacturer disclosure reports: what a hospital sends a device manufacturer when its devices
 * disclose their internals on the wire (error pages with stack traces, version banners, SQL, paths),
 * one report per vendor, plus the hospital-wide leak summary.
 *
 * Pure: devices in, report records out, and renderers from records to Markdown and to
 * self-contained printable HTML. Everything that came from the network (snippets, fact values,
 * model names, even vendor names) is hostile text: the renderers escape all of it.
 *
 * Shareable by default: the hospital's addresses (IP, MAC, host names, device ids) never appear
 * unless `includeAddresses` is set; devices are named by per-report aliases ("device A (CT scanner,
 * model X)") and addresses or host names of the hospital's devices inside snippets and leaked facts
 * are masked (a known device → its alias, any other private address → "[internal IP]", any MAC →
 * "[MAC]").
 */
import { LEAK_FACT_KINDS, SEVERITIES, type LeakFact, type LeakFactKind, type LeakFinding, type Severity } from '../assess/finding.ts';
import { fold, type VulnMatch } from '../assess/vulnerabilities.ts';
import { isInternalIp } from '../inventory/address.ts';
import { CATEGORIES, CRITICALITIES, type Category, type Criticality } from '../inventory/device.ts';
import type { AssessedDevice } from '../inventory/inventory.ts';

/** An assessed device with its leak findings (compiles whether or not AssessedDevice has `leaks` yet). */
export type DeviceWithLeaks = Omit<AssessedDevice, 'leaks'> & { leaks: readonly LeakFinding[] };
/** What the report reads of a device: its leaks may be missing (no leak detector run) or read-only. */
type Dev = Omit<AssessedDevice, 'leaks'> & { leaks?: readonly LeakFinding[] };

export interface DisclosureOptions {
  /** The hospital's name, as it signs the report. */
  hospital?: string;
  /** The date the report is as of (printed; nothing else depends on the clock). */
  asOf: Date;
  /** Who the manufacturer should answer (name, e-mail, phone …). */
  contact?: string;
  /** Show IP/MAC addresses, host names and device ids (internal use); default: aliases only. */
  includeAddresses?: boolean;
}

export const UNKNOWN_VENDOR = 'Unknown manufacturer';

// ─── Records ────────────────────────────────────────────────────────────────────────────────────

/** A device as a report names it. */
export interface ReportDevice {
  /** 'device A' — stable within one report only. */
  alias: string;
  /** 'device A (CT scanner, model SOMATOM X)'. */
  label: string;
  vendorConfidence?: number;
  type?: string;
  model?: string;
  category: Category;
  criticality: Criticality;
  os?: string;
  risk: number;
  riskExplanation: string;
  /** Leak patterns the device showed. */
  patterns: string[];
  highestSeverity: Severity;
  /** Capture time span of the device (ISO), when known. */
  firstSeen?: string;
  lastSeen?: string;
  /** Only with `includeAddresses`. */
  id?: string;
  ips?: string[];
  macs?: string[];
  hostnames?: string[];
}

export interface ModelCount {
  /** The model (or product line) as identified; '(model not identified)' when none. */
  model: string;
  type?: string;
  devices: number;
  aliases: string[];
}

export interface FactGroup {
  kind: LeakFactKind;
  label: string;
  values: string[];
  /** Values left out (each group shows at most a dozen). */
  more: number;
}

export interface IssueEvidence {
  device: string;
  protocol: string;
  attribute: string;
  frame: number;
  /** Capture time (ISO). */
  time: string;
  snippet: string;
}

export interface IssueVulnerability {
  id: string;
  title: string;
  cves: string[];
  kev: boolean;
  ransomware: boolean;
  cvss?: number;
  /** The leaked component it matches: 'Microsoft-IIS 7.5'. */
  component: string;
  /** Aliases of the devices whose vulnerability list has it. */
  devices: string[];
  url?: string;
  remediation?: string;
}

export interface IssueRisk {
  /** Severity of the leak itself (the highest of its findings). */
  severity: Severity;
  criticality: { criticality: Criticality; devices: number }[];
  scores: { device: string; score: number }[];
  min: number;
  max: number;
}

/** One leak pattern across the vendor's devices. */
export interface LeakIssue {
  pattern: string;
  title: string;
  severity: Severity;
  /** Aliases of the devices that showed it. */
  devices: string[];
  findings: number;
  facts: FactGroup[];
  evidence: IssueEvidence[];
  /** Devices whose evidence is not shown (one item per device, at most EVIDENCE_SHOWN). */
  evidenceMore: number;
  risk: IssueRisk;
  vulnerabilities: IssueVulnerability[];
  remediation: string[];
}

export interface Reference {
  title: string;
  url: string;
}

export interface VendorReport {
  vendor: string;
  /** File name stem: 'ge-healthcare' (unique across the reports of one run, never 'summary'). */
  slug: string;
  hospital?: string;
  contact?: string;
  /** YYYY-MM-DD */
  asOf: string;
  addressesIncluded: boolean;
  /** Capture time span of the evidence (ISO). */
  period?: { from: string; to: string };
  devices: ReportDevice[];
  models: ModelCount[];
  issues: LeakIssue[];
  highestSeverity: Severity;
  /** Kinds of fact that leaked, in report order. */
  factKinds: LeakFactKind[];
  /** One paragraph. */
  summary: string;
  /** Things to check before sending (a vendor identified with low confidence …). */
  caveats: string[];
  requestedActions: string[];
  /** The coordinated-disclosure framing, a few short paragraphs. */
  disclosure: string[];
  references: Reference[];
}

// ─── Vocabulary ─────────────────────────────────────────────────────────────────────────────────

const FACT_KIND: Record<LeakFactKind, { label: string; order: number }> = {
  web_server: { label: 'Web server', order: 0 },
  framework: { label: 'Framework', order: 1 },
  language: { label: 'Programming language', order: 2 },
  runtime: { label: 'Runtime', order: 3 },
  database: { label: 'Database', order: 4 },
  os: { label: 'Operating system', order: 5 },
  product: { label: 'Product', order: 6 },
  protocol: { label: 'Protocol', order: 7 },
  path: { label: 'File-system paths', order: 8 },
  source_location: { label: 'Source files', order: 9 },
  stack_trace: { label: 'Stack traces', order: 10 },
  internal_host: { label: 'Internal host names', order: 11 },
  internal_ip: { label: 'Internal IP addresses', order: 12 },
  username: { label: 'User names', order: 13 },
  sql: { label: 'SQL', order: 14 },
};

export function factKindLabel(k: LeakFactKind): string {
  return FACT_KIND[k].label;
}

/** Kinds whose value names a component with a version: the ones known vulnerabilities attach to. */
const VERSIONED = new Set<LeakFactKind>(['web_server', 'framework', 'language', 'runtime', 'database', 'os', 'product']);

/** 'Internal IP addresses' → 'internal IP addresses'; 'SQL' stays. */
function lowerFirst(s: string): string {
  return /^.[A-Z]/.test(s) ? s : s.charAt(0).toLowerCase() + s.slice(1);
}

const sevRank = (s: Severity): number => SEVERITIES.indexOf(s);
const maxSeverity = (xs: Iterable<Severity>): Severity => {
  let best: Severity = 'info';
  for (const s of xs) if (sevRank(s) > sevRank(best)) best = s;
  return best;
};

const VALUES_SHOWN = 12;
const EVIDENCE_SHOWN = 5;
const SQL_MAX = 300;
const SNIPPET_MAX = 600;

export const REFERENCES: readonly Reference[] = [
  {
    title: 'U.S. FDA, Postmarket Management of Cybersecurity in Medical Devices (guidance, December 2016)',
    url: 'https://www.fda.gov/regulatory-information/search-fda-guidance-documents/postmarket-management-cybersecurity-medical-devices',
  },
  { title: 'ISO/IEC 29147:2018, Information technology — Security techniques — Vulnerability disclosure', url: 'https://www.iso.org/standard/72311.html' },
  { title: 'CWE-209: Generation of Error Message Containing Sensitive Information', url: 'https://cwe.mitre.org/data/definitions/209.html' },
];

// ─── Helpers ────────────────────────────────────────────────────────────────────────────────────

function leaksOf(d: Dev): readonly LeakFinding[] {
  return d.leaks ?? [];
}

function isoTime(t: number): string | undefined {
  return Number.isFinite(t) && t > 0 ? new Date(t * 1000).toISOString().replace(/\.000Z$/, 'Z') : undefined;
}

/** 0 → 'A', 25 → 'Z', 26 → 'AA' … */
export function aliasLetters(i: number): string {
  let s = '';
  let n = i + 1;
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

function slugify(s: string): string {
  const slug = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug === '' ? 'vendor' : slug;
}

function vendorKey(d: Dev): string {
  const v = d.vendor?.value.trim() ?? '';
  return v === '' ? '' : v.toLowerCase();
}

function capitals(s: string): number {
  let n = 0;
  for (const c of s) if (c !== c.toLowerCase()) n++;
  return n;
}

interface VendorGroup {
  key: string;
  vendor: string;
  slug: string;
  devices: DeviceWithLeaks[];
}

/** Leaking devices grouped by vendor, each group with a unique file slug (assigned in vendor-name order, so stable). */
function vendorGroups(devices: readonly (Dev)[]): VendorGroup[] {
  const groups = new Map<string, { names: Map<string, number>; devices: DeviceWithLeaks[] }>();
  for (const d of devices) {
    const leaks = leaksOf(d);
    if (leaks.length === 0) continue;
    const key = vendorKey(d);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { names: new Map(), devices: [] }));
    const name = key === '' ? UNKNOWN_VENDOR : (d.vendor?.value.trim() ?? UNKNOWN_VENDOR);
    g.names.set(name, (g.names.get(name) ?? 0) + 1);
    g.devices.push({ ...d, leaks });
  }
  const out: VendorGroup[] = [...groups].map(([key, g]) => ({
    key,
    // The most common spelling names the vendor (on a tie, the one with capitals: 'GE Healthcare', not 'ge healthcare').
    vendor: [...g.names].sort((a, b) => b[1] - a[1] || capitals(b[0]) - capitals(a[0]) || a[0].localeCompare(b[0]))[0]?.[0] ?? UNKNOWN_VENDOR,
    slug: '',
    devices: g.devices,
  }));
  out.sort((a, b) => (a.key === '' ? 1 : 0) - (b.key === '' ? 1 : 0) || a.key.localeCompare(b.key));
  const used = new Set<string>(['summary']);
  for (const g of out) {
    const base = g.key === '' ? 'unknown-manufacturer' : slugify(g.vendor);
    let slug = base;
    for (let i = 2; used.has(slug); i++) slug = `${base}-${i}`;
    used.add(slug);
    g.slug = slug;
  }
  return out;
}

const byRisk = (a: Dev, b: Dev): number => b.risk.score - a.risk.score || a.id.localeCompare(b.id);

/** "CT scanner, model X" (what the device is, without saying where it is). */
function describe(d: Dev): string {
  const parts: string[] = [];
  if (d.type !== undefined && d.type.value.trim() !== '') parts.push(d.type.value.trim());
  if (d.model !== undefined && d.model.value.trim() !== '') parts.push(`model ${d.model.value.trim()}`);
  if (parts.length === 0) parts.push(`${d.category.value} device`);
  return parts.join(', ');
}

const MAC_RE = /(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}(?![0-9A-Fa-f])/g;
const IPV4_RE = /(?<!\d|\d\.)(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)/g;
const IPV6_RE = /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])/g;
const NAME_RE = /[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*/g;

/**
 * Masks the hospital's addresses in text from the network: known devices' IPs, MACs and host names
 * become the device's alias in this report (or "[hospital device]"), other internal addresses and
 * any MAC are masked.
 */
class Scrubber {
  private readonly addr = new Map<string, string>();
  private readonly names = new Map<string, string>();
  private readonly hasNames: boolean;
  constructor(all: readonly Dev[], aliases: ReadonlyMap<string, string>) {
    for (const d of all) {
      const to = aliases.get(d.id) ?? '[hospital device]';
      for (const ip of d.ips) this.addr.set(ip.toLowerCase(), to);
      for (const mac of d.macs) this.addr.set(mac.toLowerCase().replace(/-/g, ':'), to);
      for (const h of d.hostnames) {
        const full = h.trim().toLowerCase().replace(/\.$/, '');
        if (full.length < 3) continue;
        this.names.set(full, to);
        const short = full.split('.')[0] ?? '';
        if (short.length >= 4 && !this.names.has(short)) this.names.set(short, to);
      }
    }
    this.hasNames = this.names.size > 0;
  }
  scrub(s: string): string {
    let out = s.replace(MAC_RE, (m) => this.addr.get(m.toLowerCase().replace(/-/g, ':')) ?? '[MAC]');
    out = out.replace(IPV4_RE, (m) => this.addr.get(m) ?? (isInternalIp(m) ? '[internal IP]' : m));
    out = out.replace(IPV6_RE, (m) => {
      const known = this.addr.get(m.toLowerCase());
      if (known !== undefined) return known;
      return m.includes('::') || m.split(':').length >= 4 ? (isInternalIp(m) ? '[internal IP]' : m) : m;
    });
    if (this.hasNames) {
      out = out.replace(NAME_RE, (m) => {
        const l = m.toLowerCase();
        return this.names.get(l) ?? this.names.get(l.split('.')[0] ?? '') ?? m;
      });
    }
    return out;
  }
}

const identity = { scrub: (s: string): string => s };

function cap(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function factText(f: LeakFact): string {
  const v = f.value.trim();
  const ver = f.version?.trim() ?? '';
  const text = ver !== '' && !v.toLowerCase().includes(ver.toLowerCase()) ? `${v} ${ver}` : v;
  return f.kind === 'sql' || f.kind === 'stack_trace' ? cap(text, SQL_MAX) : cap(text, 200);
}

/** Known vulnerabilities (from the device's own list) of a leaked component and version. */
export function vulnerabilitiesOfFact(f: LeakFact, vulns: readonly VulnMatch[]): VulnMatch[] {
  if (!VERSIONED.has(f.kind)) return [];
  const version = f.version !== undefined ? fold(f.version) : '';
  const vTokens = new Set(version.split(' '));
  const tokens = fold(f.value)
    .split(' ')
    .filter((t) => t.length >= 2 && !vTokens.has(t));
  if (tokens.length === 0) return [];
  return vulns.filter((v) => {
    const hay = ` ${fold(`${v.title} ${v.why}`)} `;
    if (!tokens.every((t) => hay.includes(` ${t} `))) return false;
    // An OS release is matched by its name (os-flaw reasons name releases, not kernel versions).
    if (version !== '' && f.kind !== 'os') return hay.includes(` ${version} `);
    return true;
  });
}

// ─── Per-vendor reports ─────────────────────────────────────────────────────────────────────────

/** One disclosure report per vendor whose devices leaked anything; highest severity first. */
export function disclosureReports(devices: readonly DeviceWithLeaks[], o: DisclosureOptions): VendorReport[] {
  const reports = vendorGroups(devices).map((g) => vendorReport(g, devices, o));
  return reports.sort(
    (a, b) =>
      sevRank(b.highestSeverity) - sevRank(a.highestSeverity) ||
      b.devices.length - a.devices.length ||
      (a.vendor === UNKNOWN_VENDOR ? 1 : 0) - (b.vendor === UNKNOWN_VENDOR ? 1 : 0) ||
      a.vendor.localeCompare(b.vendor),
  );
}

function vendorReport(g: VendorGroup, all: readonly Dev[], o: DisclosureOptions): VendorReport {
  const withAddr = o.includeAddresses === true;
  const devs = [...g.devices].sort(byRisk);
  const aliasOf = new Map<string, string>();
  devs.forEach((d, i) => aliasOf.set(d.id, `device ${aliasLetters(i)}`));
  const scrubber = withAddr ? identity : new Scrubber(all, aliasOf);
  const alias = (d: Dev): string => aliasOf.get(d.id) ?? '';

  // Devices.
  const devices: ReportDevice[] = devs.map((d) => {
    const fs = isoTime(d.firstSeen);
    const ls = isoTime(d.lastSeen);
    return {
      alias: alias(d),
      label: `${alias(d)} (${describe(d)})`,
      ...(d.vendor !== undefined ? { vendorConfidence: d.vendor.confidence } : {}),
      ...(d.type !== undefined ? { type: d.type.value } : {}),
      ...(d.model !== undefined ? { model: d.model.value } : {}),
      category: d.category.value,
      criticality: d.criticality,
      ...(d.os !== undefined ? { os: d.os.value } : {}),
      risk: d.risk.score,
      riskExplanation: d.risk.explanation,
      patterns: [...new Set(d.leaks.map((l) => l.pattern))],
      highestSeverity: maxSeverity(d.leaks.map((l) => l.severity)),
      ...(fs !== undefined ? { firstSeen: fs } : {}),
      ...(ls !== undefined ? { lastSeen: ls } : {}),
      ...(withAddr ? { id: d.id, ips: [...d.ips], macs: [...d.macs], hostnames: [...d.hostnames] } : {}),
    };
  });

  // Models.
  const models = new Map<string, { types: Map<string, number>; aliases: string[] }>();
  for (const d of devs) {
    const m = d.model?.value.trim() || '(model not identified)';
    let e = models.get(m);
    if (e === undefined) models.set(m, (e = { types: new Map(), aliases: [] }));
    const t = d.type?.value.trim();
    if (t !== undefined && t !== '') e.types.set(t, (e.types.get(t) ?? 0) + 1);
    e.aliases.push(alias(d));
  }
  const modelCounts: ModelCount[] = [...models]
    .map(([model, e]) => {
      const type = [...e.types].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
      return { model, ...(type !== undefined ? { type } : {}), devices: e.aliases.length, aliases: e.aliases };
    })
    .sort((a, b) => b.devices - a.devices || a.model.localeCompare(b.model));

  // Issues: one per leak pattern.
  const patterns = new Map<string, { device: DeviceWithLeaks; finding: LeakFinding }[]>();
  for (const d of devs) {
    for (const f of d.leaks) {
      let list = patterns.get(f.pattern);
      if (list === undefined) patterns.set(f.pattern, (list = []));
      list.push({ device: d, finding: f });
    }
  }
  let first = Infinity;
  let last = -Infinity;
  const issues: LeakIssue[] = [];
  for (const [pattern, hits] of patterns) {
    const issueDevices: DeviceWithLeaks[] = [];
    for (const h of hits) if (!issueDevices.includes(h.device)) issueDevices.push(h.device);
    // Facts by kind, deduplicated.
    const facts = new Map<LeakFactKind, string[]>();
    for (const h of hits) {
      for (const f of h.finding.facts) {
        const text = scrubber.scrub(factText(f));
        let vs = facts.get(f.kind);
        if (vs === undefined) facts.set(f.kind, (vs = []));
        if (!vs.includes(text)) vs.push(text);
      }
    }
    const factGroups: FactGroup[] = [...facts]
      .sort((a, b) => FACT_KIND[a[0]].order - FACT_KIND[b[0]].order)
      .map(([kind, values]) => ({ kind, label: FACT_KIND[kind].label, values: values.slice(0, VALUES_SHOWN), more: Math.max(0, values.length - VALUES_SHOWN) }));
    // Evidence: the first finding of each device, up to EVIDENCE_SHOWN devices.
    const evidence: IssueEvidence[] = [];
    for (const d of issueDevices) {
      const h = hits.find((x) => x.device === d);
      if (h === undefined) continue;
      const ev = h.finding.evidence;
      if (Number.isFinite(ev.time) && ev.time > 0) {
        first = Math.min(first, ev.time);
        last = Math.max(last, ev.time);
      }
      if (evidence.length >= EVIDENCE_SHOWN) continue;
      evidence.push({
        device: alias(d),
        protocol: ev.protocol,
        attribute: ev.attribute,
        frame: ev.frame,
        time: isoTime(ev.time) ?? 'unknown',
        snippet: cap(scrubber.scrub(ev.snippet), SNIPPET_MAX),
      });
    }
    // Risk.
    const crit = CRITICALITIES.map((c) => ({ criticality: c, devices: issueDevices.filter((d) => d.criticality === c).length })).filter((c) => c.devices > 0);
    const scores = issueDevices.map((d) => ({ device: alias(d), score: d.risk.score }));
    const severity = maxSeverity(hits.map((h) => h.finding.severity));
    // Known vulnerabilities of the leaked components, from each device's own list.
    const vulns = new Map<string, IssueVulnerability>();
    for (const h of hits) {
      for (const f of h.finding.facts) {
        for (const v of vulnerabilitiesOfFact(f, h.device.vulnerabilities)) {
          const key = `${v.id}\u0000${factText(f)}`;
          let e = vulns.get(key);
          if (e === undefined) {
            vulns.set(
              key,
              (e = {
                id: v.id,
                title: v.title,
                cves: [...v.cves],
                kev: v.kev,
                ransomware: v.ransomware,
                ...(v.cvss !== undefined ? { cvss: v.cvss } : {}),
                component: scrubber.scrub(factText(f)),
                devices: [],
                ...(v.url !== undefined ? { url: v.url } : {}),
                ...(v.remediation !== undefined ? { remediation: v.remediation } : {}),
              }),
            );
          }
          const a = alias(h.device);
          if (!e.devices.includes(a)) e.devices.push(a);
        }
      }
    }
    const remediation: string[] = [];
    for (const h of hits) {
      const r = h.finding.remediation.trim();
      if (r !== '' && !remediation.includes(r)) remediation.push(r);
    }
    const titles = new Map<string, number>();
    for (const h of hits) titles.set(h.finding.title, (titles.get(h.finding.title) ?? 0) + 1);
    issues.push({
      pattern,
      title: [...titles].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? pattern,
      severity,
      devices: issueDevices.map(alias),
      findings: hits.length,
      facts: factGroups,
      evidence,
      evidenceMore: Math.max(0, issueDevices.length - evidence.length),
      risk: {
        severity,
        criticality: crit,
        scores,
        min: Math.min(...scores.map((s) => s.score)),
        max: Math.max(...scores.map((s) => s.score)),
      },
      vulnerabilities: [...vulns.values()].sort((a, b) => Number(b.kev) - Number(a.kev) || (b.cvss ?? 0) - (a.cvss ?? 0) || a.id.localeCompare(b.id)),
      remediation,
    });
  }
  issues.sort((a, b) => sevRank(b.severity) - sevRank(a.severity) || b.devices.length - a.devices.length || a.pattern.localeCompare(b.pattern));

  const highestSeverity = maxSeverity(issues.map((i) => i.severity));
  const kinds = new Set<LeakFactKind>();
  for (const i of issues) for (const f of i.facts) kinds.add(f.kind);
  const factKinds = [...kinds].sort((a, b) => FACT_KIND[a].order - FACT_KIND[b].order);
  const period = Number.isFinite(first) ? { from: isoTime(first) ?? '', to: isoTime(last) ?? '' } : undefined;
  const asOf = o.asOf.toISOString().slice(0, 10);
  const who = o.hospital?.trim() || 'The hospital';

  const lifeSustaining = devs.filter((d) => d.criticality === 'life-sustaining').length;
  const summary =
    `${who} observed ${devs.length} ${g.vendor} device${devs.length === 1 ? '' : 's'} (${modelCounts.length} model${modelCounts.length === 1 ? '' : 's'}) ` +
    `disclosing internal details in ${issues.length} way${issues.length === 1 ? '' : 's'} on its network` +
    `${period === undefined ? '' : period.from.slice(0, 10) === period.to.slice(0, 10) ? ` on ${period.from.slice(0, 10)}` : ` between ${period.from.slice(0, 10)} and ${period.to.slice(0, 10)}`}. ` +
    `Highest severity: ${highestSeverity}. ` +
    (factKinds.length > 0 ? `What leaks: ${factKinds.map((k) => lowerFirst(FACT_KIND[k].label)).join(', ')}. ` : '') +
    (lifeSustaining > 0 ? `${lifeSustaining} of the devices ${lifeSustaining === 1 ? 'is' : 'are'} life-sustaining. ` : '') +
    `The observations were passive: nothing was sent to the devices.`;

  const caveats: string[] = [];
  if (g.key === '') caveats.push('The manufacturer of these devices could not be identified from the network; identify it (asset records, labels) before sending this report.');
  else {
    const unsure = devs.filter((d) => (d.vendor?.confidence ?? 0) < 0.6);
    if (unsure.length > 0) {
      caveats.push(
        `The manufacturer of ${unsure.map(alias).join(', ')} was identified from the network with confidence below 0.6 (it may be the maker of a network card or a component); confirm against asset records before sending.`,
      );
    }
  }
  if (withAddr) caveats.push('This copy shows device addresses and host names: for internal use; remove them (regenerate without addresses) before sending it outside the hospital.');

  const vulnCount = new Set(issues.flatMap((i) => i.vulnerabilities.map((v) => v.id))).size;
  const versioned = factKinds.some((k) => VERSIONED.has(k));
  const requestedActions: string[] = [
    'Acknowledge receipt of this report and name a contact for it.',
    'Confirm which of the listed models and software versions are affected, and whether other products share the components involved.',
    'Provide a validated update or a supported configuration change that stops the disclosure (generic error pages; no stack traces, SQL, file paths, host or user names, and no version banners in responses), and name the version that contains it.',
    'Until it is available, tell us which compensating measures we may apply without affecting the device’s regulatory clearance or warranty (network segmentation, access restrictions, a filtering proxy).',
  ];
  if (vulnCount > 0) requestedActions.push(`State whether the known vulnerabilities listed for the disclosed component versions (${vulnCount}) affect these devices, and your plan to patch them.`);
  if (versioned) requestedActions.push('Send the current software bill of materials (SBOM) and MDS2 form for the affected models, so disclosed component versions can be checked against them.');
  requestedActions.push('Tell us whether you will publish an advisory (directly or through CISA), and when; we will not publish details of this report before coordinating with you.');

  const disclosure: string[] = [
    `This report is shared under coordinated vulnerability disclosure, as described in ISO/IEC 29147. ${who} asks ${g.vendor} to treat it as confidential until a fix or mitigation is available, and to coordinate any public advisory with ${o.hospital?.trim() ? o.hospital.trim() : 'the hospital'}.`,
    'The findings were observed passively, by monitoring the hospital’s own network traffic: nothing was sent to the devices and nothing was tested or exploited. Each finding is what a device disclosed in its own responses during normal operation.',
    'The FDA’s guidance on postmarket management of cybersecurity in medical devices asks manufacturers to monitor, assess and remediate cybersecurity vulnerabilities in marketed devices and to maintain a coordinated vulnerability disclosure process. Information disclosure (CWE-209) is not itself a compromise, but it tells an attacker which exploits to use.',
  ];
  if (!withAddr) disclosure.push(`Device addresses, host names and MAC addresses are withheld: devices are named by aliases (device A, device B …) valid for this report only${o.contact?.trim() ? `; ${o.contact.trim()} can map them to serial numbers on request` : ''}.`);

  return {
    vendor: g.vendor,
    slug: g.slug,
    ...(o.hospital !== undefined && o.hospital.trim() !== '' ? { hospital: o.hospital.trim() } : {}),
    ...(o.contact !== undefined && o.contact.trim() !== '' ? { contact: o.contact.trim() } : {}),
    asOf,
    addressesIncluded: withAddr,
    ...(period !== undefined ? { period } : {}),
    devices,
    models: modelCounts,
    issues,
    highestSeverity,
    factKinds,
    summary,
    caveats,
    requestedActions,
    disclosure,
    references: [...REFERENCES],
  };
}

// ─── Hospital-wide summary ──────────────────────────────────────────────────────────────────────

export interface SummaryDevice {
  /** '#1 GE Healthcare CT scanner (model X)', or the device id with addresses. */
  label: string;
  vendor: string;
  model?: string;
  type?: string;
  category: Category;
  criticality: Criticality;
  risk: number;
  findings: number;
  patterns: string[];
  highestSeverity: Severity;
  /** Only with `includeAddresses`. */
  id?: string;
  ips?: string[];
  hostnames?: string[];
}

export interface LeakSummary {
  hospital?: string;
  asOf: string;
  addressesIncluded: boolean;
  /** All devices assessed. */
  devices: number;
  /** Devices with at least one leak. */
  leakingDevices: number;
  findings: number;
  /** Findings per severity, and devices by their highest severity. */
  bySeverity: { severity: Severity; findings: number; devices: number }[];
  byVendor: { vendor: string; slug: string; devices: number; models: number; findings: number; lifeSustaining: number; highestSeverity: Severity }[];
  byCategory: { category: Category; devices: number; total: number; findings: number; highestSeverity?: Severity }[];
  byKind: { kind: LeakFactKind; label: string; devices: number; findings: number }[];
  byPattern: { pattern: string; title: string; severity: Severity; devices: number; vendors: number }[];
  topDevices: SummaryDevice[];
}

export function leakSummary(devices: readonly DeviceWithLeaks[], o: DisclosureOptions & { top?: number }): LeakSummary {
  const withAddr = o.includeAddresses === true;
  const groups = vendorGroups(devices);
  const leaking = groups.flatMap((g) => g.devices);
  const all = leaking.flatMap((d) => d.leaks);
  const vendorOf = new Map<string, string>();
  for (const g of groups) for (const d of g.devices) vendorOf.set(d.id, g.vendor);

  const bySeverity = [...SEVERITIES].reverse().map((s) => ({
    severity: s,
    findings: all.filter((f) => f.severity === s).length,
    devices: leaking.filter((d) => maxSeverity(d.leaks.map((l) => l.severity)) === s).length,
  }));

  const byVendor = groups
    .map((g) => ({
      vendor: g.vendor,
      slug: g.slug,
      devices: g.devices.length,
      models: new Set(g.devices.map((d) => d.model?.value.trim() || '')).size,
      findings: g.devices.reduce((n, d) => n + d.leaks.length, 0),
      lifeSustaining: g.devices.filter((d) => d.criticality === 'life-sustaining').length,
      highestSeverity: maxSeverity(g.devices.flatMap((d) => d.leaks.map((l) => l.severity))),
    }))
    .sort((a, b) => sevRank(b.highestSeverity) - sevRank(a.highestSeverity) || b.devices - a.devices || a.vendor.localeCompare(b.vendor));

  const byCategory = CATEGORIES.map((c) => {
    const ds = leaking.filter((d) => d.category.value === c);
    const findings = ds.flatMap((d) => d.leaks);
    return {
      category: c,
      devices: ds.length,
      total: devices.filter((d) => d.category.value === c).length,
      findings: findings.length,
      ...(findings.length > 0 ? { highestSeverity: maxSeverity(findings.map((f) => f.severity)) } : {}),
    };
  }).filter((c) => c.total > 0);

  const byKind = LEAK_FACT_KINDS.map((k) => ({
    kind: k,
    label: FACT_KIND[k].label,
    devices: leaking.filter((d) => d.leaks.some((l) => l.facts.some((f) => f.kind === k))).length,
    findings: all.filter((l) => l.facts.some((f) => f.kind === k)).length,
  }))
    .filter((k) => k.findings > 0)
    .sort((a, b) => b.devices - a.devices || FACT_KIND[a.kind].order - FACT_KIND[b.kind].order);

  const patterns = new Map<string, { titles: Map<string, number>; severity: Severity[]; devices: Set<string>; vendors: Set<string> }>();
  for (const d of leaking) {
    for (const l of d.leaks) {
      let p = patterns.get(l.pattern);
      if (p === undefined) patterns.set(l.pattern, (p = { titles: new Map(), severity: [], devices: new Set(), vendors: new Set() }));
      p.titles.set(l.title, (p.titles.get(l.title) ?? 0) + 1);
      p.severity.push(l.severity);
      p.devices.add(d.id);
      p.vendors.add(vendorOf.get(d.id) ?? UNKNOWN_VENDOR);
    }
  }
  const byPattern = [...patterns]
    .map(([pattern, p]) => ({
      pattern,
      title: [...p.titles].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? pattern,
      severity: maxSeverity(p.severity),
      devices: p.devices.size,
      vendors: p.vendors.size,
    }))
    .sort((a, b) => sevRank(b.severity) - sevRank(a.severity) || b.devices - a.devices || a.pattern.localeCompare(b.pattern));

  const topDevices: SummaryDevice[] = [...leaking]
    .sort(byRisk)
    .slice(0, o.top ?? 10)
    .map((d, i) => {
      const vendor = vendorOf.get(d.id) ?? UNKNOWN_VENDOR;
      return {
        label: withAddr ? d.id : `#${i + 1} ${vendor} ${describe(d)}`,
        vendor,
        ...(d.model !== undefined ? { model: d.model.value } : {}),
        ...(d.type !== undefined ? { type: d.type.value } : {}),
        category: d.category.value,
        criticality: d.criticality,
        risk: d.risk.score,
        findings: d.leaks.length,
        patterns: [...new Set(d.leaks.map((l) => l.pattern))],
        highestSeverity: maxSeverity(d.leaks.map((l) => l.severity)),
        ...(withAddr ? { id: d.id, ips: [...d.ips], hostnames: [...d.hostnames] } : {}),
      };
    });

  return {
    ...(o.hospital !== undefined && o.hospital.trim() !== '' ? { hospital: o.hospital.trim() } : {}),
    asOf: o.asOf.toISOString().slice(0, 10),
    addressesIncluded: withAddr,
    devices: devices.length,
    leakingDevices: leaking.length,
    findings: all.length,
    bySeverity,
    byVendor,
    byCategory,
    byKind,
    byPattern,
    topDevices,
  };
}

// ─── Escaping ───────────────────────────────────────────────────────────────────────────────────

/** HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/**
 * Inline Markdown text: one line, every character Markdown or embedded HTML could act on escaped
 * (so a hostile value cannot open a link, an image, a tag, a table cell or a heading).
 */
export function escapeMarkdown(s: string): string {
  const line = s.replace(/[\r\n]+/g, ' ');
  const out = line.replace(/[\\`*_[\]<>|~&]/g, (c) => (c === '&' ? '&amp;' : `\\${c}`));
  return /^(?:[#+=>-]|\d+[.)])/.test(out) ? `\\${out}` : out;
}

function longestRun(s: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of s) {
    run = c === ch ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/** An inline code span that no backtick in the text can close early. */
function mdCode(s: string): string {
  const text = s.replace(/[\r\n]+/g, ' ');
  const fence = '`'.repeat(longestRun(text, '`') + 1);
  return `${fence} ${text} ${fence}`;
}

/** A fenced block that no line of the text can close early. */
function mdFence(s: string): string {
  const fence = '`'.repeat(Math.max(3, longestRun(s, '`') + 1));
  return `${fence}text\n${s.replace(/\r\n?/g, '\n')}\n${fence}`;
}

// ─── Markdown ───────────────────────────────────────────────────────────────────────────────────

const md = escapeMarkdown;

function critText(c: { criticality: Criticality; devices: number }[]): string {
  return c.map((x) => `${x.devices} ${x.criticality}`).join(', ');
}

function scoresText(scores: { device: string; score: number }[], max = 10): string {
  const shown = scores.slice(0, max).map((s) => `${s.device} ${s.score}`);
  return `${shown.join(', ')}${scores.length > max ? `, and ${scores.length - max} more` : ''}`;
}

function listText(xs: readonly string[], max = 12): string {
  return `${xs.slice(0, max).join(', ')}${xs.length > max ? ` and ${xs.length - max} more` : ''}`;
}

function vulnLine(v: IssueVulnerability): string {
  const tags = [v.kev ? 'in CISA KEV' : '', v.ransomware ? 'used by ransomware' : '', v.cvss !== undefined ? `CVSS ${v.cvss}` : ''].filter((x) => x !== '');
  return `${v.id}: ${v.title} — matches ${v.component}${tags.length > 0 ? `; ${tags.join(', ')}` : ''}; ${v.devices.length} device${v.devices.length === 1 ? '' : 's'} (${listText(v.devices)})`;
}

function deviceAddresses(d: ReportDevice): string {
  return [...(d.ips ?? []), ...(d.macs ?? []), ...(d.hostnames ?? [])].join(', ');
}

export function renderMarkdown(r: VendorReport): string {
  const L: string[] = [];
  L.push(`# Security disclosure: information leaks in ${md(r.vendor)} devices`, '');
  const meta = [`From: ${md(r.hospital ?? 'the hospital')}`, `As of: ${r.asOf}`];
  if (r.contact !== undefined) meta.push(`Contact: ${md(r.contact)}`);
  if (r.period !== undefined) meta.push(`Observed: ${r.period.from} – ${r.period.to}`);
  meta.push(`Highest severity: **${r.highestSeverity}**`);
  L.push(meta.join('  \n'), '');
  L.push('## Summary', '', md(r.summary), '');
  for (const c of r.caveats) L.push(`> **Note:** ${md(c)}`, '');
  L.push('## Coordinated disclosure', '');
  for (const p of r.disclosure) L.push(md(p), '');

  L.push('## Devices and models affected', '');
  L.push('| Model | Device type | Devices |', '|---|---|---:|');
  for (const m of r.models) L.push(`| ${md(m.model)} | ${md(m.type ?? '')} | ${m.devices} |`);
  L.push('');
  const addrCol = r.addressesIncluded;
  L.push(
    `| Device | Type | Model | Category | Clinical criticality | OS | Risk (0–100) | Leak severity | Seen |${addrCol ? ' Addresses |' : ''}`,
    `|---|---|---|---|---|---|---:|---|---|${addrCol ? '---|' : ''}`,
  );
  for (const d of r.devices) {
    const seen = d.firstSeen !== undefined ? `${d.firstSeen.slice(0, 10)}${d.lastSeen !== undefined && d.lastSeen.slice(0, 10) !== d.firstSeen.slice(0, 10) ? ` – ${d.lastSeen.slice(0, 10)}` : ''}` : '';
    L.push(
      `| ${md(d.alias)} | ${md(d.type ?? '')} | ${md(d.model ?? '')} | ${d.category} | ${d.criticality} | ${md(d.os ?? '')} | ${d.risk} | ${d.highestSeverity} | ${seen} |${addrCol ? ` ${md(deviceAddresses(d))} |` : ''}`,
    );
  }
  L.push('');

  L.push('## Findings', '');
  r.issues.forEach((i, n) => {
    L.push(`### ${n + 1}. ${md(i.title)} — severity ${i.severity}`, '');
    L.push(`Pattern ${mdCode(i.pattern)}; ${i.devices.length} device${i.devices.length === 1 ? '' : 's'} (${md(listText(i.devices))}), ${i.findings} finding${i.findings === 1 ? '' : 's'}.`, '');
    L.push('#### What leaks', '');
    for (const f of i.facts) L.push(`- ${md(f.label)}: ${f.values.map(mdCode).join(', ')}${f.more > 0 ? ` and ${f.more} more` : ''}`);
    if (i.facts.length === 0) L.push('- (no individual facts extracted; see the evidence)');
    L.push('', '#### Evidence', '');
    for (const e of i.evidence) {
      L.push(`${md(e.device)} · ${md(e.protocol)} ${mdCode(e.attribute)} · frame ${e.frame} · ${md(e.time)}`, '', mdFence(e.snippet), '');
    }
    if (i.evidenceMore > 0) L.push(`(evidence from ${i.evidenceMore} more device${i.evidenceMore === 1 ? '' : 's'} not shown)`, '');
    L.push('#### Risk', '');
    L.push(`- Severity of the leak: ${i.risk.severity}`);
    L.push(`- Clinical criticality of the devices: ${critText(i.risk.criticality)}`);
    L.push(`- Device risk scores (0–100, Vigil): ${md(scoresText(i.risk.scores))}`);
    L.push('');
    if (i.vulnerabilities.length > 0) {
      L.push('#### Known vulnerabilities of the disclosed versions', '');
      for (const v of i.vulnerabilities) L.push(`- ${v.url !== undefined && /^https?:\/\//.test(v.url) ? `[${md(v.id)}](<${v.url.replace(/[<>\s]/g, encodeURIComponent)}>)${md(vulnLine(v).slice(v.id.length))}` : md(vulnLine(v))}`);
      L.push('');
    }
    L.push('#### Recommended fix', '');
    for (const x of i.remediation) L.push(`- ${md(x)}`);
    if (i.remediation.length === 0) L.push('- Return generic error pages; log details on the device only.');
    L.push('');
  });

  L.push('## Requested actions', '');
  r.requestedActions.forEach((a, n) => L.push(`${n + 1}. ${md(a)}`));
  L.push('', '## References', '');
  for (const ref of r.references) L.push(`- [${md(ref.title)}](<${ref.url}>)`);
  L.push('', '---', '', `*Observed passively by Vigil; report as of ${r.asOf}.*`, '');
  return L.join('\n');
}

export function renderSummaryMarkdown(s: LeakSummary): string {
  const L: string[] = [];
  L.push(`# Error-disclosure leaks: hospital-wide summary${s.hospital !== undefined ? ` — ${md(s.hospital)}` : ''}`, '');
  L.push(`As of ${s.asOf}. ${s.leakingDevices} of ${s.devices} devices disclose internal details on the network (${s.findings} finding${s.findings === 1 ? '' : 's'}, ${s.byPattern.length} pattern${s.byPattern.length === 1 ? '' : 's'}, ${s.byVendor.length} manufacturer${s.byVendor.length === 1 ? '' : 's'}).`, '');
  if (s.leakingDevices === 0) {
    L.push('No device was seen disclosing its internals.', '');
    return L.join('\n');
  }
  L.push('## By severity', '', '| Severity | Findings | Devices (by highest) |', '|---|---:|---:|');
  for (const x of s.bySeverity) if (x.findings > 0) L.push(`| ${x.severity} | ${x.findings} | ${x.devices} |`);
  L.push('', '## By manufacturer', '', '| Manufacturer | Devices | Models | Findings | Life-sustaining | Highest severity | Report |', '|---|---:|---:|---:|---:|---|---|');
  for (const v of s.byVendor) L.push(`| ${md(v.vendor)} | ${v.devices} | ${v.models} | ${v.findings} | ${v.lifeSustaining} | ${v.highestSeverity} | [${v.slug}.md](${v.slug}.md) |`);
  L.push('', '## By category', '', '| Category | Leaking devices | Devices | Findings | Highest severity |', '|---|---:|---:|---:|---|');
  for (const c of s.byCategory) L.push(`| ${c.category} | ${c.devices} | ${c.total} | ${c.findings} | ${c.highestSeverity ?? ''} |`);
  L.push('', '## By kind of fact', '', '| What leaks | Devices | Findings |', '|---|---:|---:|');
  for (const k of s.byKind) L.push(`| ${md(k.label)} | ${k.devices} | ${k.findings} |`);
  L.push('', '## By pattern', '', '| Pattern | What | Severity | Devices | Manufacturers |', '|---|---|---|---:|---:|');
  for (const p of s.byPattern) L.push(`| ${md(p.pattern)} | ${md(p.title)} | ${p.severity} | ${p.devices} | ${p.vendors} |`);
  L.push('', '## Top devices by risk', '', `| Device | Category | Clinical criticality | Risk | Leak severity | Findings | Patterns |${s.addressesIncluded ? ' Addresses |' : ''}`, `|---|---|---|---:|---|---:|---|${s.addressesIncluded ? '---|' : ''}`);
  for (const d of s.topDevices) {
    L.push(
      `| ${md(d.label)} | ${d.category} | ${d.criticality} | ${d.risk} | ${d.highestSeverity} | ${d.findings} | ${md(d.patterns.join(', '))} |${s.addressesIncluded ? ` ${md([...(d.ips ?? []), ...(d.hostnames ?? [])].join(', '))} |` : ''}`,
    );
  }
  L.push('', '---', '', `*Observed passively by Vigil; as of ${s.asOf}.*`, '');
  return L.join('\n');
}

// ─── HTML ───────────────────────────────────────────────────────────────────────────────────────

const h = escapeHtml;

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1b1f24; max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .4rem; }
h4 { font-size: .95rem; margin: 1rem 0 .3rem; color: #424a53; }
.meta { color: #57606a; margin: 0 0 1rem; }
.meta span { margin-right: 1.2rem; white-space: nowrap; }
.note { border-left: 4px solid #bf8700; background: #fff8c5; padding: .5rem .8rem; margin: .8rem 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.n, th.n { text-align: right; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; padding: 0 .2rem; border-radius: 3px; word-break: break-all; }
pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; border: 1px solid #d0d7de; padding: .5rem .7rem; white-space: pre-wrap; word-break: break-all; overflow-wrap: anywhere; }
.sev { display: inline-block; padding: 0 .45rem; border-radius: 3px; font-size: 12px; font-weight: 600; text-transform: uppercase; color: #fff; }
.sev-critical { background: #82071e; } .sev-high { background: #cf222e; } .sev-medium { background: #bc4c00; } .sev-low { background: #4d2d00; } .sev-info { background: #57606a; }
.issue { border: 1px solid #d0d7de; border-radius: 6px; padding: .2rem 1rem .8rem; margin: 1rem 0; }
.ev { color: #57606a; font-size: 12px; margin: .6rem 0 .2rem; }
footer { color: #57606a; font-size: 12px; border-top: 1px solid #d0d7de; margin-top: 2rem; padding-top: .5rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  .issue, table, pre { page-break-inside: avoid; break-inside: avoid; }
  h2, h3 { page-break-after: avoid; break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  a[href^="http"]::after { content: " (" attr(href) ")"; font-size: 9pt; color: #57606a; word-break: break-all; }
  .sev { border: 1px solid #000; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>${h(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function sev(s: Severity): string {
  return `<span class="sev sev-${s}">${h(s)}</span>`;
}

/** A link only for http(s) URLs; anything else is shown as text. */
function link(url: string, text: string): string {
  return /^https?:\/\//i.test(url) ? `<a href="${h(url)}" rel="noreferrer noopener">${h(text)}</a>` : h(text);
}

export function renderHtml(r: VendorReport): string {
  const B: string[] = [];
  B.push(`<h1>Security disclosure: information leaks in ${h(r.vendor)} devices</h1>`);
  const meta = [`<span>From: ${h(r.hospital ?? 'the hospital')}</span>`, `<span>As of: ${h(r.asOf)}</span>`];
  if (r.contact !== undefined) meta.push(`<span>Contact: ${h(r.contact)}</span>`);
  if (r.period !== undefined) meta.push(`<span>Observed: ${h(r.period.from)} – ${h(r.period.to)}</span>`);
  meta.push(`<span>Highest severity: ${sev(r.highestSeverity)}</span>`);
  B.push(`<p class="meta">${meta.join(' ')}</p>`);
  B.push('<h2>Summary</h2>', `<p>${h(r.summary)}</p>`);
  for (const c of r.caveats) B.push(`<p class="note"><strong>Note:</strong> ${h(c)}</p>`);
  B.push('<h2>Coordinated disclosure</h2>');
  for (const p of r.disclosure) B.push(`<p>${h(p)}</p>`);

  B.push('<h2>Devices and models affected</h2>');
  B.push('<table><thead><tr><th>Model</th><th>Device type</th><th class="n">Devices</th></tr></thead><tbody>');
  for (const m of r.models) B.push(`<tr><td>${h(m.model)}</td><td>${h(m.type ?? '')}</td><td class="n">${m.devices}</td></tr>`);
  B.push('</tbody></table>');
  const addrCol = r.addressesIncluded;
  B.push(
    `<table><thead><tr><th>Device</th><th>Type</th><th>Model</th><th>Category</th><th>Clinical criticality</th><th>OS</th><th class="n">Risk (0–100)</th><th>Leak severity</th><th>Seen</th>${addrCol ? '<th>Addresses</th>' : ''}</tr></thead><tbody>`,
  );
  for (const d of r.devices) {
    const seen = d.firstSeen !== undefined ? `${d.firstSeen.slice(0, 10)}${d.lastSeen !== undefined && d.lastSeen.slice(0, 10) !== d.firstSeen.slice(0, 10) ? ` – ${d.lastSeen.slice(0, 10)}` : ''}` : '';
    B.push(
      `<tr><td>${h(d.alias)}</td><td>${h(d.type ?? '')}</td><td>${h(d.model ?? '')}</td><td>${h(d.category)}</td><td>${h(d.criticality)}</td><td>${h(d.os ?? '')}</td><td class="n" title="${h(d.riskExplanation)}">${d.risk}</td><td>${sev(d.highestSeverity)}</td><td>${h(seen)}</td>${addrCol ? `<td>${h(deviceAddresses(d))}</td>` : ''}</tr>`,
    );
  }
  B.push('</tbody></table>');

  B.push('<h2>Findings</h2>');
  r.issues.forEach((i, n) => {
    B.push('<section class="issue">');
    B.push(`<h3>${n + 1}. ${h(i.title)} ${sev(i.severity)}</h3>`);
    B.push(`<p>Pattern <code>${h(i.pattern)}</code>; ${i.devices.length} device${i.devices.length === 1 ? '' : 's'} (${h(listText(i.devices))}), ${i.findings} finding${i.findings === 1 ? '' : 's'}.</p>`);
    B.push('<h4>What leaks</h4>');
    if (i.facts.length === 0) B.push('<p>No individual facts extracted; see the evidence.</p>');
    else {
      B.push('<table><tbody>');
      for (const f of i.facts) B.push(`<tr><th>${h(f.label)}</th><td>${f.values.map((v) => `<code>${h(v)}</code>`).join(', ')}${f.more > 0 ? ` and ${f.more} more` : ''}</td></tr>`);
      B.push('</tbody></table>');
    }
    B.push('<h4>Evidence</h4>');
    for (const e of i.evidence) {
      B.push(`<p class="ev">${h(e.device)} · ${h(e.protocol)} <code>${h(e.attribute)}</code> · frame ${e.frame} · ${h(e.time)}</p>`, `<pre>${h(e.snippet)}</pre>`);
    }
    if (i.evidenceMore > 0) B.push(`<p class="ev">Evidence from ${i.evidenceMore} more device${i.evidenceMore === 1 ? '' : 's'} not shown.</p>`);
    B.push('<h4>Risk</h4><ul>');
    B.push(`<li>Severity of the leak: ${sev(i.risk.severity)}</li>`);
    B.push(`<li>Clinical criticality of the devices: ${h(critText(i.risk.criticality))}</li>`);
    B.push(`<li>Device risk scores (0–100, Vigil): ${h(scoresText(i.risk.scores))}</li>`);
    B.push('</ul>');
    if (i.vulnerabilities.length > 0) {
      B.push('<h4>Known vulnerabilities of the disclosed versions</h4><ul>');
      for (const v of i.vulnerabilities) B.push(`<li>${v.url !== undefined ? link(v.url, v.id) : h(v.id)}${h(vulnLine(v).slice(v.id.length))}</li>`);
      B.push('</ul>');
    }
    B.push('<h4>Recommended fix</h4><ul>');
    for (const x of i.remediation) B.push(`<li>${h(x)}</li>`);
    if (i.remediation.length === 0) B.push('<li>Return generic error pages; log details on the device only.</li>');
    B.push('</ul></section>');
  });

  B.push('<h2>Requested actions</h2><ol>');
  for (const a of r.requestedActions) B.push(`<li>${h(a)}</li>`);
  B.push('</ol><h2>References</h2><ul>');
  for (const ref of r.references) B.push(`<li>${link(ref.url, ref.title)}</li>`);
  B.push('</ul>', `<footer>Observed passively by Vigil; report as of ${h(r.asOf)}.</footer>`);
  return page(`Security disclosure: ${r.vendor}`, B.join('\n'));
}

export function renderSummaryHtml(s: LeakSummary): string {
  const B: string[] = [];
  B.push(`<h1>Error-disclosure leaks: hospital-wide summary${s.hospital !== undefined ? ` — ${h(s.hospital)}` : ''}</h1>`);
  B.push(
    `<p class="meta">As of ${h(s.asOf)}. ${s.leakingDevices} of ${s.devices} devices disclose internal details on the network (${s.findings} finding${s.findings === 1 ? '' : 's'}, ${s.byPattern.length} pattern${s.byPattern.length === 1 ? '' : 's'}, ${s.byVendor.length} manufacturer${s.byVendor.length === 1 ? '' : 's'}).</p>`,
  );
  if (s.leakingDevices === 0) {
    B.push('<p>No device was seen disclosing its internals.</p>');
    return page('Error-disclosure leaks: summary', B.join('\n'));
  }
  B.push('<h2>By severity</h2><table><thead><tr><th>Severity</th><th class="n">Findings</th><th class="n">Devices (by highest)</th></tr></thead><tbody>');
  for (const x of s.bySeverity) if (x.findings > 0) B.push(`<tr><td>${sev(x.severity)}</td><td class="n">${x.findings}</td><td class="n">${x.devices}</td></tr>`);
  B.push('</tbody></table>');
  B.push(
    '<h2>By manufacturer</h2><table><thead><tr><th>Manufacturer</th><th class="n">Devices</th><th class="n">Models</th><th class="n">Findings</th><th class="n">Life-sustaining</th><th>Highest severity</th><th>Report</th></tr></thead><tbody>',
  );
  for (const v of s.byVendor) {
    B.push(
      `<tr><td>${h(v.vendor)}</td><td class="n">${v.devices}</td><td class="n">${v.models}</td><td class="n">${v.findings}</td><td class="n">${v.lifeSustaining}</td><td>${sev(v.highestSeverity)}</td><td><a href="${h(encodeURIComponent(v.slug))}.html">${h(v.slug)}.html</a></td></tr>`,
    );
  }
  B.push('</tbody></table>');
  B.push('<h2>By category</h2><table><thead><tr><th>Category</th><th class="n">Leaking devices</th><th class="n">Devices</th><th class="n">Findings</th><th>Highest severity</th></tr></thead><tbody>');
  for (const c of s.byCategory) B.push(`<tr><td>${h(c.category)}</td><td class="n">${c.devices}</td><td class="n">${c.total}</td><td class="n">${c.findings}</td><td>${c.highestSeverity !== undefined ? sev(c.highestSeverity) : ''}</td></tr>`);
  B.push('</tbody></table>');
  B.push('<h2>By kind of fact</h2><table><thead><tr><th>What leaks</th><th class="n">Devices</th><th class="n">Findings</th></tr></thead><tbody>');
  for (const k of s.byKind) B.push(`<tr><td>${h(k.label)}</td><td class="n">${k.devices}</td><td class="n">${k.findings}</td></tr>`);
  B.push('</tbody></table>');
  B.push('<h2>By pattern</h2><table><thead><tr><th>Pattern</th><th>What</th><th>Severity</th><th class="n">Devices</th><th class="n">Manufacturers</th></tr></thead><tbody>');
  for (const p of s.byPattern) B.push(`<tr><td><code>${h(p.pattern)}</code></td><td>${h(p.title)}</td><td>${sev(p.severity)}</td><td class="n">${p.devices}</td><td class="n">${p.vendors}</td></tr>`);
  B.push('</tbody></table>');
  B.push(
    `<h2>Top devices by risk</h2><table><thead><tr><th>Device</th><th>Category</th><th>Clinical criticality</th><th class="n">Risk</th><th>Leak severity</th><th class="n">Findings</th><th>Patterns</th>${s.addressesIncluded ? '<th>Addresses</th>' : ''}</tr></thead><tbody>`,
  );
  for (const d of s.topDevices) {
    B.push(
      `<tr><td>${h(d.label)}</td><td>${h(d.category)}</td><td>${h(d.criticality)}</td><td class="n">${d.risk}</td><td>${sev(d.highestSeverity)}</td><td class="n">${d.findings}</td><td>${d.patterns.map((p) => `<code>${h(p)}</code>`).join(' ')}</td>${s.addressesIncluded ? `<td>${h([...(d.ips ?? []), ...(d.hostnames ?? [])].join(', '))}</td>` : ''}</tr>`,
    );
  }
  B.push('</tbody></table>', `<footer>Observed passively by Vigil; as of ${h(s.asOf)}.</footer>`);
  return page('Error-disclosure leaks: summary', B.join('\n'));
}
