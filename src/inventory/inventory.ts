/**
 * The inventory stage end to end: device facts → identified devices → assessed devices (OS
 * lifecycle, vulnerabilities, risk) → the hospital-wide picture (counts, EOL forecast).
 *
 * Pure: the knowledge is passed in (see knowledge/index.ts for the loader), and "today" is a
 * parameter, so a capture from last year is assessed as of today and tests are reproducible.
 */
import { eolForecast, lifecycleStatus, standardForecastDates, type ForecastPoint, type LifecycleStatus } from '../assess/lifecycle.ts';
import { assessRisk, type RiskScore } from '../assess/risk.ts';
import { matchVulnerabilities, type VulnMatch, type VulnSubject } from '../assess/vulnerabilities.ts';
import type { Advisories } from '../knowledge/advisories.ts';
import { detectLeaks, leakAttributes, leakSoftware } from '../assess/leaks.ts';
import { SEVERITIES, type LeakFinding, type Severity } from '../assess/finding.ts';
import { SELF_NAMES, type DeviceFacts } from './builder.ts';
import { CATEGORIES, type Category, type Device, type OsRelease } from './device.ts';
import { IDENTIFY_ATTRIBUTES, deviceOf, evidencePlaces, identityKey, identityOf, macIdentity, rebindIdentity, type EvidencePlaces, type Identity, type IdentifyKnowledge } from './identify.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';

export interface InventoryKnowledge extends IdentifyKnowledge {
  advisories: Advisories;
}

/** A leak as it matters on this device: the leak's own severity weighed by the device's criticality. */
export interface DeviceLeak extends LeakFinding {
  deviceSeverity: Severity;
}

export interface AssessedDevice extends Device {
  lifecycle: LifecycleStatus;
  leaks: DeviceLeak[];
  vulnerabilities: VulnMatch[];
  risk: RiskScore;
}

export interface InventorySummary {
  /** The date the assessment is as of (YYYY-MM-DD). */
  asOf: string;
  devices: number;
  byCategory: Record<Category, number>;
  eol: number;
  withKev: number;
  /** Devices that leak more than version banners (stack traces, SQL, paths, user names …). */
  leaking: number;
  forecast: ForecastPoint[];
}

export interface Inventory {
  devices: AssessedDevice[];
  summary: InventorySummary;
}

/** The attributes flagsOf reads. */
const FLAG_ATTRIBUTES = ['smb.smb1', 'smb.ms17_010', 'smb.doublepulsar', 'smb.compression', 'http.server'];

/**
 * Every observation attribute the assessment reads: identify's own, the device profiles', the leak
 * patterns', the vulnerability flags' and the builder's (the names that join randomised MACs). The
 * pipeline's builder keeps facts of these only: a DNS answer or a TLS cipher suite changes no claim,
 * and what no claim needs is not kept (nor its evidence, which may name people or places).
 * `profileAttributes`: those the device profiles in use read (DeviceProfiles.attributesRead); they
 * and the leak patterns are what they are when the builder is made (imported advisories add none).
 */
export function inventoryAttributes(profileAttributes: Iterable<string>): Set<string> {
  return new Set([...IDENTIFY_ATTRIBUTES, ...profileAttributes, ...leakAttributes(), ...FLAG_ATTRIBUTES, ...SELF_NAMES]);
}

/** Observation-level facts the vulnerability matcher takes as confirmation (or as a condition). */
function flagsOf(d: DeviceFacts): string[] {
  const flags: string[] = [];
  if (d.facts.size === 0) return flags;
  if (d.facts.has('smb.smb1')) flags.push('smb1');
  if (d.facts.has('smb.ms17_010')) flags.push('ms17-010-vulnerable-response');
  if (d.facts.has('smb.doublepulsar')) flags.push('doublepulsar');
  if (d.facts.has('smb.compression')) flags.push('smb3-compression');
  if ((d.facts.get('http.server') ?? []).some((v) => /microsoft-iis/i.test(v.value))) flags.push('iis');
  return flags;
}

