/**
 * The interpretable half of behaviour learning: what each device, and its peer group (devices of the
 * same type), normally talks to, learned over a learning period, and the departures from it after,
 * said in words a clinical engineer can check:
 *
 *   "CT scanner CT-AQ01 (Canon) opened SMB (tcp/445) to 10.60.1.15 — never seen for it or any of its
 *    3 peers (CT scanner)".
 *
 * The ledger records, per client address, the (server, service) edges it used — first time and
 * count, bounded per client — and which addresses were seen at all. Judgement comes at the end,
 * once the inventory has named the devices and their types:
 *  - learning period: the first 24 hours of the capture (configurable);
 *  - a service (port) a device uses after it, never used in learning by the device nor by any device
 *    of its peer group → alert ("new service");
 *  - a server no device of the group ever talked to, on a clinical protocol (DICOM, HL7, SMB), or on
 *    the Internet → alert ("new destination");
 *  - a device first seen after the learning period with no peer group → alert ("new device");
 *    with a peer group, it starts from the group's baseline instead.
 *  - what a device does with its protocols (usage.ts): a DICOM command or SOP class, an HL7 message
 *    type never used by the device nor its group → alert; a DNS domain neither resolved → an alert
 *    for devices whose group resolves few domains (appliances), else only evidence on the device's
 *    other alerts of that hour.
 * One alert per device and kind, listing what was new.
 */
import type { FlowRecord } from '../flow/flow.ts';
import { isInternalIp } from '../inventory/address.ts';
import type { Observation } from '../protocols/observation.ts';
import { dicomWords, hl7Words, noveltyKey, registrableDomain, usageOf, USAGE_KINDS, type UsageKind } from './usage.ts';

interface Edge {
  first: number;
  count: number;
  app?: string;
}

interface Client {
  first: number;
  edges: Map<string, Edge>;
  overflow: number;
}

/** What one address did with its protocols: per kind, each value with its first time; past the cap, counted. */
interface Usage {
  items: Record<UsageKind, Map<string, number>>;
  overflow: Record<UsageKind, number>;
}

const newUsage = (): Usage => ({
  items: { dns: new Map(), 'dicom-command': new Map(), 'dicom-sop': new Map(), hl7: new Map() },
  overflow: { dns: 0, 'dicom-command': 0, 'dicom-sop': 0, hl7: 0 },
});

/** One hour of one address's traffic (both as client and as server). */
interface HourVolume {
  /** Bytes it sent and received, packets both ways, connections it opened. */
  out: number;
  in: number;
  packets: number;
  conns: number;
  /** Bytes it sent per peer (at most PEERS_PER_HOUR peers; the rest are only in `out`). */
  peers: Map<string, number>;
}

export interface BaselineLimits {
  clients: number;
  edgesPerClient: number;
  /** Hours of volume kept per address (the oldest dropped): the history that later hours are judged against. */
  hoursPerAddress: number;
  /** Internal addresses whose volume (and protocol usage) is kept (the Internet's are peers, not devices). */
  volumeAddresses: number;
  /** DNS names kept per address (an office PC resolves hundreds a day; an appliance a handful). */
  namesPerAddress: number;
  /** DICOM commands, DICOM SOP classes, HL7 message types kept per address, each. */
  messagesPerAddress: number;
}

/** Peers kept per hour (the one an alert names is the top one), and for how many recent hours. */
const PEERS_PER_HOUR = 8;
const PEER_HOURS = 24;

/** The default learning period: one day, so shift changes and nightly jobs are part of normal. */
export const LEARN_SECONDS = 24 * 3600;

const DEFAULT_LIMITS: BaselineLimits = { clients: 200_000, edgesPerClient: 1024, hoursPerAddress: 14 * 24, volumeAddresses: 20_000, namesPerAddress: 256, messagesPerAddress: 64 };
/** DNS servers and the hospital's own domains: a few per site; bounded against a hostile capture. */
const MAX_RESOLVERS = 256;
const MAX_LOCAL_DOMAINS = 1024;

/** Services whose appearance between clinical devices is itself worth a look. */
const SENSITIVE_APPS = new Set(['dicom', 'hl7', 'smb']);
const SENSITIVE_PORTS = new Set([104, 11112, 2575, 445, 139, 3389, 22, 23, 5900]);

export class BaselineLedger {
  private readonly clients = new Map<string, Client>();
  /** Every address seen (as client or answering server), with its first time. */
  private readonly seen = new Map<string, number>();
  /** Per address, its hours (hour number → volume), oldest first. */
  private readonly volume = new Map<string, Map<number, HourVolume>>();
  /** Per internal address, what it did with its protocols (usage.ts). */
  private readonly usage = new Map<string, Usage>();
  /** Addresses that answer DNS: their queries are their clients', forwarded. */
  private readonly resolvers = new Set<string>();
  /** The hospital's own registrable domains: names there are destinations the flows already judge. */
  private readonly localDomains = new Set<string>();
  first = Infinity;
  last = -Infinity;
  dropped = 0;
  private readonly limits: BaselineLimits;

