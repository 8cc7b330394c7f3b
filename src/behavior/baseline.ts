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
 * One alert per device and kind, listing what was new.
 */
import type { FlowRecord } from '../flow/flow.ts';
import { isInternalIp } from '../inventory/address.ts';

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
  /** Internal addresses whose volume is kept (the Internet's are peers, not devices). */
  volumeAddresses: number;
}

/** Peers kept per hour (the one an alert names is the top one), and for how many recent hours. */
const PEERS_PER_HOUR = 8;
const PEER_HOURS = 24;

/** The default learning period: one day, so shift changes and nightly jobs are part of normal. */
export const LEARN_SECONDS = 24 * 3600;

const DEFAULT_LIMITS: BaselineLimits = { clients: 200_000, edgesPerClient: 1024, hoursPerAddress: 14 * 24, volumeAddresses: 20_000 };

/** Services whose appearance between clinical devices is itself worth a look. */
const SENSITIVE_APPS = new Set(['dicom', 'hl7', 'smb']);
const SENSITIVE_PORTS = new Set([104, 11112, 2575, 445, 139, 3389, 22, 23, 5900]);

export class BaselineLedger {
  private readonly clients = new Map<string, Client>();
  /** Every address seen (as client or answering server), with its first time. */
  private readonly seen = new Map<string, number>();
  /** Per address, its hours (hour number → volume), oldest first. */
  private readonly volume = new Map<string, Map<number, HourVolume>>();
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
      version: 1,
      limits: { ...this.limits },
      first: Number.isFinite(this.first) ? this.first : null,
      last: Number.isFinite(this.last) ? this.last : null,
      dropped: this.dropped,
      clients: [...this.clients].map(([ip, c]) => [ip, c.first, c.overflow, [...c.edges].map(([k, e]) => [k, e.first, e.count, e.app ?? null])]),
      seen: [...this.seen],
      volume: [...this.volume].map(([ip, hours]) => [ip, [...hours].map(([h, v]) => [h, v.out, v.in, v.packets, v.conns, [...v.peers]])]),
    };
  }

  /** The ledger a snapshot describes: it judges exactly as the one that wrote it. */
  static fromJSON(s: BaselineSnapshot): BaselineLedger {
    if (s.kind !== 'vigil.baseline' || s.version !== 1) throw new Error(`not a baseline snapshot of a known version (${String(s.kind)} v${String(s.version)})`);
    const l = new BaselineLedger({ ...s.limits, volumeAddresses: s.limits.volumeAddresses ?? DEFAULT_LIMITS.volumeAddresses });
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
    return l;
  }

  /** @internal for the detector */
  view(): { clients: ReadonlyMap<string, Client>; seen: ReadonlyMap<string, number>; volume: ReadonlyMap<string, ReadonlyMap<number, HourVolume>> } {
    return { clients: this.clients, seen: this.seen, volume: this.volume };
  }
}

/**
 * A BaselineLedger as plain data. Per address: its edges [server|proto/port, first, count, app],
 * when it was first seen, and its hours [hour number, bytes out, bytes in, packets, connections,
 * [peer, bytes sent]…]. Bounded: ≤ clients × edgesPerClient edges, ≤ volumeAddresses × hoursPerAddress
 * hours, 8 peers in each of the last 24.
 */
export interface BaselineSnapshot {
  kind: 'vigil.baseline';
  version: 1;
  limits: BaselineLimits;
  first: number | null;
  last: number | null;
  dropped: number;
  clients: Array<[ip: string, first: number, overflow: number, edges: Array<[key: string, first: number, count: number, app: string | null]>]>;
  seen: Array<[ip: string, first: number]>;
  volume: Array<[ip: string, hours: Array<[hour: number, out: number, bytesIn: number, packets: number, conns: number, peers: Array<[peer: string, bytes: number]>]>]>;
}