/**
 * The memo key of a subject: what the matcher reads, flat (of the OS releases, product, cycle and
 * label — their dates and sources are for the lifecycle; of services, not their flow counts, which
 * differ between devices that are otherwise alike). Counts before each list keep it unambiguous.
 */
function subjectKey(s: VulnSubject): string {
  const parts: (string | number | undefined)[] = [s.vendor, s.model, s.os?.label];
  const releases = s.os?.releases ?? [];
  parts.push(releases.length);
  for (const r of releases) parts.push(r.product, r.cycle, r.label);
  parts.push(s.software.length);
  for (const sw of s.software) parts.push(sw.name, sw.version, sw.vendor);
  parts.push(s.services.length);
  for (const sv of s.services) parts.push(sv.transport, sv.port, sv.app);
  for (const f of s.flags ?? []) parts.push(f);
  return JSON.stringify(parts);
}

/**
 * A hospital has hundreds of devices of one model on one firmware: what matches one of them matches
 * all, so results are shared per distinct subject (the match objects are read-only).
 */
const vulnMemo = new WeakMap<Advisories, Map<string, VulnMatch[]>>();
function vulnerabilitiesOf(subject: VulnSubject, kb: Advisories): VulnMatch[] {
  let memo = vulnMemo.get(kb);
  if (memo === undefined) vulnMemo.set(kb, (memo = new Map()));
  // A subject with nothing to match on (no vendor, model, OS, software or flag: most addresses seen
  // behind a router) matches nothing, whatever its services: one key for all, no serialising.
  const blank = subject.vendor === undefined && subject.model === undefined && subject.os === undefined && subject.software.length === 0 && (subject.flags?.length ?? 0) === 0;
  const key = blank ? '' : subjectKey(subject);
  let hit = memo.get(key);
  if (hit === undefined) {
    hit = matchVulnerabilities(subject, kb);
    if (memo.size >= 50_000) memo.clear();
    memo.set(key, hit);
  }
  return hit;
}

/**
 * Devices that state the same OS share its resolved releases (knowledge/index.ts resolves each text
 * once), so their lifecycle status is worked out once per date and shared (read-only) too.
 */
const lifecycleMemo = new WeakMap<readonly OsRelease[], { at: number; status: LifecycleStatus }>();
function lifecycleOf(releases: readonly OsRelease[], at: Date): LifecycleStatus {
  if (releases.length === 0) return lifecycleStatus(releases, at);
  const hit = lifecycleMemo.get(releases);
  if (hit !== undefined && hit.at === at.getTime()) return hit.status;
  const status = lifecycleStatus(releases, at);
  lifecycleMemo.set(releases, { at: at.getTime(), status });
  return status;
}

/** A leak from a pump or a monitor matters more than the same leak from a printer. */
function deviceSeverity(leak: Severity, criticality: Device['criticality']): Severity {
  const i = SEVERITIES.indexOf(leak);
  if (leak === 'info') return 'info';
  const shift = criticality === 'life-sustaining' ? 1 : criticality === 'support' ? -1 : 0;
  return SEVERITIES[Math.max(1, Math.min(SEVERITIES.length - 1, i + shift))] as Severity;
}

const NO_RELEASES: readonly OsRelease[] = [];

/**
 * A report's identities by identityKey: the first device of each key is identified, the others take
 * its claims with their own evidence. Devices whose statements leak something are not shared (their
 * leaks add software to their claims).
 */
export type SharedIdentities = Map<string, SharedIdentity | null>;

interface SharedIdentity {
  places: EvidencePlaces;
  identity: Identity;
  /**
   * What the devices of this identity were judged to be, by what else the judgement reads of them:
   * the services they answered on and their peer counts (servicesAndPeers). Devices of one identity
   * and one such key have the same vulnerabilities and risk, shared read-only.
   */
  judged: Map<string, { vulnerabilities: VulnMatch[]; risk: RiskScore }>;
}