  constructor(limits: Partial<BaselineLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  flow(f: FlowRecord): void {
    if (f.start < this.first) this.first = f.start;
    if (f.end > this.last) this.last = f.end;
    this.see(f.clientIp, f.start);
    // Volume counts every flow, answered or not: a scan is many connections, an upload many bytes.
    const hour = Math.floor(f.start / 3600);
    this.addVolume(f.clientIp, hour, f.clientBytes, f.serverBytes, f.clientPackets + f.serverPackets, 1, f.serverIp);
    if (f.serverPackets > 0) this.addVolume(f.serverIp, hour, f.serverBytes, f.clientBytes, f.clientPackets + f.serverPackets, 0, f.clientIp);
    // Only conversations that happened: an unanswered probe is a scan's business, not a habit.
    if (f.serverPackets === 0) return;
    this.see(f.serverIp, f.start);
    let c = this.clients.get(f.clientIp);
    if (c === undefined) {
      if (this.clients.size >= this.limits.clients) {
        this.dropped++;
        return;
      }
      c = { first: f.start, edges: new Map(), overflow: 0 };
      this.clients.set(f.clientIp, c);
    }
    const key = `${f.serverIp}|${f.proto}/${f.serverPort}`;
    const e = c.edges.get(key);
    if (e !== undefined) {
      e.count++;
      if (f.start < e.first) e.first = f.start;
      return;
    }
    if (c.edges.size >= this.limits.edgesPerClient) {
      c.overflow++;
      return;
    }
    const edge: Edge = { first: f.start, count: 1 };
    if (f.app !== undefined) edge.app = f.app;
    c.edges.set(key, edge);
  }

  /**
   * An observation from the sensor (which reports each value once per address, at its first time):
   * a name resolved, a DICOM command or SOP class, an HL7 message type — the rest is ignored.
   */
  observation(o: Observation): void {
    const ip = o.ip;
    if (ip === undefined) return;
    const f = usageOf(o);
    if (f === undefined) return;
    if (f.kind === 'resolver') {
      if (this.resolvers.size < MAX_RESOLVERS) this.resolvers.add(ip);
    } else if (f.kind === 'local-domain') {
      if (this.localDomains.size < MAX_LOCAL_DOMAINS) this.localDomains.add(f.domain);
    } else this.use(ip, f.usage, f.value, o.time);
  }

  private use(ip: string, kind: UsageKind, value: string, t: number): void {
    let u = this.usage.get(ip);
    if (u === undefined) {
      if (this.usage.size >= this.limits.volumeAddresses || !isInternalIp(ip)) return;
      this.usage.set(ip, (u = newUsage()));
    }
    const m = u.items[kind];
    const f = m.get(value);
    if (f !== undefined) {
      if (t < f) m.set(value, t);
      return;
    }
    if (m.size >= (kind === 'dns' ? this.limits.namesPerAddress : this.limits.messagesPerAddress)) {
      u.overflow[kind]++;
      return;
    }
    m.set(value, t);
  }

  private addVolume(ip: string, hour: number, out: number, inb: number, packets: number, conns: number, peer: string): void {
    let hours = this.volume.get(ip);
    if (hours === undefined) {
      if (this.volume.size >= this.limits.volumeAddresses || !isInternalIp(ip)) return;
      this.volume.set(ip, (hours = new Map()));
    }
    let v = hours.get(hour);
    if (v === undefined) {
      hours.set(hour, (v = { out: 0, in: 0, packets: 0, conns: 0, peers: new Map() }));
      if (hours.size > this.limits.hoursPerAddress) {
        // Drop the oldest hour (flows arrive nearly in time order; the map keeps insertion order).
        let oldest = hour;
        for (const h of hours.keys()) if (h < oldest) oldest = h;
        hours.delete(oldest);
      }
      // Older hours serve as history (totals); only recent ones keep their peers for an alert's words.
      hours.get(hour - PEER_HOURS)?.peers.clear();
    }
    v.out += out;
    v.in += inb;
    v.packets += packets;
    v.conns += conns;
    if (out > 0) {
      const p = v.peers.get(peer);
      if (p !== undefined) v.peers.set(peer, p + out);
      else if (v.peers.size < PEERS_PER_HOUR) v.peers.set(peer, out);
    }
  }

  private see(ip: string, t: number): void {
    const s = this.seen.get(ip);
    if (s === undefined || t < s) {
      if (s === undefined && this.seen.size >= this.limits.clients * 2) return;
      this.seen.set(ip, t);
    }
  }

  /** Everything learnt, as plain data (JSON.stringify it as is); bounded by the limits. */
  toJSON(): BaselineSnapshot {
    return {
      kind: 'vigil.baseline',
      version: 2,
      limits: { ...this.limits },
      first: Number.isFinite(this.first) ? this.first : null,
      last: Number.isFinite(this.last) ? this.last : null,
      dropped: this.dropped,
      clients: [...this.clients].map(([ip, c]) => [ip, c.first, c.overflow, [...c.edges].map(([k, e]) => [k, e.first, e.count, e.app ?? null])]),
      seen: [...this.seen],
      volume: [...this.volume].map(([ip, hours]) => [ip, [...hours].map(([h, v]) => [h, v.out, v.in, v.packets, v.conns, [...v.peers]])]),
      usage: [...this.usage].map(([ip, u]) => [ip, USAGE_KINDS.flatMap((k) => [...u.items[k]].map(([v, t]): [UsageKind, string, number] => [k, v, t])), { ...u.overflow }]),
      resolvers: [...this.resolvers],
      localDomains: [...this.localDomains],
    };
  }

  /** The ledger a snapshot describes: it judges exactly as the one that wrote it. */
  static fromJSON(s: BaselineSnapshot | BaselineSnapshotV1): BaselineLedger {
    if (s.kind !== 'vigil.baseline' || (s.version !== 1 && s.version !== 2)) throw new Error(`not a baseline snapshot of a known version (${String(s.kind)} v${String(s.version)})`);
    // Version 1 knew no protocol usage: it reads as none learnt yet (and the default caps).
    const l = new BaselineLedger({ ...DEFAULT_LIMITS, ...s.limits });
    l.first = s.first ?? Infinity;
    l.last = s.last ?? -Infinity;
    l.dropped = s.dropped;
    for (const [ip, first, overflow, edges] of s.clients.slice(0, l.limits.clients)) {
      const c: Client = { first, overflow, edges: new Map() };
      for (const [k, f, count, app] of edges.slice(0, l.limits.edgesPerClient)) c.edges.set(k, app === null ? { first: f, count } : { first: f, count, app });
      l.clients.set(ip, c);
    }
    for (const [ip, t] of s.seen.slice(0, l.limits.clients * 2)) l.seen.set(ip, t);
    for (const [ip, hours] of s.volume.slice(0, l.limits.volumeAddresses)) {
      l.volume.set(ip, new Map(hours.slice(-l.limits.hoursPerAddress).map(([h, out, inb, packets, conns, peers]) => [h, { out, in: inb, packets, conns, peers: new Map(peers.slice(0, PEERS_PER_HOUR)) }])));
    }
    if (s.version === 2) {
      for (const [ip, items, overflow] of s.usage.slice(0, l.limits.volumeAddresses)) {
        const u = newUsage();
        for (const k of USAGE_KINDS) u.overflow[k] = overflow[k] ?? 0;
        for (const [k, v, t] of items) {
          const m = u.items[k];
          if (m === undefined) continue; // a kind this version does not know
          if (m.size < (k === 'dns' ? l.limits.namesPerAddress : l.limits.messagesPerAddress)) m.set(v, Math.min(t, m.get(v) ?? Infinity));
          else u.overflow[k]++;
        }
        l.usage.set(ip, u);
      }
      for (const ip of s.resolvers.slice(0, MAX_RESOLVERS)) l.resolvers.add(ip);
      for (const d of s.localDomains.slice(0, MAX_LOCAL_DOMAINS)) l.localDomains.add(d);
    }
    return l;
  }

  /** @internal for the detector */
  view(): {
    clients: ReadonlyMap<string, Client>;
    seen: ReadonlyMap<string, number>;
    volume: ReadonlyMap<string, ReadonlyMap<number, HourVolume>>;
    usage: ReadonlyMap<string, Usage>;
    resolvers: ReadonlySet<string>;
    localDomains: ReadonlySet<string>;
  } {
    return { clients: this.clients, seen: this.seen, volume: this.volume, usage: this.usage, resolvers: this.resolvers, localDomains: this.localDomains };
  }
}

/**
 * A BaselineLedger as plain data. Per address: its edges [server|proto/port, first, count, app],
 * when it was first seen, and its hours [hour number, bytes out, bytes in, packets, connections,
 * [peer, bytes sent]…], its protocol usage [kind, value, first time] with what was past the caps;
 * and which addresses answer DNS, which domains are the hospital's own. Bounded: ≤ clients ×
 * edgesPerClient edges, ≤ volumeAddresses × hoursPerAddress hours, 8 peers in each of the last 24,
 * ≤ volumeAddresses × (namesPerAddress + 3 × messagesPerAddress) usages.
 */
export interface BaselineSnapshot {
  kind: 'vigil.baseline';
  version: 2;
  limits: BaselineLimits;
  first: number | null;
  last: number | null;
  dropped: number;
  clients: Array<[ip: string, first: number, overflow: number, edges: Array<[key: string, first: number, count: number, app: string | null]>]>;
  seen: Array<[ip: string, first: number]>;
  volume: Array<[ip: string, hours: Array<[hour: number, out: number, bytesIn: number, packets: number, conns: number, peers: Array<[peer: string, bytes: number]>]>]>;
  usage: Array<[ip: string, items: Array<[kind: UsageKind, value: string, first: number]>, overflow: Record<UsageKind, number>]>;
  resolvers: string[];
  localDomains: string[];
}

/** A snapshot written before protocol usage was learnt: read as one with none (and the default caps). */
export type BaselineSnapshotV1 = Omit<BaselineSnapshot, 'version' | 'limits' | 'usage' | 'resolvers' | 'localDomains'> & {
  version: 1;
  limits: Omit<BaselineLimits, 'namesPerAddress' | 'messagesPerAddress'> & Partial<BaselineLimits>;
};

/** What the detector needs to know of a device (from the inventory). */
export interface BaselineDevice {
  id: string;
  ips: readonly string[];
  name: string;
  /** The peer group: devices of the same type; '' when the type is unknown (no group to lean on). */
  group: string;
}

export interface BaselineAlert {
  kind: 'new-service' | 'new-destination' | 'new-device' | 'volume' | 'new-dicom' | 'new-hl7' | 'new-dns';
  device: string;
  time: number;
  /** What was new: "tcp/445 (smb) to 10.60.1.15". */
  what: string[];
  /** When each `what` happened. */
  times: number[];
  text: string;
  /** The online model's view of the same minutes, when it saw them as anomalous too (see combine.ts). */
  model?: { score: number; threshold: number; from: number; time: number; words: string[] };
  /** Addresses whose minute the model found anomalous because of this device (the servers a scanner probed). */
  reached?: string[];
  /** DNS names under domains new for the device and its group, resolved within the hour of what this alert saw. */
  resolved?: string[];
}

export interface BaselineOptions {
  learnSeconds?: number;
}

function split(key: string): { server: string; service: string; port: number } {
  const bar = key.lastIndexOf('|');
  const service = key.slice(bar + 1);
  return { server: key.slice(0, bar), service, port: Number(service.slice(service.indexOf('/') + 1)) };
}

export function detectBaselineDeviations(ledger: BaselineLedger, devices: readonly BaselineDevice[], o: BaselineOptions = {}): BaselineAlert[] {
  if (!Number.isFinite(ledger.first)) return [];
  // A day has a rhythm (shift changes, nightly backups): learn a whole one unless told otherwise.
  const learnEnd = ledger.first + (o.learnSeconds ?? LEARN_SECONDS);
  const { clients, seen, volume } = ledger.view();
  const byIp = new Map<string, BaselineDevice>();
  for (const d of devices) for (const ip of d.ips) byIp.set(ip, d);
  const groupSize = new Map<string, number>();
  for (const d of devices) groupSize.set(d.group, (groupSize.get(d.group) ?? 0) + 1);

  // Baselines: per device and per group, the services and servers of the learning period.
  const devServices = new Map<string, Set<string>>();
  const devEdges = new Map<string, Set<string>>();
  const groupServices = new Map<string, Set<string>>();
  const groupServers = new Map<string, Set<string>>();
  /** (server, service) pairs of the group: SMB to the file server is habit, SMB to a building controller is not. */
  const groupEdges = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, k: string, v: string) => {
    let s = m.get(k);
    if (s === undefined) m.set(k, (s = new Set()));
    s.add(v);
  };
  for (const [ip, c] of clients) {
    const d = byIp.get(ip);
    if (d === undefined) continue;
    for (const [key, e] of c.edges) {
      if (e.first >= learnEnd) continue;
      const { server, service } = split(key);
      add(devServices, d.id, service);
      add(devEdges, d.id, key);
      if (d.group === '') continue;
      add(groupServices, d.group, service);
      add(groupServers, d.group, server);
      add(groupEdges, d.group, key);
    }
  }

