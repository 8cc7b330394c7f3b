/**
 * A device's facts → who it is: vendor, model, type, category, criticality, OS and software, each a
 * claim with its confidence, the rule that made it and the observations behind it.
 *
 * Pure: the knowledge (OUI registry, device profiles, OS lifecycle) is passed in, so tests can use
 * the shipped data or their own, and the server can reload it without touching this code.
 *
 * OS: every signal is weighed by how much its protocol can be trusted to state the OS (an NTLMSSP
 * VERSION field is the OS's own word; a p0f SYN signature is a guess that many stacks share), and
 * signals are grouped by agreement (same family, compatible releases). The best-supported group
 * wins; the rest are kept as conflicts, shown, and lower the confidence. A device whose only OS
 * signal is a TCP fingerprint never gets a confident OS.
 */
import type { OuiAssignment } from '../knowledge/oui.ts';
import type { ProfileMatch } from '../knowledge/device-profiles.ts';
import type { ResolvedOs } from '../assess/lifecycle.ts';
import type { DeviceFacts, FactValue } from './builder.ts';
import type { Category, Claim, Criticality, Device, Evidence, OsClaim, Software } from './device.ts';
import { bannerSoftware, dicomImplementation, osFromBanner, osFromServerHeader, osFromUserAgent, productTokens } from './signals.ts';

/** What a device profile says when one of its conditions matches (see data/device-profiles.json). */
export type { ProfileMatch, ResolvedOs };

export interface IdentifyKnowledge {
  oui(mac: string): OuiAssignment | undefined;
  isLocalMac(mac: string): boolean;
  profiles(facts: readonly { attribute: string; value: string }[]): ProfileMatch[];
  resolveOs(text: string): ResolvedOs | undefined;
}

/** Hostname sources, most authoritative first (a name the device gives itself beats one a resolver gives it). */
const HOSTNAME_ATTRIBUTES = [
  'dhcp.hostname',
  'dhcp.fqdn',
  'netbios.name',
  'ntlmssp.dns_computer',
  'ntlmssp.nb_computer',
  'smb.server_name',
  'mdns.hostname',
  'llmnr.hostname',
  'snmp.sys_name',
  'dns.hostname',
];

/** Login and service banners, and the FTP SYST answer: what they say about the OS. */
const BANNER_OS_ATTRIBUTES = ['telnet.banner', 'ftp.banner', 'smtp.banner', 'ftp.system'];
/** Banners that name the server software. */
const BANNER_SOFTWARE_ATTRIBUTES = ['ftp.banner', 'smtp.banner', 'telnet.banner'];
/** Headers that name web server software and frameworks ("Apache/2.4.41 (Ubuntu) PHP/7.4.3"). */
const SERVER_SOFTWARE_ATTRIBUTES = ['http.server', 'http.x_powered_by', 'ssdp.server', 'http.x_generator'];
const USER_AGENT_ATTRIBUTES = ['http.user_agent', 'ssdp.user_agent'];
const DICOM_NODE_ATTRIBUTES = ['dicom.calling_ae', 'dicom.called_ae', 'dicom.implementation_class_uid'];
/** What identifyOs reads. */
const OS_ATTRIBUTES = ['os', 'smb.native_os', ...USER_AGENT_ATTRIBUTES, 'http.server', ...BANNER_OS_ATTRIBUTES];
/** What softwareOf reads. */
const SOFTWARE_ATTRIBUTES = [...SERVER_SOFTWARE_ATTRIBUTES, 'http.x_aspnet_version', 'http.x_aspnetmvc_version', 'smb.native_lanman', 'dicom.implementation_version', 'hl7.sending_application', ...BANNER_SOFTWARE_ATTRIBUTES];

/**
 * Every observation attribute identify reads itself (device profiles read theirs: DeviceProfiles
 * .attributesRead). A value of an attribute in neither list can change no claim: the inventory need not keep it.
 */
export const IDENTIFY_ATTRIBUTES: readonly string[] = [...HOSTNAME_ATTRIBUTES, ...OS_ATTRIBUTES, ...SOFTWARE_ATTRIBUTES, ...DICOM_NODE_ATTRIBUTES, 'hl7.sending_application'];