/** The key of what vulnerability matching and risk read of a device beyond its identity and flags. */
function servicesAndPeers(d: DeviceFacts): string {
  let key = `${d.peers.internal}/${d.peers.external}`;
  for (const s of d.services) key += ` ${s.transport}/${s.port}/${s.app ?? ''}`;
  return key;
}

/** `shared`: the identities of devices already assessed in this report (assessInventory passes one). */
export function assessDevice(facts: DeviceFacts, k: InventoryKnowledge, at: Date, shared?: SharedIdentities): AssessedDevice {
  const macId = macIdentity(facts, k);
  const key = shared !== undefined ? identityKey(facts, macId) : undefined;
  // undefined: a key not seen yet in this report; null: one whose devices leak (each is its own).
  const known = key !== undefined ? shared?.get(key) : undefined;
  const identity = (known ? rebindIdentity(known.identity, known.places, facts) : undefined) ?? identityOf(facts, k, macId);
  const device = deviceOf(facts, identity);
  // A device of a shared key leaks nothing: its statements are the first one's, which leaked nothing.
  const found = facts.facts.size > 0 && !known ? detectLeaks(facts) : [];
  // The shared identity this device belongs to, made here when it is the first of its key.
  let entry = known ?? undefined;
  if (key !== undefined && known === undefined) {
    entry = found.length === 0 ? { places: evidencePlaces(facts), identity, judged: new Map() } : undefined;
    shared?.set(key, entry ?? null);
  }
  // Fields named, not spread: a spread gave every leak a hidden class of its own (~130 bytes each).
  const leaks: DeviceLeak[] =
    found.length > 0
      ? found.map((l) => ({ pattern: l.pattern, title: l.title, facts: l.facts, evidence: l.evidence, severity: l.severity, remediation: l.remediation, deviceSeverity: deviceSeverity(l.severity, device.criticality) }))
      : [];
  // Leaked software (a database named in an error, a framework version) is software on the device, and can match advisories.
  for (const sw of found.length > 0 ? leakSoftware(found) : []) {
    const first = sw.name.toLowerCase().split(/[\s/-]/)[0] ?? '';
    if (device.software.length >= 24 || device.software.some((s) => s.name.toLowerCase().split(/[\s/-]/)[0] === first && (s.version === sw.version || sw.version === undefined))) continue;
    const origin = found.find((l) => l.facts.some((f) => f.value === sw.name || f.value.startsWith(sw.name)));
    const ev = origin?.evidence ?? found[0]?.evidence;
    if (ev === undefined) continue;
    device.software.push({ name: sw.name, ...(sw.version !== undefined ? { version: sw.version } : {}), evidence: { protocol: ev.protocol, attribute: ev.attribute, value: sw.name, frame: ev.frame, time: ev.time, snippet: ev.snippet } });
  }
  const releases = device.os?.releases ?? NO_RELEASES;
  const lifecycle = lifecycleOf(releases, at);
  // A device of a shared identity whose services and peers another of them had: judged as that one.
  const judgedKey = entry !== undefined ? servicesAndPeers(facts) : '';
  const judged = entry?.judged.get(judgedKey);
  if (judged !== undefined) return assessedOf(device, lifecycle, leaks, judged.vulnerabilities, judged.risk);
  // The device's own software and services lists: the matcher reads their names, versions, ports and
  // protocols only (and keeps none of them in what it returns).
  const subject: VulnSubject = { software: device.software, services: device.services, flags: flagsOf(facts) };
  if (device.vendor !== undefined) subject.vendor = device.vendor.value;
  if (device.model !== undefined) subject.model = device.model.value;
  if (device.os !== undefined) subject.os = { label: device.os.value, releases };
  const vulnerabilities = vulnerabilitiesOf(subject, k.advisories);
  // Each kind of serious leak is a way in; version banners alone count once.
  let riskLeaks: string[] = [];
  if (found.length > 0) {
    const serious = [...new Set(found.filter((l) => l.severity !== 'info' && l.severity !== 'low').map((l) => l.title))];
    riskLeaks = found.some((l) => l.severity === 'low') ? [...serious, 'version banners'] : serious;
  }
  const risk = assessRisk(device, { vulnerabilities, lifecycle, leaks: riskLeaks });
  if (entry !== undefined && entry.judged.size < MAX_JUDGED) entry.judged.set(judgedKey, { vulnerabilities, risk });
  return assessedOf(device, lifecycle, leaks, vulnerabilities, risk);
}