  const alerts = new Map<string, BaselineAlert>();
  const raise = (kind: BaselineAlert['kind'], d: BaselineDevice, time: number, what: string) => {
    const k = `${kind}|${d.id}`;
    let a = alerts.get(k);
    if (a === undefined) alerts.set(k, (a = { kind, device: d.id, time, what: [], times: [], text: '' }));
    if (time < a.time) a.time = time;
    if (a.what.length < 12 && !a.what.includes(what)) {
      a.what.push(what);
      a.times.push(time);
    }
  };

  for (const d of devices) {
    const firstSeen = Math.min(...d.ips.map((ip) => seen.get(ip) ?? Infinity));
    if (firstSeen >= learnEnd && Number.isFinite(firstSeen) && (d.group === '' || (groupSize.get(d.group) ?? 0) <= 1)) {
      raise('new-device', d, firstSeen, `first seen ${new Date(firstSeen * 1000).toISOString()}`);
    }
  }
  for (const [ip, c] of clients) {
    const d = byIp.get(ip);
    if (d === undefined) continue;
    const mine = devServices.get(d.id);
    // No type, no group: the device is compared with its own history only.
    const group = d.group === '' ? mine : groupServices.get(d.group);
    const servers = d.group === '' ? new Set([...(devEdges.get(d.id) ?? [])].map((k) => split(k).server)) : groupServers.get(d.group);
    const edges = d.group === '' ? devEdges.get(d.id) : groupEdges.get(d.group);
    // A device seen while learning that opened no connection then (a server that only answers) has
    // learnt just that: whatever it opens after is new for it.
    const seenLearning = Math.min(...d.ips.map((x) => seen.get(x) ?? Infinity)) < learnEnd;
    const learned = mine !== undefined || (d.group !== '' && group !== undefined) || seenLearning;
    if (!learned) continue; // nothing to compare with: a new device, reported as such above
    for (const [key, e] of c.edges) {
      if (e.first < learnEnd) continue;
      const { server, service, port } = split(key);
      const label = `${service}${e.app !== undefined ? ` (${e.app})` : ''} to ${byIp.get(server)?.name ?? server}`;
      if (!(mine?.has(service) ?? false) && !(group?.has(service) ?? false)) {
        // A lease renewed with the hospital's DHCP server is routine, however long after learning the
        // first renewal falls: before it, the device's DHCP came from 0.0.0.0 to the broadcast
        // address, so learning never saw udp/67 as a service of its own address. A rogue DHCP
        // server is the server side's business.
        if (service === 'udp/67' && isInternalIp(server)) continue;
        raise('new-service', d, e.first, label);
        continue;
      }
      const sensitive = (e.app !== undefined && SENSITIVE_APPS.has(e.app)) || SENSITIVE_PORTS.has(port);
      const known = sensitive ? (edges?.has(key) ?? false) : (servers?.has(server) ?? false);
      if (!known && (sensitive || !isInternalIp(server))) raise('new-destination', d, e.first, label);
    }
  }

