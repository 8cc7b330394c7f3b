/**
 * A hospital-scale store for the API and dashboard benchmarks: N synthetic devices written through
 * the store's own upsert (the same columns and documents the server writes), and M alerts inserted
 * in bulk (raising a million alerts one by one would measure the seeding, not the API).
 *
 * The devices are plausible rather than random noise: a hospital's mix of categories, vendors,
 * models and OS releases (with their real end-of-life dates, so the forecast has a shape), addresses
 * in per-VLAN subnets, a risk that follows EOL and known-exploited vulnerabilities, and claims with
 * evidence of the size real ones have. Deterministic for a given seed.
 */
import type { AssessedDevice } from '../src/inventory/inventory.ts';
import type { Category, Criticality, OsClaim } from '../src/inventory/device.ts';
import type { SqlStore } from '../src/store/store.ts';
import { SEVERITIES } from '../src/assess/finding.ts';
import { DUE_DAYS } from '../src/store/store.ts';
import { Rng } from '../src/simulate/rng.ts';

interface Kind {
  category: Category;
  criticality: Criticality;
  type: string;
  vendors: [string, string][];
  share: number;
  prefix: string;
  vlan: number;
}

const KINDS: Kind[] = [
  { category: 'imaging', criticality: 'diagnostic', type: 'CT scanner', vendors: [['GE Healthcare', 'Revolution CT'], ['Siemens Healthineers', 'SOMATOM go.Up'], ['Philips', 'Incisive CT']], share: 0.02, prefix: 'CT', vlan: 20 },
  { category: 'imaging', criticality: 'diagnostic', type: 'X-ray system', vendors: [['Carestream', 'DRX-Evolution'], ['Agfa', 'DR 600'], ['Fujifilm', 'FDR Smart X']], share: 0.05, prefix: 'DX', vlan: 20 },
  { category: 'imaging', criticality: 'diagnostic', type: 'ultrasound', vendors: [['GE Healthcare', 'LOGIQ E10'], ['Philips', 'EPIQ 7']], share: 0.05, prefix: 'US', vlan: 21 },
  { category: 'infusion', criticality: 'life-sustaining', type: 'infusion pump', vendors: [['Baxter', 'Sigma Spectrum'], ['B. Braun', 'Space Infusomat'], ['BD', 'Alaris 8015']], share: 0.3, prefix: 'PUMP', vlan: 40 },
  { category: 'patient-monitoring', criticality: 'life-sustaining', type: 'patient monitor', vendors: [['Philips', 'IntelliVue MX450'], ['GE Healthcare', 'CARESCAPE B450'], ['Mindray', 'BeneVision N12']], share: 0.2, prefix: 'MON', vlan: 30 },
  { category: 'laboratory', criticality: 'diagnostic', type: 'lab analyser', vendors: [['Roche', 'cobas 6000'], ['Abbott', 'Alinity ci'], ['Sysmex', 'XN-1000']], share: 0.04, prefix: 'LAB', vlan: 50 },
  { category: 'clinical-it', criticality: 'diagnostic', type: 'PACS workstation', vendors: [['Dell', 'OptiPlex 7090'], ['HP', 'Z2 G5']], share: 0.08, prefix: 'PACSWS', vlan: 60 },
  { category: 'building-iot', criticality: 'support', type: 'IP camera', vendors: [['Axis Communications', 'P3245-V'], ['Hikvision', 'DS-2CD2143']], share: 0.06, prefix: 'CAM', vlan: 90 },
  { category: 'general-it', criticality: 'support', type: 'workstation', vendors: [['Dell', 'Latitude 5420'], ['Lenovo', 'ThinkPad T14'], ['HP', 'EliteBook 840']], share: 0.2, prefix: 'WS', vlan: 100 },
];