/** Whether the device stated any of these (most devices state few attributes, many none). */
function statesAny(d: DeviceFacts, attributes: readonly string[]): boolean {
  return d.facts.size > 0 && attributes.some((a) => d.facts.has(a));
}

/**
 * How far each protocol's OS statement can be trusted, 0..1, multiplied by the dissector's own
 * confidence. NTLMSSP and SMB carry the OS's version from the OS itself; SNMP sysDescr is written
 * by the vendor; DHCP and mDNS are stack conventions; User-Agents are set by applications (and
 * spoofed); p0f signatures are shared by many stacks and shaped by middleboxes.
 */
const OS_SOURCE_WEIGHT: Record<string, number> = {
  ntlmssp: 1,
  smb: 0.95,
  snmp: 0.9,
  dhcp: 0.75,
  mdns: 0.75,
  http: 0.7,
  ssdp: 0.6,
  // Login and service banners are the administrator's or the vendor's own words about the system.
  banner: 0.75,
  tcp: 0.55,
};

/** Evidence items kept per claim. */
const CLAIM_EVIDENCE = 4;

function evidenceOf(values: readonly FactValue[]): Evidence[] {
  const out: Evidence[] = [];
  for (const v of values) for (const e of v.evidence) if (out.length < CLAIM_EVIDENCE) out.push(e);
  return out;
}

const NO_VALUES: readonly FactValue[] = [];

function facts(d: DeviceFacts, attribute: string): readonly FactValue[] {
  return d.facts.get(attribute) ?? NO_VALUES;
}

/** Noisy-OR of independent confidences: two weak agreeing signals make a stronger one. */
function combine(a: number, b: number): number {
  return 1 - (1 - a) * (1 - b);
}

function norm(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').replace(/\b(inc|corp|corporation|co|ltd|llc|gmbh|ag|sa|bv|plc|limited|company|incorporated|the)\b/g, '').replace(/\s+/g, ' ').trim();
}

/** Words many unrelated companies share: never enough on their own to call two names one vendor. */
const GENERIC_VENDOR_WORDS = new Set(['healthcare', 'health', 'medical', 'systems', 'system', 'technologies', 'technology', 'electronics', 'electric', 'international', 'solutions', 'networks', 'communications', 'group', 'holdings', 'industries', 'diagnostics', 'devices', 'enterprise', 'computer', 'software', 'labs', 'laboratories', 'instruments', 'global']);

/** "GE Healthcare" ~ "GE HEALTHCARE IT", "Baxter Healthcare Corporation" ~ "Baxter": first word agrees. */
export function sameVendor(a: string, b: string): boolean {
  const x = norm(a);
  const y = norm(b);
  if (x === '' || y === '') return false;
  if (x === y || x.startsWith(`${y} `) || y.startsWith(`${x} `)) return true;
  if (x.split(' ')[0] === y.split(' ')[0]) return true;
  // "APC (Schneider Electric)" ~ "Schneider Electric (APC)": a distinctive word in common.
  const xs = new Set(x.split(' ').filter((w) => w.length >= 3 && !GENERIC_VENDOR_WORDS.has(w)));
  return y.split(' ').some((w) => xs.has(w));
}

interface Candidate<T extends string = string> {
  value: T;
  confidence: number;
  rule: string;
  evidence: Evidence[];
}

