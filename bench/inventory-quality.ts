/**
 * Inventory quality: precision and recall of vendor, OS and type
 *  1. on a simulated hospital, against the simulator's ground truth, and
 *  2. on the real third-party captures of ../shared/corpus, against expectations written by hand
 *     from tshark (bench/expectations/corpus-devices.json; its README gives the scoring rules).
 *
 *   node --import tsx bench/inventory-quality.ts [--devices 300] [--duration 6h] [--seed q]
 *
 * Precision counts the claims Vigil stands behind (confidence ≥ 0.5); low-confidence hints are
 * counted apart. "Confident wrong OS" counts OS claims ≥ 0.7 that are wrong — the goal is zero.
 * OS and type are scored on the devices that spoke an identifying protocol.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileSource } from '../src/capture/source.ts';
import { ALL_DISSECTORS, synDissectors } from '../src/protocols/index.ts';
import { runSensor } from '../src/sensor/run.ts';
import { InventoryBuilder, type DeviceFacts } from '../src/inventory/builder.ts';
import { assessInventory, type AssessedDevice } from '../src/inventory/inventory.ts';
import { loadKnowledge } from '../src/knowledge/index.ts';
import { resolveOs } from '../src/assess/lifecycle.ts';
import { sameVendor } from '../src/inventory/identify.ts';
import { simulate, type TruthDevice } from '../src/simulate/simulate.ts';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '300' },
    duration: { type: 'string', default: '6h' },
    seed: { type: 'string', default: 'quality' },
    'skip-simulator': { type: 'boolean', default: false },
    'skip-corpus': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

const repo = resolve(import.meta.dirname, '..');
const corpusRoot = resolve(repo, '..', 'shared', 'corpus');
const knowledge = await loadKnowledge({ knowledgeDir: null });
const AS_OF = new Date('2026-11-30T00:00:00Z');
const STANDS_BEHIND = 0.5;
const CONFIDENT = 0.7;

/** The protocols whose observations identify a device (an OS, a product, a maker). */
const IDENTIFYING = /^(ntlmssp|smb|dhcp|snmp|mdns|ssdp|dicom|hl7|netbios|http\.(user_agent|server|x_powered_by|title))/;

async function inventoryOf(file: string): Promise<{ devices: AssessedDevice[]; facts: DeviceFacts[] }> {
  const b = new InventoryBuilder();
  await runSensor(await fileSource(file), {
    dissectors: ALL_DISSECTORS,
    synDissectors: synDissectors(),
    onObservation: (o) => b.addObservation(o),
    onFlow: (f) => b.addFlow(f),
  });
  const facts = b.devices();
  return { devices: assessInventory(facts, knowledge, AS_OF).devices, facts };
}

function spokeIdentifying(facts: DeviceFacts | undefined): boolean {
  if (facts === undefined) return false;
  for (const [a, v] of facts.facts) if (v.length > 0 && IDENTIFYING.test(a)) return true;
  return false;
}

class Score {
  tp = 0;
  fp = 0;
  fn = 0;
  hints = 0;
  confidentWrong = 0;
  wrong: string[] = [];
  claim(ok: boolean, confidence: number, what: string): void {
    if (confidence < STANDS_BEHIND) {
      this.hints++;
      return;
    }
    if (ok) this.tp++;
    else {
      this.fp++;
      if (confidence >= CONFIDENT) this.confidentWrong++;
      if (this.wrong.length < (args.verbose ? 400 : 0)) this.wrong.push(what);
    }
  }
  missed: string[] = [];
  miss(what = ''): void {
    this.fn++;
    if (what !== '' && this.missed.length < (args.verbose ? 400 : 0)) this.missed.push(what);
  }
  row(name: string): string {
    const p = this.tp + this.fp === 0 ? NaN : this.tp / (this.tp + this.fp);
    const r = this.tp + this.fn === 0 ? NaN : this.tp / (this.tp + this.fn);
    const f = (x: number) => (Number.isNaN(x) ? '—' : `${(x * 100).toFixed(1)}%`);
    return `| ${name} | ${f(p)} | ${f(r)} | ${this.tp} | ${this.fp} | ${this.fn} | ${this.hints} | ${this.confidentWrong} |`;
  }
}

