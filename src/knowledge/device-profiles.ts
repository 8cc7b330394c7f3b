/**
 * The device-profile knowledge base: what an observation value says about the device that sent it
 * (vendor, product line / model, device type, DICOM modality, category, clinical criticality), from
 * data/device-profiles.json. Profiles are data — adding one needs no code change — and each names
 * the public fact it rests on (a DICOM conformance statement, the IEEE registry, a vendor manual).
 *
 * A profile's match block holds conditions on an observation attribute: `equals` and `prefix`
 * (case-insensitive), `regex` (case-insensitive; `$0`…`$9` in the profile's claims are its groups)
 * or `sopModality` (the DICOM abstract syntax is a storage SOP class of that modality). `any` fires
 * on one observation; `all` needs every condition met by some observation of the same device
 * (`matchAll`). Three pseudo-attributes widen a condition: `hostname` (any name the device claims:
 * DHCP, DNS, mDNS, LLMNR, NetBIOS, SMB, SNMP sysName, NTLM names — first label, NetBIOS
 * suffix dropped), `dicom.ae_title` (the calling or the called AE title) and `oui.vendor` (the IEEE
 * organisation of the MAC, which the caller looks up and passes as that attribute).
 *
 * Cost: conditions are indexed by attribute (exact values in a map), a regex runs only on values
 * holding the literal text it needs (src/knowledge/regex-literals.ts; so only the patterns some
 * value may match are ever compiled), and results are memoised per (attribute, value) in a bounded
 * LRU, so a lookup costs at most the conditions on that attribute, once per distinct value.
 */
import type { Category, Criticality } from '../inventory/device.ts';
import { dataFile, readDataJson } from './paths.ts';
import { mayMatch, requiredLiterals, type Literals } from './regex-literals.ts';
import registry from '../../data/dicom-uids.json' with { type: 'json' };
import type { DeviceProfile, DeviceProfileCondition, DeviceProfileData } from './device-profiles-schema.ts';

export type { DeviceProfile, DeviceProfileCondition, DeviceProfileData } from './device-profiles-schema.ts';

/** What a profile can claim (the strings, with $1…$9 for a regex's groups). */
export const CLAIMS = ['vendor', 'productLine', 'model', 'type', 'modality', 'software', 'softwareVersion'] as const;

/** What one profile says about the device whose observation matched it. */
export interface ProfileMatch {
  profile: string;
  vendor?: string;
  model?: string;
  productLine?: string;
  type?: string;
  modality?: string;
  /** Software the value names (a DICOM toolkit, a web server) when that is what it identifies rather than a maker. */
  software?: string;
  softwareVersion?: string;
  category?: Category;
  criticality?: Criticality;
  /** 0..1, for the profile's strongest claim. */
  confidence: number;
  /** 0..1, for type / modality / category when weaker than `confidence`. */
  typeConfidence?: number;
  /** In words: "DICOM implementation class UID 1.2.840.113619.6.374 has GE Healthcare's root 1.2.840.113619". */
  rule: string;
  /** The observation that matched (for an "all of" profile: the attributes and values joined with " + "). */
  attribute: string;
  value: string;
  source: string;
  /** For an "all of" profile: every observation that met a condition. */
  facts?: { attribute: string; value: string }[];
}

export interface Fact {
  attribute: string;
  value: string;
}

// ---------------------------------------------------------------------------------------------
// Pseudo-attributes

/** Observation attributes that carry a name the device gives itself. */
export const HOSTNAME_ATTRIBUTES: ReadonlySet<string> = new Set([
  'dhcp.hostname',
  'dhcp.fqdn',
  'dns.hostname',
  'mdns.hostname',
  'llmnr.hostname',
  'netbios.name',
  'netbios.calling_name',
  'smb.server_name',
  'snmp.sys_name',
  'ntlmssp.workstation',
  'ntlmssp.nb_computer',
  'ntlmssp.dns_computer',
]);
const AE_ATTRIBUTES: ReadonlySet<string> = new Set(['dicom.calling_ae', 'dicom.called_ae']);
const PSEUDO = new Set(['hostname', 'dicom.ae_title', 'oui.vendor']);