function best<T extends string>(cands: Candidate<T>[]): Claim<T> | undefined {
  let top: Candidate<T> | undefined;
  for (const c of cands) if (top === undefined || c.confidence > top.confidence) top = c;
  if (top === undefined) return undefined;
  // Independent sources agreeing on the same value make it surer.
  let confidence = top.confidence;
  for (const c of cands) if (c !== top && c.value === top.value) confidence = combine(confidence, c.confidence * 0.5);
  return { value: top.value, confidence: round(confidence), rule: top.rule, evidence: top.evidence };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Who a device is: the claims identify makes (the Device less its addresses, times and counts). */
export type Identity = Pick<Device, 'hostnames' | 'randomMac' | 'vendor' | 'model' | 'type' | 'category' | 'criticality' | 'os' | 'software'>;

/** What identify reads of a device's first MAC: whether it is randomised, and whom the registry assigns it to. */
export interface MacIdentity {
  mac: string | undefined;
  random: boolean;
  oui: OuiAssignment | undefined;
}

export function macIdentity(d: DeviceFacts, k: IdentifyKnowledge): MacIdentity {
  const mac = d.macs[0];
  const random = mac !== undefined && k.isLocalMac(mac);
  return { mac, random, oui: mac !== undefined && !random ? k.oui(mac) : undefined };
}

export function identify(d: DeviceFacts, k: IdentifyKnowledge): Device {
  return deviceOf(d, identityOf(d, k, macIdentity(d, k)));
}

// ─── Devices that state the same things ────────────────────────────────────────────────────────────

const NAME_ATTRIBUTES: ReadonlySet<string> = new Set(HOSTNAME_ATTRIBUTES);

/** Longer keys (devices that state much, which rarely state the same) are not worth keeping. */
const MAX_IDENTITY_KEY = 512;

/**
 * All that identityOf reads of a device but where its evidence points: its statements (attribute,
 * value, confidence, protocol, how many observations back each), its MAC's registry assignment,
 * whether it routes, its printing service. Devices with one key get the same claims (rebindIdentity):
 * a network's addresses seen only behind a router, its devices that said nothing but a TCP
 * fingerprint, a fleet of one model. Undefined for a device that names itself (no other has its
 * name) or states too much to be worth sharing.
 */
export function identityKey(d: DeviceFacts, m: MacIdentity): string | undefined {
  let key = m.mac === undefined ? '-' : m.random ? 'r' : m.oui === undefined ? 'u' : `o${m.oui.block} ${m.oui.prefix} ${m.oui.organisation}`;
  if (d.router) key += '\u0001router';
  const printer = printerService(d);
  if (printer !== undefined) key += `\u0001printer ${printer.port}`;
  for (const [attribute, values] of d.facts) {
    // A name is one device's own: a device that states one shares its identity with none.
    if (NAME_ATTRIBUTES.has(attribute)) return undefined;
    key += `\u0001${attribute}`;
    // Each value with its length first: no text a device sends can pass for another statement.
    for (const v of values) key += `\u0002${v.value.length}:${v.value}\u0003${v.confidence}\u0003${v.protocol}\u0003${v.evidence.length}`;
    if (key.length > MAX_IDENTITY_KEY) return undefined;
  }
  return key;
}

/**
 * Where each of a device's observations sits in its facts (attribute, value, evidence, in order), as
 * they were when it was identified: a live sensor goes on adding facts while a report is judged.
 */
export type EvidencePlaces = readonly (readonly (readonly Evidence[])[])[];

export function evidencePlaces(d: DeviceFacts): EvidencePlaces {
  const out: (readonly Evidence[])[][] = [];
  d.facts.forEach((values) => {
    out.push(values.map((v) => v.evidence));
  });
  return out;
}

/**
 * `id`, the identity of a device whose evidence sat at `from`, as that of `to`, a device with the
 * same identityKey: the same claims, each with `to`'s own evidence — the observations in the same
 * places of `to`'s facts, and `to`'s MAC for the registry's claim. Claims without evidence are shared
 * (claims are never changed once made). Undefined when some evidence has no counterpart (then `to`
 * is identified by itself).
 */
export function rebindIdentity(id: Identity, from: EvidencePlaces, to: DeviceFacts): Identity | undefined {
  let toLists: (readonly FactValue[])[] | undefined;
  let lost = false;
  const counterpart = (e: Evidence): Evidence => {
    toLists ??= [...to.facts.values()];
    for (let i = 0; i < from.length; i++) {
      const values = from[i] as readonly (readonly Evidence[])[];
      for (let j = 0; j < values.length; j++) {
        const k = (values[j] as readonly Evidence[]).indexOf(e);
        if (k >= 0) {
          const there = toLists[i]?.[j]?.evidence[k];
          if (there !== undefined) return there;
        }
      }
    }
    const mac = to.macs[0];
    if (e.protocol === 'ethernet' && e.attribute === 'mac' && mac !== undefined) return { protocol: 'ethernet', attribute: 'mac', value: mac, frame: 0, time: to.first };
    lost = true;
    return e;
  };
  const claim = <C extends Claim>(c: C): C => (c.evidence.length === 0 ? c : { ...c, evidence: c.evidence.map(counterpart) });
  const out: Identity = {
    hostnames: [...id.hostnames],
    randomMac: id.randomMac,
    category: claim(id.category),
    criticality: id.criticality,
    software: id.software.map((s) => ({ ...s, evidence: counterpart(s.evidence) })),
  };
  if (id.vendor !== undefined) out.vendor = claim(id.vendor);
  if (id.model !== undefined) out.model = claim(id.model);
  if (id.type !== undefined) out.type = claim(id.type);
  if (id.os !== undefined) out.os = claim(id.os);
  return lost ? undefined : out;
}

/** The Device record: the device's own addresses, times and counts with its identity. */
export function deviceOf(d: DeviceFacts, id: Identity): Device {
  const device: Device = {
    id: d.id,
    macs: d.macs,
    ips: d.ips,
    hostnames: id.hostnames,
    firstSeen: d.first,
    lastSeen: d.last,
    randomMac: id.randomMac,
    category: id.category,
    criticality: id.criticality,
    software: id.software,
    services: d.services,
    peers: d.peers,
    observations: d.observations,
    // Every field, undefined where there is none (JSON leaves it out): one hidden class for every
    // device, so what reads devices after (assessment, report, writers) meets one kind of object.
    vlan: d.vlan,
    vendor: id.vendor,
    model: id.model,
    type: id.type,
    os: id.os,
  };
  return device;
}

export function identityOf(d: DeviceFacts, k: IdentifyKnowledge, macId: MacIdentity): Identity {
  // --- names
  const hostnames: string[] = [];
  const seenNames = new Set<string>();
  for (const a of d.facts.size > 0 ? HOSTNAME_ATTRIBUTES : []) {
    const values = d.facts.get(a);
    if (values === undefined) continue;
    for (const v of values) {
      // NetBIOS names carry a service suffix ("CT03<20>"); DNS names may end in the root dot.
      const name = v.value.replace(/<[0-9a-f]{2}>$/i, '').replace(/\.$/, '').trim();
      const key = name.toLowerCase();
      if (name !== '' && !seenNames.has(key) && hostnames.length < 8) {
        seenNames.add(key);
        hostnames.push(name);
      }
    }
  }

  // --- vendor registry
  const { mac, oui } = macId;

  // --- device profiles over every (attribute, value), plus the OUI vendor and the names
  const pairs: { attribute: string; value: string }[] = [];
  // forEach, not for…of: a report runs mostly as code not yet optimised, where every step of a map's
  // iterator allocates.
  d.facts.forEach((values, attribute) => {
    for (const v of values) pairs.push({ attribute, value: v.value });
  });
  if (oui !== undefined) pairs.push({ attribute: 'oui.vendor', value: oui.organisation });
  for (const h of hostnames) pairs.push({ attribute: 'hostname', value: h });
  const matches = genericDicomSender(k.profiles(pairs));
  const evidenceFor = (m: ProfileMatch): Evidence[] => {
    const fv = facts(d, m.attribute).find((v) => v.value === m.value);
    if (fv !== undefined) return fv.evidence.slice(0, CLAIM_EVIDENCE);
    if (m.attribute === 'oui.vendor' && mac !== undefined) return [{ protocol: 'ethernet', attribute: 'mac', value: mac, frame: 0, time: d.first }];
    return [];
  };

  // --- vendor
  const vendorCands: Candidate[] = [];
  if (oui !== undefined) {
    vendorCands.push({
      value: oui.organisation,
      // A MAC names the maker of the network interface; for a PC-based modality that is Intel or Dell, not
      // the modality's vendor — so the registry alone is a modest claim that profiles outrank.
      confidence: 0.6,
      rule: `IEEE ${oui.block} ${oui.prefix} is assigned to ${oui.organisation}`,
      evidence: [{ protocol: 'ethernet', attribute: 'mac', value: mac as string, frame: 0, time: d.first }],
    });
  }
  for (const m of matches) {
    if (m.vendor === undefined) continue;
    let confidence = m.confidence;
    if (oui !== undefined && sameVendor(m.vendor, oui.organisation)) confidence = combine(confidence, 0.6);
    vendorCands.push({ value: m.vendor, confidence, rule: m.rule, evidence: evidenceFor(m) });
  }
  const vendor = best(vendorCands);

  // --- model / product line
  const modelCands: Candidate[] = [];
  for (const m of matches) {
    const model = m.model ?? m.productLine;
    if (model !== undefined) modelCands.push({ value: model, confidence: m.confidence, rule: m.rule, evidence: evidenceFor(m) });
  }
  const model = best(modelCands);

  // --- OS
  const os = identifyOs(d, k);

  // --- type, category, criticality
  const typeConf = (m: ProfileMatch) => m.typeConfidence ?? m.confidence;
  // What a device is clinically (a CT scanner) outranks the platform it runs on (a Windows PC, a VM):
  // platform-level types count only when no clinical type is claimed with some confidence.
  const clinical = (m: ProfileMatch) => m.category !== undefined && m.category !== 'general-it';
  const anyClinical = matches.some((m) => m.type !== undefined && clinical(m) && typeConf(m) >= 0.5);
  const typed = matches.filter((m) => m.type !== undefined && (!anyClinical || clinical(m))).sort((a, b) => typeConf(b) - typeConf(a));
  let type: Claim | undefined;
  let category: Claim<Category>;
  let criticality: Criticality = 'support';
  const top = typed[0];
  if (top !== undefined) {
    type = best(typed.map((m) => ({ value: m.type as string, confidence: typeConf(m), rule: m.rule, evidence: evidenceFor(m) })));
    const cat = top.category ?? typed.find((m) => m.category !== undefined)?.category;
    // A platform (a Windows PC, a VM) says what the device runs, not what it is for: general IT is then
    // the default for lack of a clinical profile, not a finding.
    const platformOnly = (cat ?? 'general-it') === 'general-it';
    category = platformOnly
      ? { value: 'general-it', confidence: Math.min(0.4, typeConf(top)), rule: `no clinical profile matched; ${top.rule}`, evidence: evidenceFor(top) }
      : { value: cat as Category, confidence: typeConf(top), rule: profileRule(top), evidence: evidenceFor(top) };
    criticality = top.criticality ?? typed.find((m) => m.criticality !== undefined)?.criticality ?? criticalityOf(category.value);
  } else if (matches.some((m) => m.category !== undefined)) {
    // A profile that knows the maker's line of business (a lab-analyser vendor) but not the product.
    const m = [...matches].filter((x) => x.category !== undefined).sort((a, b) => typeConf(b) - typeConf(a))[0] as ProfileMatch;
    category = { value: m.category as Category, confidence: typeConf(m), rule: profileRule(m), evidence: evidenceFor(m) };
    criticality = m.criticality ?? criticalityOf(category.value);
  } else {
    const fallback = fallbackType(d, os);
    type = fallback.type;
    category = fallback.category;
    criticality = criticalityOf(category.value);
  }
  if (category.value === 'general-it' && !d.router) {
    // A platform type (a VM, a Windows PC) that speaks DICOM or HL7 is a clinical system first.
    const clinical = clinicalProtocolType(d);
    if (clinical !== undefined) {
      type = clinical.type;
      category = clinical.category;
      criticality = criticalityOf(category.value);
    }
  }

  // --- software
  const software = softwareOf(d);
  for (const m of matches) {
    if (m.software === undefined || software.length >= 16) continue;
    const ev = evidenceFor(m)[0];
    if (ev === undefined || software.some((s) => s.name.toLowerCase() === (m.software as string).toLowerCase())) continue;
    const s: Software = { name: m.software, evidence: ev };
    if (m.softwareVersion !== undefined) s.version = m.softwareVersion;
    if (m.vendor !== undefined) s.vendor = m.vendor;
    software.push(s);
  }

  const identity: Identity = { hostnames, randomMac: macId.random, category, criticality, software };
  if (vendor !== undefined) identity.vendor = vendor;
  if (model !== undefined) identity.model = model;
  if (type !== undefined) identity.type = type;
  if (os !== undefined) identity.os = os;
  return identity;
}

/**
 * A category claim's rule, made once per match: the profiles' matcher shares a match between the
 * devices that state one value, and every device keeps its claims' rules with its report.
 */
const profileRules = new WeakMap<ProfileMatch, string>();
function profileRule(m: ProfileMatch): string {
  let rule = profileRules.get(m);
  if (rule === undefined) profileRules.set(m, (rule = `profile ${m.profile}: ${m.rule}`));
  return rule;
}

function criticalityOf(c: Category): Criticality {
  switch (c) {
    case 'infusion':
    case 'patient-monitoring':
      return 'life-sustaining';
    case 'imaging':
    case 'laboratory':
      return 'diagnostic';
    default:
      return 'support';
  }
}

/**
 * A sender that proposes the storage classes of many modalities (DCMTK's storescu proposes over a
 * hundred) is a PACS, a router or a workstation forwarding studies, not one modality: its
 * SOP-class matches say nothing about a modality, so they give way to one claim that says so.
 */
function genericDicomSender(matches: ProfileMatch[]): ProfileMatch[] {
  if (matches.length < 3) return matches;
  const modal = matches.filter((m) => m.attribute === 'dicom.abstract_syntax' && m.modality !== undefined);
  const modalities = [...new Set(modal.map((m) => m.modality as string))];
  if (modalities.length < 3) return matches;
  const first = modal[0] as ProfileMatch;
  const generic: ProfileMatch = {
    profile: 'dicom-multi-modality',
    type: 'DICOM workstation or archive',
    category: 'imaging',
    criticality: 'diagnostic',
    confidence: 0.6,
    rule: `proposes the storage classes of ${modalities.length} modalities (${modalities.slice(0, 5).join(', ')}${modalities.length > 5 ? ' …' : ''}): a PACS, DICOM router or workstation, not a single modality`,
    attribute: first.attribute,
    value: first.value,
    source: 'DICOM PS3.4 Annex B (storage SOP classes per modality)',
  };
  return [...matches.filter((m) => !modal.includes(m)), generic];
}

function clinicalProtocolType(d: DeviceFacts): { type: Claim; category: Claim<Category> } | undefined {
  if (d.facts.size === 0) return undefined;
  const dicom = DICOM_NODE_ATTRIBUTES.flatMap((a) => facts(d, a));
  if (dicom.length > 0) {
    const rule = 'speaks DICOM (no profile names its vendor or modality)';
    // The category is a hint: a DICOM node may be a modality, an archive, a viewer or a RIS.
    return { type: { value: 'DICOM device', confidence: 0.5, rule, evidence: evidenceOf(dicom) }, category: { value: 'imaging', confidence: 0.45, rule, evidence: evidenceOf(dicom) } };
  }
  const hl7 = facts(d, 'hl7.sending_application');
  if (hl7.length > 0) {
    const rule = 'sends HL7 v2 messages (no profile names the application)';
    // The category is a hint: HL7 senders are EHRs, engines, monitors' gateways and lab middleware alike.
    return { type: { value: 'HL7 system', confidence: 0.5, rule, evidence: evidenceOf(hl7) }, category: { value: 'clinical-it', confidence: 0.4, rule, evidence: evidenceOf(hl7) } };
  }
  return undefined;
}

/** The first raw, IPP or LPD printing service the device answers on. */
function printerService(d: DeviceFacts): DeviceFacts['services'][number] | undefined {
  return d.services.find((s) => s.transport === 'tcp' && (s.port === 9100 || s.port === 631 || s.port === 515));
}

/** What the traffic alone says about the kind of device when no profile matched. */
function fallbackType(d: DeviceFacts, os: OsClaim | undefined): { type?: Claim; category: Claim<Category> } {
  const general = (why: string, ev: Evidence[] = []): Claim<Category> => ({ value: 'general-it', confidence: 0.3, rule: why, evidence: ev });
  if (d.router) {
    const rule = 'its MAC address carried traffic for many IP addresses (a router, firewall or NAT)';
    return { type: { value: 'network router', confidence: 0.7, rule, evidence: [] }, category: { value: 'general-it', confidence: 0.7, rule, evidence: [] } };
  }
  const clinical = clinicalProtocolType(d);
  if (clinical !== undefined) return clinical;
  const printer = printerService(d);
  if (printer !== undefined) {
    const rule = `answers on TCP ${printer.port} (raw/IPP/LPD printing)`;
    return { type: { value: 'printer', confidence: 0.6, rule, evidence: [] }, category: general(rule) };
  }
  if (os !== undefined && os.confidence >= 0.5) {
    const labels = os.releases.map((r) => r.label);
    const server = labels.length > 0 && labels.every((l) => /server/i.test(l));
    const client = labels.length > 0 && labels.every((l) => !/server/i.test(l));
    let value: string | undefined;
    if (os.family === 'Windows') value = server ? 'Windows server' : client ? 'Windows workstation' : 'Windows computer';
    else if (os.family === 'iOS' || os.family === 'Android') value = 'smartphone or tablet';
    else if (os.family === 'macOS') value = 'Mac computer';
    if (value !== undefined) {
      const rule = `OS ${os.value} with no device profile: a general-purpose computer`;
      return { type: { value, confidence: round(os.confidence * 0.8), rule, evidence: os.evidence }, category: general(rule, os.evidence) };
    }
  }
  return { category: general('no identifying profile matched') };
}

interface OsCandidate {
  text: string;
  resolved: ResolvedOs;
  score: number;
  protocol: string;
  evidence: Evidence[];
}

function identifyOs(d: DeviceFacts, k: IdentifyKnowledge): OsClaim | undefined {
  // Many devices (addresses seen only in flows) stated nothing about their OS.
  if (!statesAny(d, OS_ATTRIBUTES)) return undefined;
  const cands: OsCandidate[] = [];
  const add = (text: string, confidence: number, protocol: string, evidence: Evidence[]) => {
    const resolved = k.resolveOs(text);
    if (resolved === undefined) return;
    const score = confidence * (OS_SOURCE_WEIGHT[protocol] ?? 0.5);
    const same = cands.find((c) => c.resolved.label === resolved.label && c.protocol === protocol);
    if (same !== undefined) {
      same.score = Math.max(same.score, score);
      return;
    }
    cands.push({ text, resolved, score, protocol, evidence });
  };
  for (const v of facts(d, 'os')) add(v.value, v.confidence, v.protocol, v.evidence);
  for (const v of facts(d, 'smb.native_os')) add(v.value, v.confidence, 'smb', v.evidence);
  for (const v of USER_AGENT_ATTRIBUTES.flatMap((a) => facts(d, a))) {
    const os = osFromUserAgent(v.value);
    if (os !== undefined) add(os, v.confidence, 'http', v.evidence);
  }
  for (const v of facts(d, 'http.server')) {
    const os = osFromServerHeader(v.value);
    if (os !== undefined) add(os, v.confidence, 'http', v.evidence);
  }
  for (const a of BANNER_OS_ATTRIBUTES) {
    for (const v of facts(d, a)) {
      const os = osFromBanner(v.value);
      if (os !== undefined) add(os, v.confidence, 'banner', v.evidence);
    }
  }
  if (cands.length === 0) return undefined;

  // Group by agreement; each group's support is the noisy-OR of its members' scores.
  const groups: OsCandidate[][] = [];
  for (const c of cands.sort((a, b) => b.score - a.score)) {
    const g = groups.find((g) => g.every((x) => agree(x.resolved, c.resolved)));
    if (g !== undefined) g.push(c);
    else groups.push([c]);
  }
  const support = (g: OsCandidate[]) => g.reduce((s, c) => combine(s, c.score), 0);
  groups.sort((a, b) => support(b) - support(a));
  const win = groups[0] as OsCandidate[];
  // The most specific statement in the winning group names the OS (NTLMSSP's build over p0f's "Windows 7 or 8").
  const named = [...win].sort((a, b) => specificity(b.resolved) - specificity(a.resolved) || b.score - a.score)[0] as OsCandidate;
  let confidence = support(win);
  const conflicts: OsClaim['conflicts'] = [];
  for (const g of groups.slice(1)) {
    for (const c of g) {
      conflicts.push({ value: c.resolved.label, confidence: round(c.score), protocol: c.protocol, why: `${c.protocol} said "${c.text}", outweighed by ${named.protocol} ("${named.text}")` });
    }
    // A disagreeing signal takes confidence away in proportion to its own strength.
    confidence *= 1 - 0.5 * support(g);
  }
  const rule =
    win.length > 1
      ? `${named.protocol} states "${named.text}"; ${win.length - 1} other signal(s) agree (${win.filter((c) => c !== named).map((c) => c.protocol).join(', ')})`
      : `${named.protocol} states "${named.text}"`;
  const evidence: Evidence[] = [];
  for (const c of [named, ...win.filter((c) => c !== named)]) for (const e of c.evidence) if (evidence.length < CLAIM_EVIDENCE) evidence.push(e);
  return { value: named.resolved.label, family: named.resolved.family, releases: named.resolved.releases, confidence: round(confidence), rule, evidence, conflicts };
}

function specificity(r: ResolvedOs): number {
  // A named release beats a family; fewer candidate releases is more precise.
  return r.releases.length === 0 ? 0 : 100 - Math.min(r.releases.length, 99);
}

/** Two OS statements agree when their families match and, where both name releases, the releases overlap. */
function agree(a: ResolvedOs, b: ResolvedOs): boolean {
  if (a.family.toLowerCase() !== b.family.toLowerCase()) return false;
  if (a.releases.length === 0 || b.releases.length === 0) return true;
  return a.releases.some((x) => b.releases.some((y) => x.product === y.product && x.cycle === y.cycle));
}

/** Software the device announced about itself: servers, toolkits, frameworks. */
function softwareOf(d: DeviceFacts): Software[] {
  const out: Software[] = [];
  if (!statesAny(d, SOFTWARE_ATTRIBUTES)) return out;
  const seen = new Set<string>();
  const push = (name: string, version: string | undefined, evidence: Evidence | undefined) => {
    if (evidence === undefined) return;
    const key = `${name.toLowerCase()}/${version ?? ''}`;
    if (seen.has(key) || out.length >= 16) return;
    seen.add(key);
    const s: Software = { name, evidence };
    if (version !== undefined) s.version = version;
    out.push(s);
  };
  for (const a of SERVER_SOFTWARE_ATTRIBUTES) {
    for (const v of facts(d, a)) for (const t of productTokens(v.value)) push(t.name, t.version, v.evidence[0]);
  }
  for (const v of facts(d, 'http.x_aspnet_version')) push('ASP.NET', v.value, v.evidence[0]);
  for (const v of facts(d, 'http.x_aspnetmvc_version')) push('ASP.NET MVC', v.value, v.evidence[0]);
  for (const v of facts(d, 'smb.native_lanman')) push(v.value, undefined, v.evidence[0]);
  for (const v of facts(d, 'dicom.implementation_version')) {
    const t = dicomImplementation(v.value);
    push(t.name, t.version, v.evidence[0]);
  }
  for (const v of facts(d, 'hl7.sending_application')) push(v.value, undefined, v.evidence[0]);
  for (const a of BANNER_SOFTWARE_ATTRIBUTES) {
    for (const v of facts(d, a)) {
      const t = bannerSoftware(v.value);
      if (t !== undefined) push(t.name, t.version, v.evidence[0]);
    }
  }
  return out;
}