const OSES: { value: string; family: string; product: string; cycle: string; eol?: string }[] = [
  { value: 'Windows XP', family: 'Windows', product: 'windows', cycle: 'xp', eol: '2014-04-08' },
  { value: 'Windows 7 SP1', family: 'Windows', product: 'windows', cycle: '7-sp1', eol: '2020-01-14' },
  { value: 'Windows Embedded Standard 7', family: 'Windows', product: 'windows-embedded', cycle: 'standard-7-sp1', eol: '2020-10-13' },
  { value: 'Windows 10 21H2', family: 'Windows', product: 'windows', cycle: '10-21h2-e', eol: '2025-06-10' },
  { value: 'Windows 10 Enterprise LTSC 2019', family: 'Windows', product: 'windows', cycle: '10-1809-lts', eol: '2029-01-09' },
  { value: 'Windows 11 23H2', family: 'Windows', product: 'windows', cycle: '11-23h2-e', eol: '2026-11-10' },
  { value: 'Windows Server 2012 R2', family: 'Windows', product: 'windows-server', cycle: '2012-r2', eol: '2023-10-10' },
  { value: 'Windows Server 2019', family: 'Windows', product: 'windows-server', cycle: '2019', eol: '2029-01-09' },
  { value: 'Ubuntu 20.04', family: 'Linux', product: 'ubuntu', cycle: '20.04', eol: '2025-05-29' },
  { value: 'Debian 12', family: 'Linux', product: 'debian', cycle: '12', eol: '2028-06-30' },
  { value: 'VxWorks', family: 'VxWorks', product: 'vxworks', cycle: '' },
];

