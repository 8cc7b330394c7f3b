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
import type { DeviceFacts } from './builder.ts';
import { CATEGORIES, type Category, type Device } from './device.ts';
import { identify, type IdentifyKnowledge } from './identify.ts';

export interface InventoryKnowledge extends IdentifyKnowledge {
  advisories: Advisories;
}

export interface AssessedDevice extends Device {
  lifecycle: LifecycleStatus;
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
  forecast: ForecastPoint[];
}

export interface Inventory {
  devices: AssessedDevice[];
  summary: InventorySummary;
}

/** Observation-level facts the vulnerability matcher takes as confirmation (or as a condition). */
function flagsOf(d: DeviceFacts): string[] {
  const flags: string[] = [];
  if (d.facts.has('smb.smb1')) flags.push('smb1');
  if (d.facts.has('smb.ms17_010')) flags.push('ms17-010-vulnerable-response');
  if (d.facts.has('smb.doublepulsar')) flags.push('doublepulsar');
  if (d.facts.has('smb.compression')) flags.push('smb3-compression');
  if ((d.facts.get('http.server') ?? []).some((v) => /microsoft-iis/i.test(v.value))) flags.push('iis');
  return flags;
}

/**
 * A hospital has hundreds of devices of one model on one firmware: what matches one of them matches
 * all, so results are shared per distinct subject (the match objects are read-only).
 */
const vulnMemo = new WeakMap<Advisories, Map<string, VulnMatch[]>>();
function vulnerabilitiesOf(subject: VulnSubject, kb: Advisories): VulnMatch[] {
  let memo = vulnMemo.get(kb);
  if (memo === undefined) vulnMemo.set(kb, (memo = new Map()));
  const key = JSON.stringify(subject);
  let hit = memo.get(key);
  if (hit === undefined) {
    hit = matchVulnerabilities(subject, kb);
    if (memo.size >= 50_000) memo.clear();
    memo.set(key, hit);
  }
  return hit;
}

export function assessDevice(facts: DeviceFacts, k: InventoryKnowledge, at: Date, leaks: readonly string[] = []): AssessedDevice {
  const device = identify(facts, k);
  const releases = device.os?.releases ?? [];
  const lifecycle = lifecycleStatus(releases, at);
  const subject: VulnSubject = {
    ...(device.vendor !== undefined ? { vendor: device.vendor.value } : {}),
    ...(device.model !== undefined ? { model: device.model.value } : {}),
    ...(device.os !== undefined ? { os: { label: device.os.value, releases } } : {}),
    software: device.software.map((s) => ({ name: s.name, ...(s.version !== undefined ? { version: s.version } : {}), ...(s.vendor !== undefined ? { vendor: s.vendor } : {}) })),
    // Only what the matcher reads: the flow counts differ between devices that are otherwise alike.
    services: device.services.map((sv) => ({ transport: sv.transport, port: sv.port, ...(sv.app !== undefined ? { app: sv.app } : {}) })),
    flags: flagsOf(facts),
  };
  const vulnerabilities = vulnerabilitiesOf(subject, k.advisories);
  const risk = assessRisk(device, { vulnerabilities, lifecycle, leaks });
  return { ...device, lifecycle, vulnerabilities, risk };
}

export function assessInventory(all: readonly DeviceFacts[], k: InventoryKnowledge, at: Date = new Date()): Inventory {
  const devices = all.map((f) => assessDevice(f, k, at)).sort((a, b) => b.risk.score - a.risk.score || a.id.localeCompare(b.id));
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  for (const d of devices) byCategory[d.category.value]++;
  const forecast = eolForecast(
    devices.map((d) => ({ category: d.category.value, releases: d.os?.releases ?? [] })),
    standardForecastDates(at),
  );
  return {
    devices,
    summary: {
      asOf: at.toISOString().slice(0, 10),
      devices: devices.length,
      byCategory,
      eol: devices.filter((d) => d.lifecycle.state === 'eol').length,
      withKev: devices.filter((d) => d.vulnerabilities.some((v) => v.kev)).length,
      forecast,
    },
  };
}