  const usageNews = detectUsage(ledger, devices, learnEnd, groupSize, raise);

  detectVolume(devices, volume, learnEnd, byIp, raise);

  // DNS novelty is evidence for the device's other alerts of that hour (a name resolved, then a new
  // destination); alone, it is an alert only for appliances (see detectUsage).
  // (Indexed by device: an office PC may bring hundreds of new names, a hospital thousands of PCs.)
  const byDevice = new Map<string, BaselineAlert[]>();
  for (const a of alerts.values()) {
    if (a.kind === 'new-device') continue;
    const l = byDevice.get(a.device);
    if (l === undefined) byDevice.set(a.device, [a]);
    else l.push(a);
  }
  for (const n of usageNews.dns) {
    const near = (byDevice.get(n.device.id) ?? []).filter((a) => a.times.some((t) => Math.abs(t - n.time) <= 3600));
    for (const a of near) {
      a.resolved ??= [];
      if (a.resolved.length < 8 && !a.resolved.includes(n.name)) a.resolved.push(n.name);
    }
    if (near.length === 0 && n.alone) raise('new-dns', n.device, n.time, n.name);
  }

  const out = [...alerts.values()];
  const nameOf = new Map(devices.map((d) => [d.id, d]));
  for (const a of out) {
    const d = nameOf.get(a.device) as BaselineDevice;
    const peers = d.group === '' ? 0 : (groupSize.get(d.group) ?? 1) - 1;
    const who = `${d.name} (${d.group === '' ? 'type unknown' : d.group})`;
    const never = peers > 0 ? `never seen for it or any of its ${peers} peer${peers === 1 ? '' : 's'} (${d.group})` : 'never seen for it';
    if (a.kind === 'new-service') a.text = `${who} used a service ${never} in the learning period: ${a.what.join('; ')}`;
    else if (a.kind === 'new-destination') a.text = `${who} talked to a destination ${d.group === '' ? 'it never talked to' : `no ${d.group} talked to`} in the learning period: ${a.what.join('; ')}`;
    else if (a.kind === 'volume') a.text = `${who} ${a.what.join('; ')}`;
    else if (a.kind === 'new-dicom') a.text = `${who} ${a.what.join('; ')} — never used by it${peers > 0 ? ` or any of its ${peers} peer${peers === 1 ? '' : 's'}` : ''} in the learning period (${usageNews.known.get(`dicom|${d.id}`) ?? ''})`;
    else if (a.kind === 'new-hl7') a.text = `${who} sent HL7 ${a.what.join(', ')} — never sent by it${peers > 0 ? ` or any of its ${peers} peer${peers === 1 ? '' : 's'}` : ''} in the learning period (${usageNews.known.get(`hl7|${d.id}`) ?? ''})`;
    else if (a.kind === 'new-dns') {
      const domains = [...new Set(a.what.map((w) => registrableDomain(w.split(' ', 1)[0] ?? w)))];
      const under = `a name under ${domains.join(', ')}`;
      a.text = `${who} resolved ${a.what.join(', ')} — ${peers === 0 ? `it never resolved ${under}` : `no ${d.group} resolved ${under}`} while learning (${usageNews.known.get(`dns|${d.id}`) ?? ''})`;
    } else a.text = `${who} appeared after the learning period, with no peer group to compare it with (${a.what.join('; ')})`;
    if (a.resolved !== undefined) a.text += ` — within the hour it resolved ${a.resolved.join(', ')}, under a domain new for it${peers > 0 ? ` and any ${d.group}` : ''}`;
  }
  return out.sort((x, y) => x.time - y.time);
}