function table(title: string, scores: Record<string, Score>): string {
  const lines = [`\n${title}\n`, '| claim | precision | recall | right | wrong | missed | low-confidence hints | confident wrong |', '|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const [k, s] of Object.entries(scores)) lines.push(s.row(k));
  if (args.verbose) for (const [k, s] of Object.entries(scores)) for (const w of s.wrong) lines.push(`  ${k} wrong: ${w}`);
  if (args.verbose) for (const [k, s] of Object.entries(scores)) for (const w of s.missed) lines.push(`  ${k} missed: ${w}`);
  return lines.join('\n');
}

// ---- OS and type comparison ---------------------------------------------------------------------

/** Vigil's OS claim is right when its releases overlap the truth's, or (a family-level claim) the families agree. */
function osRight(claim: AssessedDevice['os'], truthText: string, truthFamily: string): boolean {
  if (claim === undefined) return false;
  const truth = resolveOs(truthText);
  const family = (truth?.family ?? truthFamily).toLowerCase();
  if (claim.family.toLowerCase() !== family) return false;
  if (claim.releases.length === 0 || truth === undefined || truth.releases.length === 0) return true;
  return claim.releases.some((a) => truth.releases.some((b) => a.product === b.product && a.cycle === b.cycle));
}

const STOP = new Set(['and', 'or', 'the', 'a', 'of', 'for', 'with', 'server', 'station', 'system', 'device', 'dr', 'windows', 'linux', 'xp', 'legacy', 'clinical', 'network', 'interface', 'management', 'card']);
function words(s: string): Set<string> {
  return new Set(
    s
      .toLowerCase()
      .replace(/\([^)]*\)/g, ' ')
      .replace(/analyzer/g, 'analyser')
      .replace(/x-ray|radiography/g, 'xray')
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length > 1 && !STOP.has(w)),
  );
}

/**
 * Platform (and protocol) types say what a device runs or speaks, not what it is for: "Windows computer" on a Windows-based
 * clinical workstation is not wrong, only unspecific — right for precision when the OS family
 * agrees, never a recall hit.
 */
const PLATFORM_TYPES: Record<string, string> = {
  'windows computer': 'windows',
  'windows workstation': 'windows',
  'windows server': 'windows',
  'mac computer': 'macos',
  'apple device': '',
  'virtual machine': '',
  'smartphone or tablet': '',
  'linux computer': 'linux',
  // Protocol-level types: what the device speaks, not what it is (true of every DICOM or HL7 node).
  'dicom device': '',
  'hl7 system': '',
};
function platformConsistent(vigilType: string, truthOsFamily: string): boolean | undefined {
  const fam = PLATFORM_TYPES[vigilType.toLowerCase()];
  if (fam === undefined) return undefined;
  return fam === '' || fam === truthOsFamily.toLowerCase();
}

/** A type is right when the category agrees and the names share a significant word ("infusion pump" ~ "Infusion pump station"). */
function typeRight(vigilType: string, vigilCategory: string, truthType: string, truthCategory: string): boolean {
  if (vigilCategory !== truthCategory) return false;
  const a = words(vigilType);
  for (const w of words(truthType)) if (a.has(w)) return true;
  return false;
}

// ---- 1. simulator ---------------------------------------------------------------------------------