/** "LUCAS-IMAC.local." → "LUCAS-IMAC"; "GUNNAR<20>" → "GUNNAR"; an IP address is kept whole. */
export function normaliseHostname(name: string): string {
  let n = name.trim().replace(/<[0-9a-f]{2}>$/i, '').replace(/\.$/, '').trim();
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(n) && !n.includes(':')) {
    const dot = n.indexOf('.');
    if (dot > 0) n = n.slice(0, dot);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Loading

let shippedData: DeviceProfileData | undefined;

/**
 * The shipped knowledge base (data/device-profiles.json), read once. Not validated: validating it
 * cost ~35 ms (and loading zod ~0.1 s) of every analysis; the tests check that
 * parseDeviceProfileData (device-profiles-schema.ts) accepts it and returns it unchanged. A file
 * given by hand is read with readDeviceProfileData there, which validates.
 */
export function loadDeviceProfileData(): DeviceProfileData {
  return (shippedData ??= readDataJson(dataFile('device-profiles.json')) as DeviceProfileData);
}

export function conditionsOf(p: DeviceProfile): DeviceProfileCondition[] {
  return p.match.any ?? p.match.all ?? [];
}

export function attributesOf(c: DeviceProfileCondition): string[] {
  return typeof c.attribute === 'string' ? [c.attribute] : c.attribute;
}

export const TEMPLATE = /\$(\d)/g;

// ---------------------------------------------------------------------------------------------
// SOP classes → modality

export const UIDS: Record<string, { name: string; kind: string; modality?: string }> = registry.uids;

let sopTable: Map<string, string> | undefined;

function sopModalities(data?: DeviceProfileData): Map<string, string> {
  if (data === undefined && sopTable !== undefined) return sopTable;
  const t = new Map<string, string>();
  for (const [uid, e] of Object.entries(UIDS)) if (e.kind === 'storage' && e.modality !== undefined) t.set(uid, e.modality);
  for (const [uid, e] of Object.entries((data ?? loadDeviceProfileData()).sopClasses.classes)) if (!t.has(uid)) t.set(uid, e.modality);
  if (data === undefined) sopTable = t;
  return t;
}

const LEADING_UID = /^\s*([0-9]+(?:\.[0-9]+)*)/;

/**
 * The DICOM modality of a storage SOP class: "1.2.840.10008.5.1.4.1.1.2" or the dissector's
 * "1.2.840.10008.5.1.4.1.1.2 (CT Image Storage)" → "CT". From data/dicom-uids.json (PS3.6) and the
 * storage classes the knowledge base adds; undefined for non-storage or unknown classes.
 */
export function modalityOfSopClass(abstractSyntax: string): string | undefined {
  const uid = LEADING_UID.exec(abstractSyntax)?.[1];
  return uid === undefined ? undefined : sopModalities().get(uid);
}

// ---------------------------------------------------------------------------------------------
// Matching

interface Compiled {
  profile: DeviceProfile;
  /** Index of the profile, for "all of" bookkeeping. */
  index: number;
  condIndex: number;
  combined: boolean;
  /** The condition's pattern; compiled, with the text it needs, when a value of its attribute is first tested. */
  regex?: string;
  re?: RegExp;
  /** Text a value must contain (lower case) for `re` to match it (regex-literals.ts); null: none needed. */
  literals?: Literals | null;
}

class AttributeIndex {
  readonly exact = new Map<string, Compiled[]>();
  readonly prefix: { needle: string; c: Compiled }[] = [];
  readonly regex: Compiled[] = [];
  readonly sop = new Map<string, Compiled[]>();
}

interface Lookup {
  matches: ProfileMatch[];
  /** "All of" conditions this value meets: [profile index, condition index]. */
  partial: [number, number][];
}

const EMPTY: Lookup = { matches: [], partial: [] };
const MAX_VALUE = 1024;

export interface DeviceProfilesOptions {
  /** Distinct (attribute, value) results kept (in two generations; the older half dropped). Default 65,536. */
  cacheSize?: number;
  /** Patterns' literals already worked out (profileLiterals), by pattern source; the others are worked out at first use. */
  literals?: PreparedLiterals;
}

/** requiredLiterals of each pattern source (null where it knows none), as profileLiterals gives them. */
export type PreparedLiterals = Readonly<Record<string, readonly string[] | null>>;

/** The literals of every pattern of the profiles: what the build works out once for the shipped ones. */
export function profileLiterals(data: DeviceProfileData): Record<string, readonly string[] | null> {
  const out: Record<string, readonly string[] | null> = {};
  for (const p of data.profiles) for (const c of conditionsOf(p)) if (c.regex !== undefined) out[c.regex] = requiredLiterals(c.regex) ?? null;
  return out;
}

/**
 * The shipped profiles' literals, worked out when the bundle was built: scripts/build.mjs defines
 * this name as their profileLiterals (working them out at the first report cost ~15 ms of every
 * `vigil analyze`). Keyed by pattern source, so a profile added or edited since is worked out at
 * first use as before; absent when running from the sources.
 */
declare const __VIGIL_PROFILE_LITERALS__: PreparedLiterals | undefined;
const BUILT_LITERALS: PreparedLiterals | undefined = typeof __VIGIL_PROFILE_LITERALS__ === 'undefined' ? undefined : __VIGIL_PROFILE_LITERALS__;

export class DeviceProfiles {
  readonly profiles: readonly DeviceProfile[];
  private readonly index = new Map<string, AttributeIndex>();
  /** Results by attribute, then value (no key string built per lookup): this generation and the one before. */
  private cache = new Map<string, Map<string, Lookup>>();
  private older = new Map<string, Map<string, Lookup>>();
  private cached = 0;
  private readonly cacheSize: number;
  private readonly sop: Map<string, string>;
  /** Attributes some condition reads, directly or through a pseudo-attribute (hostname, dicom.ae_title). */
  private readonly read = new Set<string>();

  private readonly prepared: PreparedLiterals | undefined;

  constructor(data: DeviceProfileData, options: DeviceProfilesOptions = {}) {
    this.profiles = data.profiles;
    this.prepared = options.literals;
    this.cacheSize = Math.max(16, options.cacheSize ?? 65_536);
    this.sop = sopModalities(data);
    data.profiles.forEach((p, index) => {
      const combined = p.match.all !== undefined;
      conditionsOf(p).forEach((c, condIndex) => {
        const entry: Compiled = { profile: p, index, condIndex, combined };
        if (c.regex !== undefined) {
          entry.regex = c.regex;
        }
        for (const a of attributesOf(c)) {
          let ix = this.index.get(a);
          if (ix === undefined) this.index.set(a, (ix = new AttributeIndex()));
          if (c.equals !== undefined) push(ix.exact, c.equals.toLowerCase(), entry);
          else if (c.prefix !== undefined) ix.prefix.push({ needle: c.prefix.toLowerCase(), c: entry });
          else if (c.sopModality !== undefined) push(ix.sop, c.sopModality, entry);
          else ix.regex.push(entry);
        }
      });
    });
    for (const a of this.index.keys()) this.read.add(a);
    if (this.index.has('hostname')) for (const a of HOSTNAME_ATTRIBUTES) this.read.add(a);
    if (this.index.has('dicom.ae_title')) for (const a of AE_ATTRIBUTES) this.read.add(a);
  }

  /** The knowledge base as shipped (data/device-profiles.json), loaded once. */
  static load(): DeviceProfiles {
    return (shared ??= new DeviceProfiles(loadDeviceProfileData(), BUILT_LITERALS !== undefined ? { literals: BUILT_LITERALS } : {}));
  }

  /** The observation attributes some condition reads, directly or through a pseudo-attribute. */
  attributesRead(): string[] {
    return [...this.read];
  }

  /** Attributes (and pseudo-attributes) some profile has a condition on. */
  attributes(): string[] {
    return [...this.index.keys()].sort();
  }

  /**
   * Profiles (with "any of" conditions) that this one observation matches. Memoised: call it for
   * every distinct value. The returned array is the caller's; the match objects are shared, do not
   * mutate them.
   */
  match(attribute: string, value: string): ProfileMatch[] {
    const m = this.lookup(attribute, value).matches;
    return m.length === 0 ? [] : m.slice();
  }

  /**
   * Everything the knowledge base says about one device from all its observations: the "any of"
   * matches of every fact (each profile/attribute/value once) plus the "all of" profiles whose
   * every condition some fact meets.
   */
  matchAll(facts: Iterable<Fact>): ProfileMatch[] {
    const out: ProfileMatch[] = [];
    // Made at the first match: most devices' facts match nothing.
    let seen: Set<string> | undefined;
    let met: Map<number, Map<number, Fact>> | undefined;
    for (const f of facts) {
      const r = this.lookup(f.attribute, f.value);
      if (r === EMPTY) continue;
      for (const m of r.matches) {
        const key = `${m.profile}\u0000${m.attribute}\u0000${m.value}`;
        seen ??= new Set();
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(m);
      }
      for (const [p, c] of r.partial) {
        met ??= new Map();
        let conds = met.get(p);
        if (conds === undefined) met.set(p, (conds = new Map()));
        if (!conds.has(c)) conds.set(c, f);
      }
    }
    if (met !== undefined) {
      for (const [p, conds] of met) {
        const profile = this.profiles[p] as DeviceProfile;
        const need = conditionsOf(profile).length;
        if (conds.size < need) continue;
        const facts = [...conds.entries()].sort((a, b) => a[0] - b[0]).map(([, f]) => ({ attribute: f.attribute, value: f.value }));
        const m = buildMatch(profile, facts.map((f) => f.attribute).join(' + '), facts.map((f) => f.value).join(' + '), undefined);
        m.facts = facts;
        out.push(m);
      }
    }
    return out;
  }

  private lookup(attribute: string, rawValue: string): Lookup {
    // Most of a device's facts (DNS answers, TLS fingerprints, p0f signatures) are of attributes no
    // condition reads: nothing to match, nothing worth remembering.
    if (!this.read.has(attribute)) return EMPTY;
    // Two generations instead of a strict LRU: deleting from a Map leaves holes that make
    // "find the oldest" walk over them (quadratic under churn); swapping whole maps never deletes.
    let hit = this.cache.get(attribute)?.get(rawValue);
    if (hit === undefined) {
      hit = this.older.get(attribute)?.get(rawValue);
      if (hit === undefined) hit = this.compute(attribute, rawValue);
      if (this.cached >= this.cacheSize / 2) {
        this.older = this.cache;
        this.cache = new Map();
        this.cached = 0;
      }
      let byValue = this.cache.get(attribute);
      if (byValue === undefined) this.cache.set(attribute, (byValue = new Map()));
      byValue.set(rawValue, hit);
      this.cached++;
    }
    return hit;
  }

  private compute(attribute: string, rawValue: string): Lookup {
    const value = (rawValue.length > MAX_VALUE ? rawValue.slice(0, MAX_VALUE) : rawValue).trim();
    if (value === '') return EMPTY;
    let result: Lookup | undefined;
    const add = (c: Compiled, groups: RegExpExecArray | undefined): void => {
      result ??= { matches: [], partial: [] };
      if (c.combined) result.partial.push([c.index, c.condIndex]);
      else if (!result.matches.some((m) => m.profile === c.profile.id)) {
        const m = buildMatch(c.profile, attribute, value, groups);
        result.matches.push(m);
      }
    };
    this.scan(attribute, attribute === 'hostname' ? normaliseHostname(value) : value, add);
    if (HOSTNAME_ATTRIBUTES.has(attribute) && !PSEUDO.has(attribute)) {
      const name = normaliseHostname(value);
      if (name !== '') this.scan('hostname', name, add);
    }
    if (AE_ATTRIBUTES.has(attribute)) this.scan('dicom.ae_title', value, add);
    return result ?? EMPTY;
  }

  private literalsOf(source: string): Literals | null {
    const p = this.prepared;
    return p !== undefined && Object.hasOwn(p, source) ? (p[source] as readonly string[] | null) : (requiredLiterals(source) ?? null);
  }

  private scan(attribute: string, value: string, add: (c: Compiled, groups: RegExpExecArray | undefined) => void): void {
    const ix = this.index.get(attribute);
    if (ix === undefined) return;
    const lower = value.toLowerCase();
    const exact = ix.exact.get(lower);
    if (exact !== undefined) for (const c of exact) add(c, undefined);
    for (const { needle, c } of ix.prefix) if (lower.startsWith(needle)) add(c, undefined);
    // Most values (a hostname like "WS-0231") match none of the patterns: a pattern runs (and is
    // compiled, on its first run) only when the value holds text every match of it contains.
    for (const c of ix.regex) {
      // Worked out on first use: a capture tests the patterns of the few attributes it holds.
      if (c.literals === undefined) c.literals = this.literalsOf(c.regex as string);
      if (!mayMatch(c.literals ?? undefined, lower)) continue;
      c.re ??= new RegExp(c.regex as string, 'i');
      const g = c.re.exec(value);
      if (g !== null) add(c, g);
    }
    if (ix.sop.size > 0) {
      const uid = LEADING_UID.exec(value)?.[1];
      const modality = uid === undefined ? undefined : this.sop.get(uid);
      const list = modality === undefined ? undefined : ix.sop.get(modality);
      if (list !== undefined) for (const c of list) add(c, undefined);
    }
  }
}

let shared: DeviceProfiles | undefined;

/** The shipped knowledge base's matcher (loaded and indexed on first use). */
export function deviceProfiles(): DeviceProfiles {
  return DeviceProfiles.load();
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [v]);
  else l.push(v);
}