// ---- protocol usage: DNS names, DICOM, HL7 -------------------------------------------------------

/** Devices of a group sharing one novelty that is told once, on the first of them: a fleet's update, not N stories. */
const FLEET = 3;
/**
 * A group that resolved at most this many registrable domains while learning behaves like an
 * appliance (a pump phoning its vendor): a new domain is news. A group that resolves more (office
 * PCs browsing, OS updates through CDNs) would raise one false alert a day per device; there a new
 * domain only adds evidence to the device's other alerts of the hour.
 */
const APPLIANCE_DOMAINS = 16;

interface DnsNews {
  device: BaselineDevice;
  time: number;
  name: string;
  /** An alert of its own when nothing else of the hour carries it (the device's group is an appliance). */
  alone: boolean;
}

interface UsageNews {
  dns: DnsNews[];
  /** What the device (or its group) did use while learning, in words, per "dicom|id", "hl7|id", "dns|id". */
  known: Map<string, string>;
}

type UsageSets = Record<UsageKind, Set<string>>;
const emptySets = (): UsageSets => ({ dns: new Set(), 'dicom-command': new Set(), 'dicom-sop': new Set(), hl7: new Set() });
const list = (xs: Iterable<string>, n = 6): string => {
  const a = [...xs];
  return a.length > n ? `${a.slice(0, n).join(', ')} …` : a.join(', ');
};

/**
 * Learns per device (its addresses merged) and per group (its members' union) the protocol usages of
 * the learning period, by their novelty keys (usage.ts); then raises what a device used after it that
 * neither it nor its group used: DICOM and HL7 at once, DNS returned for the caller to attach to the
 * hour's other alerts or raise alone. Only devices with a baseline (seen while learning, or of a group
 * that was) are judged — a newcomer with no group is the new-device alert's.
 */