async function simulatorQuality(): Promise<string> {
  mkdirSync(resolve(repo, 'bench/out'), { recursive: true });
  const file = resolve(repo, `bench/out/quality-${args.seed}.pcap`);
  const hours = Number.parseFloat(args.duration as string);
  const truth = await simulate({
    devices: Number(args.devices),
    duration: hours * 3600,
    seed: args.seed as string,
    start: Date.parse('2026-11-23T06:00:00Z') / 1000,
    out: file,
    catalogue: resolve(repo, 'data/simulator/catalogue.json'),
    incidents: 'none',
  });
  const { devices, facts } = await inventoryOf(file);
  const byMac = new Map<string, AssessedDevice>();
  const byIp = new Map<string, AssessedDevice>();
  for (const d of devices) {
    for (const m of d.macs) byMac.set(m, d);
    for (const ip of d.ips) byIp.set(ip, d);
  }
  const factsById = new Map(facts.map((f) => [f.id, f]));
  const s = { vendor: new Score(), os: new Score(), type: new Score(), category: new Score() };
  let found = 0;
  const present = truth.devices.filter((t: TruthDevice) => !t.rogue);
  for (const t of present) {
    const d = byMac.get(t.mac) ?? t.ips.map((ip) => byIp.get(ip)).find((x) => x !== undefined);
    if (d === undefined) {
      s.vendor.miss();
      continue;
    }
    found++;
    const identifying = spokeIdentifying(factsById.get(d.id));
    if (d.vendor !== undefined) s.vendor.claim(sameVendor(d.vendor.value, t.vendor), d.vendor.confidence, `${t.id}: ${d.vendor.value} ≠ ${t.vendor}`);
    if (d.vendor === undefined || d.vendor.confidence < STANDS_BEHIND) s.vendor.miss();
    else if (!sameVendor(d.vendor.value, t.vendor)) s.vendor.miss();
    if (!identifying) continue;
    if (d.os !== undefined) s.os.claim(osRight(d.os, t.os.name, t.os.family), d.os.confidence, `${t.id}: ${d.os.value} (${d.os.confidence}) ≠ ${t.os.name}`);
    if (d.os === undefined || d.os.confidence < STANDS_BEHIND || !osRight(d.os, t.os.name, t.os.family)) s.os.miss();
    const specific = d.type !== undefined && typeRight(d.type.value, d.category.value, t.type, t.category);
    const platform = d.type !== undefined ? platformConsistent(d.type.value, t.os.family) : undefined;
    if (d.type !== undefined) s.type.claim(specific || platform === true, d.type.confidence, `${t.id}: ${d.type.value}/${d.category.value} ≠ ${t.type}/${t.category}`);
    if (d.type === undefined || d.type.confidence < STANDS_BEHIND || !specific) s.type.miss();
    s.category.claim(d.category.value === t.category, d.category.confidence, `${t.id}: ${d.category.value} ≠ ${t.category}`);
    if (d.category.value !== t.category || d.category.confidence < STANDS_BEHIND) s.category.miss();
  }
  // A miss counted with a wrong claim is both a false positive and a false negative, as usual.
  return (
    `Simulated hospital: ${present.length} devices (seed ${args.seed}, ${args.duration}, ${truth.packets.toLocaleString('en')} packets); ` +
    `Vigil found ${found} of them and ${devices.length} devices in all` +
    table('Against the simulator’s ground truth (OS, type and category on the devices that spoke an identifying protocol)', s)
  );
}

// ---- 2. real corpus -------------------------------------------------------------------------------

interface Expectation {
  capture: string;
  device: { mac?: string; ip?: string };
  vendor: string | null;
  os: { family: string; label: string; version?: string } | null;
  type: string | null;
  category: string | null;
  osMustBeAbsent?: boolean;
  mustNot?: { osFamily?: string[]; osLabel?: string[]; vendor?: string[]; type?: string[]; category?: string[] };
  acceptAlso?: { vendor?: (string | null)[]; osLabel?: (string | null)[]; osFamily?: (string | null)[]; type?: (string | null)[]; os?: (string | null)[] };
}

const loose = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
const inList = (v: string, list: readonly (string | null)[] | undefined) => (list ?? []).some((x) => x !== null && loose(x) === loose(v));

/** The corpus vocabulary of types (bench/expectations/README.md) against Vigil's. */
const TYPE_SYNONYMS: Record<string, string[]> = {
  'windows workstation': ['windows workstation', 'windows computer'],
  'windows server': ['windows server', 'windows computer'],
  'mac workstation': ['mac computer'],
  'network infrastructure': ['network router', 'network switch', 'router', 'wireless access point'],
  'hl7 system': ['hl7 system', 'hl7 interface engine'],
  pacs: ['pacs', 'dicom workstation or archive', 'pacs or dicom router'],
  smartphone: ['smartphone or tablet', 'smartphone', 'android phone or tablet'],
  printer: ['printer', 'network printer'],
};

function corpusTypeRight(vigil: string, expected: string, e: Expectation): boolean {
  const v = loose(vigil);
  if (v === loose(expected) || inList(vigil, e.acceptAlso?.type)) return true;
  return (TYPE_SYNONYMS[loose(expected)] ?? []).includes(v);
}

function corpusOsRight(claim: NonNullable<AssessedDevice['os']>, e: Expectation): boolean {
  const exp = e.os;
  if (exp === null) return false;
  if (inList(claim.value, e.mustNot?.osLabel) || inList(claim.family, e.mustNot?.osFamily)) return false;
  if (claim.family.toLowerCase() !== exp.family.toLowerCase() && !inList(claim.family, e.acceptAlso?.osFamily)) return false;
  if (loose(claim.value) === loose(exp.label) || inList(claim.value, e.acceptAlso?.osLabel)) return true;
  // Same releases (or a less specific statement of the same family) count as right.
  const truth = resolveOs(exp.version !== undefined ? `${exp.label} (${exp.version})` : exp.label) ?? resolveOs(exp.label);
  if (claim.releases.length === 0 || truth === undefined || truth.releases.length === 0) return true;
  return claim.releases.some((a) => truth.releases.some((b) => a.product === b.product && a.cycle === b.cycle));
}

