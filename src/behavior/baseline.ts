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

export interface BaselineLimits {
  clients: number;
  edgesPerClient: number;
}

/** The default learning period: one day, so shift changes and nightly jobs are part of normal. */
export const LEARN_SECONDS = 24 * 3600;

const DEFAULT_LIMITS: BaselineLimits = { clients: 200_000, edgesPerClient: 1024 };

/** Services whose appearance between clinical devices is itself worth a look. */
const SENSITIVE_APPS = new Set(['dicom', 'hl7', 'smb']);
const SENSITIVE_PORTS = new Set([104, 11112, 2575, 445, 139, 3389, 22, 23, 5900]);

export class BaselineLedger {
  private readonly clients = new Map<string, Client>();
  /** Every address seen (as client or answering server), with its first time. */
  private readonly seen = new Map<string, number>();
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

  private see(ip: string, t: number): void {
    const s = this.seen.get(ip);
    if (s === undefined || t < s) {
      if (s === undefined && this.seen.size >= this.limits.clients * 2) return;
      this.seen.set(ip, t);
    }
  }

  /** @internal for the detector */
  view(): { clients: ReadonlyMap<string, Client>; seen: ReadonlyMap<string, number> } {
    return { clients: this.clients, seen: this.seen };
  }
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
  kind: 'new-service' | 'new-destination' | 'new-device';
  device: string;
  time: number;
  /** What was new: "tcp/445 (smb) to 10.60.1.15". */
  what: string[];
  text: string;
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
  const { clients, seen } = ledger.view();
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
    if (a === undefined) alerts.set(k, (a = { kind, device: d.id, time, what: [], text: '' }));
    if (time < a.time) a.time = time;
    if (a.what.length < 12 && !a.what.includes(what)) a.what.push(what);
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
        raise('new-service', d, e.first, label);
        continue;
      }
      const sensitive = (e.app !== undefined && SENSITIVE_APPS.has(e.app)) || SENSITIVE_PORTS.has(port);
      const known = sensitive ? (edges?.has(key) ?? false) : (servers?.has(server) ?? false);
      if (!known && (sensitive || !isInternalIp(server))) raise('new-destination', d, e.first, label);
    }
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
    else a.text = `${who} appeared after the learning period, with no peer group to compare it with (${a.what.join('; ')})`;
  }
  return out.sort((x, y) => x.time - y.time);
}