/** The simulator's seeded generator: the same seed gives the same hospital. */
function rng(seed: number): () => number {
  const r = new Rng(`seed-${seed}`);
  return () => r.next();
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

export function syntheticDevice(i: number, r: () => number, asOf = Date.parse('2026-11-30')): AssessedDevice {
  let u = r();
  let kind = KINDS[KINDS.length - 1] as Kind;
  for (const k of KINDS) {
    if (u < k.share) {
      kind = k;
      break;
    }
    u -= k.share;
  }
  const [vendor, model] = pick(r, kind.vendors);
  const os = kind.category === 'infusion' || kind.category === 'patient-monitoring' ? pick(r, [OSES[10], OSES[2], OSES[1]]) : kind.category === 'building-iot' ? pick(r, [OSES[9], OSES[8]]) : pick(r, OSES.slice(0, 10));
  const known = r() < 0.8;
  const mac = `00:1b:${hex2(i >> 24)}:${hex2(i >> 16)}:${hex2(i >> 8)}:${hex2(i)}`;
  const vlan = kind.vlan + (i % 4);
  const ip = `10.${vlan}.${(i >> 8) & 0xff}.${i & 0xff}`;
  const name = `${kind.prefix}-${String(i).padStart(6, '0')}`;
  const ev = (protocol: string, attribute: string, value: string) => ({ protocol, attribute, value, frame: 1000 + i, time: 1_764_000_000 + i });
  const eolAt = known && os?.eol !== undefined ? Date.parse(os.eol) : undefined;
  const eol = eolAt !== undefined && eolAt <= asOf;
  const kev = eol && os?.product.startsWith('windows') === true && r() < 0.5;
  const risk = Math.min(100, Math.round((eol ? 35 : 5) + (kev ? 30 : 0) + (kind.criticality === 'life-sustaining' ? 20 : kind.criticality === 'diagnostic' ? 10 : 0) + r() * 15));
  const osClaim: OsClaim | undefined =
    known && os !== undefined
      ? {
          value: os.value,
          family: os.family,
          confidence: 0.85,
          rule: 'NTLMSSP version field → Windows build',
          evidence: [ev('smb', 'ntlmssp.version', os.value)],
          releases: os.cycle === '' ? [] : [{ product: os.product, cycle: os.cycle, label: os.value, ...(os.eol !== undefined ? { eol: os.eol } : {}) }],
          conflicts: [],
        }
      : undefined;
  return {
    id: `mac:${mac}`,
    macs: [mac],
    ips: [ip],
    hostnames: [name],
    vlan,
    firstSeen: 1_764_000_000,
    lastSeen: 1_764_000_000 + Math.floor(r() * 86400),
    randomMac: false,
    vendor: { value: vendor, confidence: 0.9, rule: 'IEEE OUI registry', evidence: [ev('ethernet', 'mac', mac)] },
    model: { value: model, confidence: 0.7, rule: 'device profile: HTTP Server header', evidence: [ev('http', 'server', `${model} httpd`)] },
    type: { value: kind.type, confidence: 0.8, rule: 'device profile', evidence: [ev('dhcp', 'vendor_class', `${vendor} ${model}`)] },
    category: { value: kind.category, confidence: 0.8, rule: 'from the device type', evidence: [] },
    criticality: kind.criticality,
    ...(osClaim !== undefined ? { os: osClaim } : {}),
    software: [],
    services: [{ transport: 'tcp', port: kind.category === 'imaging' ? 104 : 443, flows: 10 }],
    peers: { internal: 3 + Math.floor(r() * 10), external: r() < 0.05 ? 1 : 0 },
    observations: 20 + Math.floor(r() * 200),
    lifecycle: eolAt === undefined ? { state: 'unknown', basis: 'OS not identified' } : eol ? { state: 'eol', since: os?.eol as string, eolDate: os?.eol as string, basis: `${os?.value} support ended ${os?.eol}` } : { state: 'supported', eolDate: os?.eol as string, daysLeft: Math.round((eolAt - asOf) / 86400000), basis: `${os?.value} supported until ${os?.eol}` },
    leaks: [],
    vulnerabilities: kev ? [{ id: 'CVE-2017-0144', cves: ['CVE-2017-0144'], title: 'Microsoft SMBv1 remote code execution (MS17-010, EternalBlue)', source: 'os-flaw', kev: true, ransomware: true, cvss: 8.8, confidence: 0.6, why: `${os?.value} without the MS17-010 update` }] : [],
    risk: { score: risk, exploitability: eol ? 0.7 : 0.2, impact: kind.criticality === 'life-sustaining' ? 1 : 0.7, exposure: 0.5, factors: [], explanation: `${eol ? 'end-of-life OS; ' : ''}${kev ? 'known-exploited vulnerability; ' : ''}${kind.criticality}` },
  };
}

/** Writes `n` devices through the store's upsert, in batches; returns their ids. */
export async function seedDevices(store: SqlStore, n: number, seed = 1): Promise<string[]> {
  const r = rng(seed);
  const ids: string[] = [];
  for (let i = 0; i < n; i += 2000) {
    const batch = Array.from({ length: Math.min(2000, n - i) }, (_, j) => syntheticDevice(i + j, r));
    await store.upsertDevices(batch);
    for (const d of batch) ids.push(d.id);
  }
  return ids;
}

/** Inserts `n` alerts on those devices in bulk (multi-row INSERTs in transactions). */
export async function seedAlerts(store: SqlStore, deviceIds: readonly string[], n: number, seed = 2): Promise<void> {
  const r = rng(seed);
  const kinds = ['leak', 'vulnerability', 'behaviour', 'reconnaissance'];
  const statuses = ['new', 'acknowledged', 'assigned', 'resolved'];
  const per = 500;
  for (let i = 0; i < n; ) {
    await store.engine.transaction(async (tx) => {
      for (let k = 0; k < 20 && i < n; k++) {
        const rows: unknown[] = [];
        const count = Math.min(per, n - i);
        for (let j = 0; j < count; j++, i++) {
          const device = deviceIds[Math.floor(r() * deviceIds.length)] ?? null;
          const severity = pick(r, SEVERITIES);
          const kind = pick(r, kinds);
          const at = 1_764_000_000 + i * 2;
          const teams = r() < 0.7 ? ['clinical-engineering', 'it-security'] : ['it-security'];
          rows.push(`${kind}|${device}|${i}`, device, kind, severity, `${device}: synthetic ${kind} ${i}`, '{}', JSON.stringify(teams), pick(r, statuses), at, at, at, at + DUE_DAYS[severity] * 86400);
        }
        await tx.run(
          `INSERT INTO alerts (alert_key, device_id, kind, severity, title, detail, teams, status, first_seen, last_seen, updated_at, due_at) VALUES ${Array.from({ length: count }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          rows,
        );
      }
    });
  }
}