function detectUsage(
  ledger: BaselineLedger,
  devices: readonly BaselineDevice[],
  learnEnd: number,
  groupSize: ReadonlyMap<string, number>,
  raise: (kind: BaselineAlert['kind'], d: BaselineDevice, time: number, what: string) => void,
): UsageNews {
  const { usage, seen, resolvers, localDomains } = ledger.view();
  const merged = new Map<string, Record<UsageKind, ReadonlyMap<string, number>>>();
  /** Per device, what it used after learning, with its novelty key: [kind, value, key, first time]. */
  const later = new Map<string, Array<[UsageKind, string, string, number]>>();
  const own = new Map<string, UsageSets>();
  const group = new Map<string, UsageSets>();
  const overflow = new Map<string, number>();
  const firstSeen = new Map<string, number>();
  const domains = new Map<string, string>();
  const none: Record<UsageKind, ReadonlyMap<string, number>> = { dns: new Map(), 'dicom-command': new Map(), 'dicom-sop': new Map(), hl7: new Map() };
  for (const d of devices) {
    let m: Record<UsageKind, ReadonlyMap<string, number>>;
    let names = 0;
    const mine = d.ips.flatMap((ip) => usage.get(ip) ?? []);
    if (mine.length <= 1) {
      // One address (nearly every device): its maps as they are, no copy.
      m = mine[0]?.items ?? none;
      names = mine[0]?.overflow.dns ?? 0;
    } else {
      const mm: Record<UsageKind, Map<string, number>> = { dns: new Map(), 'dicom-command': new Map(), 'dicom-sop': new Map(), hl7: new Map() };
      for (const u of mine) {
        names += u.overflow.dns;
        for (const k of USAGE_KINDS) for (const [v, t] of u.items[k]) if (t < (mm[k].get(v) ?? Infinity)) mm[k].set(v, t);
      }
      m = mm;
    }
    // A DNS server's queries are its clients', forwarded: not its habits.
    if (d.ips.some((ip) => resolvers.has(ip))) m = { ...m, dns: none.dns };
    merged.set(d.id, m);
    overflow.set(d.id, names);
    firstSeen.set(d.id, Math.min(...d.ips.map((ip) => seen.get(ip) ?? Infinity)));
    const sets = emptySets();
    const g = d.group === '' ? undefined : (group.get(d.group) ?? emptySets());
    if (g !== undefined) group.set(d.group, g);
    const after: Array<[UsageKind, string, string, number]> = [];
    for (const k of USAGE_KINDS) {
      for (const [v, t] of m[k]) {
        // Devices share most names: each name's domain is worked out once per judgement.
        let key: string | undefined;
        if (k === 'dns') {
          key = domains.get(v);
          if (key === undefined) domains.set(v, (key = noveltyKey(k, v) as string));
        } else key = noveltyKey(k, v);
        if (key === undefined || (k === 'dns' && localDomains.has(key))) continue;
        if (t >= learnEnd) after.push([k, v, key, t]);
        else {
          sets[k].add(key);
          g?.[k].add(key);
        }
      }
    }
    own.set(d.id, sets);
    if (after.length > 0) later.set(d.id, after);
  }
  const groupKnown = new Set(devices.filter((d) => d.group !== '' && (firstSeen.get(d.id) ?? Infinity) < learnEnd).map((d) => d.group));

  // What is new for a device and its group.
  interface News {
    d: BaselineDevice;
    kind: UsageKind;
    value: string;
    key: string;
    time: number;
  }
  const news: News[] = [];
  for (const d of devices) {
    if (!((firstSeen.get(d.id) ?? Infinity) < learnEnd || (d.group !== '' && groupKnown.has(d.group)))) continue;
    const mine = own.get(d.id)!;
    const theirs = d.group === '' ? undefined : group.get(d.group);
    for (const [kind, value, key, time] of later.get(d.id) ?? []) {
      if (mine[kind].has(key) || (theirs?.[kind].has(key) ?? false)) continue;
      news.push({ d, kind, value, key, time });
    }
  }
  news.sort((a, b) => a.time - b.time || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  // A novelty shared by a fleet is told once, on its first device, with how many others followed.
  const fleet = new Map<string, { first: BaselineDevice; ids: Set<string> }>();
  const fleetKey = (n: News): string => `${n.d.group}|${n.kind}|${n.key}`;
  for (const n of news) {
    if (n.d.group === '') continue;
    const k = fleetKey(n);
    const f = fleet.get(k);
    if (f === undefined) fleet.set(k, { first: n.d, ids: new Set([n.d.id]) });
    else f.ids.add(n.d.id);
  }
  const out: UsageNews = { dns: [], known: new Map() };
  for (const n of news) {
    const f = n.d.group === '' ? undefined : fleet.get(fleetKey(n));
    const size = f?.ids.size ?? 1;
    if (size >= FLEET && f?.first !== n.d) continue;
    const others = size >= FLEET ? ` (and ${size - 1} other ${n.d.group}s since)` : '';
    if (n.kind === 'dns') {
      const vocabulary = (n.d.group === '' ? own.get(n.d.id)! : group.get(n.d.group)!).dns.size;
      out.dns.push({ device: n.d, time: n.time, name: `${n.value}${others}`, alone: vocabulary <= APPLIANCE_DOMAINS });
    } else if (n.kind === 'hl7') raise('new-hl7', n.d, n.time, `${hl7Words(n.value)}${others}`);
    else raise('new-dicom', n.d, n.time, `${dicomWords(n.kind, n.value)}${others}`);
  }

  // What was known, for the alerts' words: the device's own, else its group's.
  for (const d of devices) {
    const m = merged.get(d.id)!;
    const learnt = (k: UsageKind): string[] => [...m[k]].filter(([, t]) => t < learnEnd).map(([v]) => v);
    const theirs = d.group === '' ? undefined : group.get(d.group);
    const peers = d.group === '' ? 0 : (groupSize.get(d.group) ?? 1) - 1;
    const cmds = [...new Set(learnt('dicom-command').map((c) => c.replace(/-(RQ|RSP)$/, '')))];
    const groupCmds = [...new Set([...(theirs?.['dicom-command'] ?? [])].map((c) => c.replace(/-(RQ|RSP)$/, '')))];
    out.known.set(`dicom|${d.id}`, cmds.length > 0 ? `it used ${list(cmds)}` : peers > 0 && groupCmds.length > 0 ? `it used no DICOM; its group used ${list(groupCmds)}` : 'it used no DICOM');
    const types = learnt('hl7');
    const groupCodes = [...(theirs?.hl7 ?? [])];
    out.known.set(`hl7|${d.id}`, types.length > 0 ? `it sent ${list(types)}` : peers > 0 && groupCodes.length > 0 ? `it sent no HL7; its group sent ${list(groupCodes)} messages` : 'it sent no HL7');
    const domains = [...own.get(d.id)!.dns];
    const groupDomains = [...(theirs?.dns ?? [])];
    const past = (overflow.get(d.id) ?? 0) > 0 ? `; ${(overflow.get(d.id) ?? 0).toLocaleString('en')} more names were past the limit kept per address` : '';
    out.known.set(
      `dns|${d.id}`,
      `${domains.length > 0 ? `it resolved names under ${list(domains)}` : peers > 0 && groupDomains.length > 0 ? `it resolved none; its group resolved names under ${list(groupDomains)}` : 'it resolved none'}${past}`,
    );
  }
  return out;
}

// ---- volume per hour, and its time of day -------------------------------------------------------

/** Hours of a device's own history before its own distribution is trusted (else: its group's). */
const MIN_HOURS = 12;
/** Below these an hour is never remarkable, whatever the history: a quiet pump's 2 MB is not news. */
const FLOOR = { out: 50e6, conns: 500 };

interface Stats {
  busiest: number;
  median: number;
  mad: number;
}

function stats(values: number[]): Stats {
  const v = [...values].sort((a, b) => a - b);
  const med = (a: number[]): number => (a.length === 0 ? 0 : a.length % 2 === 1 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2);
  const median = med(v);
  return { busiest: v[v.length - 1] ?? 0, median, mad: med(v.map((x) => Math.abs(x - median)).sort((a, b) => a - b)) };
}

export function formatBytes(b: number): string {
  if (b >= 1e9) return `${(b / 1e9).toFixed(1)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(b >= 1e8 ? 0 : 1)} MB`;
  if (b >= 1e3) return `${Math.round(b / 1e3)} kB`;
  return `${Math.round(b)} bytes`;
}

const hh = (h: number): string => `${String(((h % 24) + 24) % 24).padStart(2, '0')}:00`;

/**
 * Bytes sent and connections opened per device and hour, against the device's own earlier hours —
 * its learning period, then every later hour that raised nothing (so the baseline follows slow drift;
 * at most `hoursPerAddress` hours are kept) — or, for a device with too little history (one first
 * seen after learning), against its peer group's learning hours. An hour is remarkable above
 *   max(4 × the busiest earlier hour, median + 10 robust deviations (1.4826 × MAD), a floor),
 * and above 2 × the busiest when the device was quiet at that time of day before (a transfer at 03:00
 * from a device that never works at night). Remarkable hours never join the history.
 */
function detectVolume(
  devices: readonly BaselineDevice[],
  volume: ReadonlyMap<string, ReadonlyMap<number, HourVolume>>,
  learnEnd: number,
  byIp: ReadonlyMap<string, BaselineDevice>,
  raise: (kind: BaselineAlert['kind'], d: BaselineDevice, time: number, what: string) => void,
): void {
  const merged = new Map<string, Map<number, HourVolume>>();
  for (const d of devices) {
    const m = new Map<number, HourVolume>();
    for (const ip of d.ips) {
      for (const [h, v] of volume.get(ip) ?? []) {
        const x = m.get(h);
        if (x === undefined) m.set(h, { out: v.out, in: v.in, packets: v.packets, conns: v.conns, peers: new Map(v.peers) });
        else {
          x.out += v.out;
          x.in += v.in;
          x.packets += v.packets;
          x.conns += v.conns;
          for (const [p, b] of v.peers) x.peers.set(p, (x.peers.get(p) ?? 0) + b);
        }
      }
    }
    merged.set(d.id, m);
  }
  // The peer group's learning hours, pooled.
  const learnHour = (h: number): boolean => (h + 1) * 3600 <= learnEnd;
  const group = new Map<string, { out: number[]; conns: number[] }>();
  for (const d of devices) {
    if (d.group === '') continue;
    let g = group.get(d.group);
    if (g === undefined) group.set(d.group, (g = { out: [], conns: [] }));
    for (const [h, v] of merged.get(d.id)!) {
      if (!learnHour(h)) continue;
      g.out.push(v.out);
      g.conns.push(v.conns);
    }
  }
  const groupStats = new Map([...group].map(([k, g]) => [k, { out: stats(g.out), conns: stats(g.conns), hours: g.out.length }]));

  for (const d of devices) {
    const hours = [...merged.get(d.id)!].sort((a, b) => a[0] - b[0]);
    const hist: Array<{ h: number; out: number; conns: number }> = [];
    for (const [h, v] of hours) {
      if (h * 3600 < learnEnd) {
        hist.push({ h, out: v.out, conns: v.conns });
        continue;
      }
      let remarkable = false;
      for (const metric of ['out', 'conns'] as const) {
        const value = v[metric];
        if (value <= FLOOR[metric]) continue;
        const own = hist.length >= MIN_HOURS;
        const gs = groupStats.get(d.group);
        if (!own && (gs === undefined || gs.hours < MIN_HOURS)) continue; // nothing to compare with: the new-device alert's business
        const st = own ? stats(hist.map((x) => x[metric])) : gs![metric];
        const sameHour = hist.filter((x) => (x.h - h) % 24 === 0);
        const quiet = own && sameHour.length > 0 && Math.max(...sameHour.map((x) => x[metric])) < 0.1 * st.busiest;
        const limit = Math.max((quiet ? 2 : 4) * st.busiest, st.median + 10 * 1.4826 * st.mad, FLOOR[metric]);
        if (value <= limit) continue;
        remarkable = true;
        const basis = own
          ? `its busiest hour before was ${metric === 'out' ? formatBytes(st.busiest) : `${st.busiest} connections`}${quiet ? `, and at this time of day it had never passed ${metric === 'out' ? formatBytes(Math.max(...sameHour.map((x) => x.out))) : `${Math.max(...sameHour.map((x) => x.conns))} connections`}` : ''}`
          : `the busiest hour of any ${d.group} in the learning period was ${metric === 'out' ? formatBytes(st.busiest) : `${st.busiest} connections`} (it has no history of its own yet)`;
        const span = `between ${hh(h)} and ${hh(h + 1)} UTC`;
        if (metric === 'out') {
          const top = [...v.peers].sort((a, b) => b[1] - a[1])[0];
          const to = top !== undefined && top[1] >= value / 2 ? ` to ${byIp.get(top[0])?.name ?? top[0]}` : '';
          raise('volume', d, h * 3600, `sent ${formatBytes(value)}${to} ${span}; ${basis}`);
        } else raise('volume', d, h * 3600, `opened ${value.toLocaleString('en')} connections ${span}; ${basis}`);
      }
      if (!remarkable) hist.push({ h, out: v.out, conns: v.conns });
    }
  }
}

// ---- persistence per device -----------------------------------------------------------------------

/** One stored piece of a ledger: a device's addresses ("device:<id>"), or the rest ("baseline:rest"). */
export interface BaselinePart {
  subject: string;
  kind: 'baseline';
  data: BaselineSnapshot;
}

/**
 * The ledger cut into pieces a store can keep per device: each device's addresses (edges, first
 * sighting, hours) under "device:<id>", and every other address with the capture span under
 * "baseline:rest". A peer group's baseline is its members' learning period, so it is rebuilt from
 * their pieces at judgement: a device first seen after a restart still starts from its group's.
 */
export function baselineParts(ledger: BaselineLedger, devices: ReadonlyArray<{ id: string; ips: readonly string[] }>): BaselinePart[] {
  const all = ledger.toJSON();
  const owner = new Map<string, string>();
  for (const d of devices) for (const ip of d.ips) owner.set(ip, `device:${d.id}`);
  const parts = new Map<string, BaselineSnapshot>();
  const part = (ip: string): BaselineSnapshot => {
    const subject = owner.get(ip) ?? 'baseline:rest';
    let p = parts.get(subject);
    if (p === undefined) parts.set(subject, (p = { ...all, first: null, last: null, dropped: 0, clients: [], seen: [], volume: [], usage: [], resolvers: [], localDomains: [] }));
    return p;
  };
  const rest = part('');
  rest.first = all.first;
  rest.last = all.last;
  rest.dropped = all.dropped;
  // Which addresses answer DNS and the hospital's domains are the site's, not a device's.
  rest.resolvers = all.resolvers;
  rest.localDomains = all.localDomains;
  for (const c of all.clients) part(c[0]).clients.push(c);
  for (const s of all.seen) part(s[0]).seen.push(s);
  for (const v of all.volume) part(v[0]).volume.push(v);
  for (const u of all.usage) part(u[0]).usage.push(u);
  return [...parts].map(([subject, data]) => ({ subject, kind: 'baseline', data }));
}

/**
 * One ledger from stored pieces (see `baselineParts`); the first piece's limits apply. An address
 * may be in two pieces (a device renamed, a stale piece left in the store): its copies are merged
 * idempotently — edges united (earliest first time, largest count), the earliest sighting, per hour
 * the fuller copy — so a piece read twice changes nothing.
 */
export function mergeBaselineParts(parts: ReadonlyArray<BaselineSnapshot | BaselineSnapshotV1>): BaselineLedger {
  const first = parts[0];
  if (first === undefined) return new BaselineLedger();
  const lo = parts.map((p) => p.first).filter((x): x is number => x !== null);
  const hi = parts.map((p) => p.last).filter((x): x is number => x !== null);
  type C = BaselineSnapshot['clients'][number];
  // (Pieces of version 1 carry no protocol usage: they merge as none.)
  type E = C[3][number];
  type V = BaselineSnapshot['volume'][number];
  type Hr = V[1][number];
  const clients = new Map<string, { first: number; overflow: number; edges: Map<string, E> }>();
  const seen = new Map<string, number>();
  const volume = new Map<string, Map<number, Hr>>();
  /** Per address and "kind|value", the earliest first time; per address and kind, the largest overflow. */
  const usage = new Map<string, { items: Map<string, [UsageKind, string, number]>; overflow: Record<UsageKind, number> }>();
  const resolvers = new Set<string>();
  const localDomains = new Set<string>();
  for (const p of parts) {
    if (p.version === 2) {
      for (const [ip, items, overflow] of p.usage) {
        let u = usage.get(ip);
        if (u === undefined) usage.set(ip, (u = { items: new Map(), overflow: { dns: 0, 'dicom-command': 0, 'dicom-sop': 0, hl7: 0 } }));
        for (const k of USAGE_KINDS) u.overflow[k] = Math.max(u.overflow[k], overflow[k] ?? 0);
        for (const [k, v, t] of items) {
          const o = u.items.get(`${k}|${v}`);
          if (o === undefined || t < o[2]) u.items.set(`${k}|${v}`, [k, v, t]);
        }
      }
      for (const ip of p.resolvers) resolvers.add(ip);
      for (const d of p.localDomains) localDomains.add(d);
    }
    for (const [ip, f, overflow, edges] of p.clients) {
      let c = clients.get(ip);
      if (c === undefined) clients.set(ip, (c = { first: f, overflow, edges: new Map() }));
      c.first = Math.min(c.first, f);
      c.overflow = Math.max(c.overflow, overflow);
      for (const e of edges) {
        const o = c.edges.get(e[0]);
        c.edges.set(e[0], o === undefined ? e : [e[0], Math.min(o[1], e[1]), Math.max(o[2], e[2]), o[3] ?? e[3]]);
      }
    }
    for (const [ip, t] of p.seen) seen.set(ip, Math.min(seen.get(ip) ?? Infinity, t));
    for (const [ip, hours] of p.volume) {
      let m = volume.get(ip);
      if (m === undefined) volume.set(ip, (m = new Map()));
      for (const h of hours) {
        const o = m.get(h[0]);
        if (o === undefined || h[1] + h[2] + h[4] > o[1] + o[2] + o[4]) m.set(h[0], h);
      }
    }
  }
  return BaselineLedger.fromJSON({
    ...first,
    version: 2,
    limits: { ...DEFAULT_LIMITS, ...first.limits },
    usage: [...usage].map(([ip, u]) => [ip, [...u.items.values()], u.overflow]),
    resolvers: [...resolvers],
    localDomains: [...localDomains],
    first: lo.length > 0 ? Math.min(...lo) : null,
    last: hi.length > 0 ? Math.max(...hi) : null,
    dropped: Math.max(...parts.map((p) => p.dropped)),
    clients: [...clients].map(([ip, c]): C => [ip, c.first, c.overflow, [...c.edges.values()]]),
    seen: [...seen],
    volume: [...volume].map(([ip, m]): V => [ip, [...m.values()].sort((x, y) => x[0] - y[0])]),
  });
}