async function corpusQuality(): Promise<string> {
  const expectations = JSON.parse(readFileSync(resolve(repo, 'bench/expectations/corpus-devices.json'), 'utf8')) as Expectation[];
  const byCapture = new Map<string, Expectation[]>();
  for (const e of expectations) {
    const l = byCapture.get(e.capture) ?? [];
    l.push(e);
    byCapture.set(e.capture, l);
  }
  const s = { vendor: new Score(), os: new Score(), type: new Score(), category: new Score() };
  let notFound = 0;
  for (const [capture, list] of byCapture) {
    const { devices } = await inventoryOf(resolve(corpusRoot, capture));
    for (const e of list) {
      const d =
        devices.find((x) => e.device.mac !== undefined && x.macs.includes(e.device.mac) && (e.device.ip === undefined || x.ips.includes(e.device.ip))) ??
        devices.find((x) => e.device.ip !== undefined && x.ips.includes(e.device.ip)) ??
        devices.find((x) => e.device.mac !== undefined && x.macs.includes(e.device.mac));
      const where = `${capture} ${e.device.ip ?? e.device.mac}`;
      if (d === undefined) {
        notFound++;
        if (e.vendor !== null) s.vendor.miss();
        if (e.os !== null) s.os.miss();
        if (e.type !== null) s.type.miss();
        continue;
      }
      // vendor
      if (d.vendor !== undefined && d.vendor.confidence >= STANDS_BEHIND) {
        const bad = inList(d.vendor.value, e.mustNot?.vendor);
        if (e.vendor !== null || bad) s.vendor.claim(!bad && e.vendor !== null && (sameVendor(d.vendor.value, e.vendor) || inList(d.vendor.value, e.acceptAlso?.vendor)), d.vendor.confidence, `${where}: ${d.vendor.value} ≠ ${e.vendor}`);
      }
      if (e.vendor !== null && (d.vendor === undefined || d.vendor.confidence < STANDS_BEHIND || !(sameVendor(d.vendor.value, e.vendor) || inList(d.vendor.value, e.acceptAlso?.vendor)))) s.vendor.miss();
      // OS
      if (d.os !== undefined) {
        if (e.os !== null) s.os.claim(corpusOsRight(d.os, e), d.os.confidence, `${where}: ${d.os.value} (${d.os.confidence}) ≠ ${e.os.label}`);
        else if (e.osMustBeAbsent === true || inList(d.os.family, e.mustNot?.osFamily) || inList(d.os.value, e.mustNot?.osLabel)) s.os.claim(false, d.os.confidence, `${where}: ${d.os.value} (${d.os.confidence}) where no OS is stated`);
      }
      if (e.os !== null && (d.os === undefined || d.os.confidence < STANDS_BEHIND || !corpusOsRight(d.os, e)) && !(e.acceptAlso?.os ?? []).includes(null)) s.os.miss(`${where}: ${d.os?.value ?? 'none'} (${d.os?.confidence ?? ''}) for ${e.os.label}`);
      // type and category
      if (d.type !== undefined) {
        const bad = inList(d.type.value, e.mustNot?.type);
        const platform = e.os !== null ? platformConsistent(d.type.value, e.os.family) : PLATFORM_TYPES[d.type.value.toLowerCase()] === '' ? true : undefined;
        if (e.type !== null || bad) s.type.claim(!bad && e.type !== null && (corpusTypeRight(d.type.value, e.type, e) || platform === true), d.type.confidence, `${where}: ${d.type.value} ≠ ${e.type}`);
      }
      if (e.type !== null && (d.type === undefined || d.type.confidence < STANDS_BEHIND || !corpusTypeRight(d.type.value, e.type, e)) && !(e.acceptAlso?.type ?? []).includes(null)) s.type.miss();
      const badCat = inList(d.category.value, e.mustNot?.category);
      if (e.category !== null || badCat) s.category.claim(!badCat && d.category.value === e.category, d.category.confidence, `${where}: ${d.category.value} ≠ ${e.category}`);
      if (e.category !== null && (d.category.value !== e.category || d.category.confidence < STANDS_BEHIND)) s.category.miss();
    }
  }
  return `Real captures: ${expectations.length} hand-checked devices in ${byCapture.size} captures of ../shared/corpus (${notFound} not found as a device)` + table('Against expectations written from tshark (bench/expectations/corpus-devices.json)', s);
}

if (!args['skip-simulator']) console.log(await simulatorQuality());
if (!args['skip-corpus']) console.log(`\n${await corpusQuality()}`);