/** "$1 $2" with the regex groups; undefined when a group it needs did not take part in the match. */
function fill(template: string, groups: RegExpExecArray | undefined): string | undefined {
  if (!template.includes('$')) return template;
  if (groups === undefined) return undefined;
  let missing = false;
  const s = template.replace(TEMPLATE, (_, n: string) => {
    const g = groups[Number(n)];
    if (g === undefined || g === '') missing = true;
    return g ?? '';
  });
  const t = s.trim();
  return missing || t === '' ? undefined : t;
}

function buildMatch(p: DeviceProfile, attribute: string, value: string, groups: RegExpExecArray | undefined): ProfileMatch {
  const shown = value.length > 160 ? `${value.slice(0, 157)}…` : value;
  const m: ProfileMatch = { profile: p.id, confidence: p.confidence, rule: p.rule.replaceAll('{value}', shown), attribute, value, source: p.source };
  for (const k of CLAIMS) {
    const t = p[k];
    if (t === undefined) continue;
    const v = fill(t, groups);
    if (v !== undefined) m[k] = v;
  }
  if (p.category !== undefined) m.category = p.category;
  if (p.criticality !== undefined) m.criticality = p.criticality;
  if (p.typeConfidence !== undefined) m.typeConfidence = p.typeConfidence;
  return m;
}