/** Judgements kept per shared identity (its devices' distinct services and peer counts). */
const MAX_JUDGED = 256;

/** The identified device becomes the assessed one (it is assessDevice's own new object): no copy. */
function assessedOf(device: Device, lifecycle: LifecycleStatus, leaks: DeviceLeak[], vulnerabilities: VulnMatch[], risk: RiskScore): AssessedDevice {
  const assessed = device as AssessedDevice;
  assessed.lifecycle = lifecycle;
  assessed.leaks = leaks;
  assessed.vulnerabilities = vulnerabilities;
  assessed.risk = risk;
  return assessed;
}

export function assessInventory(all: readonly DeviceFacts[], k: InventoryKnowledge, at: Date = new Date()): Inventory {
  const shared: SharedIdentities = new Map();
  return inventoryOf(
    all.map((f) => assessDevice(f, k, at, shared)),
    at,
  );
}

/**
 * The same, `slice` devices at a time, with the event loop's other work (a live sensor reading its
 * capture) run between slices: judged at once, ten thousand devices stop the reading for ~0.5 s and
 * the kernel drops what its buffer cannot hold meanwhile. The sensor may add facts between slices;
 * each device is read within one slice, and shared identities keep where their evidence sat.
 */
export async function assessInventorySliced(all: readonly DeviceFacts[], k: InventoryKnowledge, at: Date = new Date(), slice = 256): Promise<Inventory> {
  const shared: SharedIdentities = new Map();
  const assessed: AssessedDevice[] = [];
  for (let i = 0; i < all.length; i++) {
    if (i > 0 && i % slice === 0) await nextTurn();
    assessed.push(assessDevice(all[i] as DeviceFacts, k, at, shared));
  }
  return inventoryOf(assessed, at);
}

function inventoryOf(assessed: AssessedDevice[], at: Date): Inventory {
  // Ties by id in code-point order: the same on every machine whatever its locale, and without a
  // collator (ICU's first one takes 6–10 ms to make, a tenth of a hospital's report). Compared in
  // place: the sort runs as code not yet optimised, where a call per comparison costs.
  const devices = assessed.sort((a, b) => b.risk.score - a.risk.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // The counts in one pass (a report runs once, mostly as code not yet optimised: each pass costs).
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  let eol = 0;
  let withKev = 0;
  let leaking = 0;
  const lifecycles: { category: Category; releases: readonly OsRelease[] }[] = [];
  for (const d of devices) {
    byCategory[d.category.value]++;
    if (d.lifecycle.state === 'eol') eol++;
    if (d.vulnerabilities.length > 0 && d.vulnerabilities.some((v) => v.kev)) withKev++;
    if (d.leaks.length > 0 && d.leaks.some((l) => l.severity !== 'info' && l.severity !== 'low')) leaking++;
    lifecycles.push({ category: d.category.value, releases: d.os?.releases ?? NO_RELEASES });
  }
  const forecast = eolForecast(lifecycles, standardForecastDates(at));
  return {
    devices,
    summary: {
      asOf: at.toISOString().slice(0, 10),
      devices: devices.length,
      byCategory,
      eol,
      withKev,
      leaking,
      forecast,
    },
  };
}