/** What the detector needs to know of a device (from the inventory). */
export interface BaselineDevice {
  id: string;
  ips: readonly string[];
  name: string;
  /** The peer group: devices of the same type; '' when the type is unknown (no group to lean on). */
  group: string;
}

export interface BaselineAlert {
  kind: 'new-service' | 'new-destination' | 'new-device' | 'volume';
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
    const learned = mine !== undefined || (d.group !== '' && group !== undefined);
    if (!learned) continue; // nothing to compare with: a new device, reported as such above
    for (const [key, e] of c.edges) {
      if (e.first < learnEnd) continue;
      const { server, service, port } = split(key);
      const label = `${service}${e.app !== undefined ? ` (${e.app})` : ''} to ${byIp.get(server)?.name ?? server}`;
      if (!(mine?.has(service) ?? false) && !(group?.has(service) ?? false)) {
        // A lease renewed with the hospital's DHCP server is routine, however long after learning the
        // first renewal falls (a device's DISCOVER was broadcast and unanswered on its own flow, so
        // learning never saw udp/67 as its service). A rogue DHCP server is the server side's business.
        if (service === 'udp/67' && isInternalIp(server)) continue;
        raise('new-service', d, e.first, label);
        continue;
      }
      const sensitive = (e.app !== undefined && SENSITIVE_APPS.has(e.app)) || SENSITIVE_PORTS.has(port);
      const known = sensitive ? (edges?.has(key) ?? false) : (servers?.has(server) ?? false);
      if (!known && (sensitive || !isInternalIp(server))) raise('new-destination', d, e.first, label);
    }
  }

  detectVolume(devices, volume, learnEnd, byIp, raise);

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
    else a.text = `${who} appeared after the learning period, with no peer group to compare it with (${a.what.join('; ')})`;
  }
  return out.sort((x, y) => x.time - y.time);
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
    if (p === undefined) parts.set(subject, (p = { ...all, first: null, last: null, dropped: 0, clients: [], seen: [], volume: [] }));
    return p;
  };
  const rest = part('');
  rest.first = all.first;
  rest.last = all.last;
  rest.dropped = all.dropped;
  for (const c of all.clients) part(c[0]).clients.push(c);
  for (const s of all.seen) part(s[0]).seen.push(s);
  for (const v of all.volume) part(v[0]).volume.push(v);
  return [...parts].map(([subject, data]) => ({ subject, kind: 'baseline', data }));
}

/**
 * One ledger from stored pieces (see `baselineParts`); the first piece's limits apply. An address
 * may be in two pieces (a device renamed, a stale piece left in the store): its copies are merged
 * idempotently — edges united (earliest first time, largest count), the earliest sighting, per hour
 * the fuller copy — so a piece read twice changes nothing.
 */
export function mergeBaselineParts(parts: readonly BaselineSnapshot[]): BaselineLedger {
  const first = parts[0];
  if (first === undefined) return new BaselineLedger();
  const lo = parts.map((p) => p.first).filter((x): x is number => x !== null);
  const hi = parts.map((p) => p.last).filter((x): x is number => x !== null);
  type C = BaselineSnapshot['clients'][number];
  type E = C[3][number];
  type V = BaselineSnapshot['volume'][number];
  type Hr = V[1][number];
  const clients = new Map<string, { first: number; overflow: number; edges: Map<string, E> }>();
  const seen = new Map<string, number>();
  const volume = new Map<string, Map<number, Hr>>();
  for (const p of parts) {
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
    first: lo.length > 0 ? Math.min(...lo) : null,
    last: hi.length > 0 ? Math.max(...hi) : null,
    dropped: Math.max(...parts.map((p) => p.dropped)),
    clients: [...clients].map(([ip, c]): C => [ip, c.first, c.overflow, [...c.edges.values()]]),
    seen: [...seen],
    volume: [...volume].map(([ip, m]): V => [ip, [...m.values()].sort((x, y) => x[0] - y[0])]),
  });
}
