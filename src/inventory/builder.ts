/**
 * Observations and flow records → devices: who is who on the wire.
 *
 * Everything is first gathered per *endpoint* — a (MAC, VLAN, IP) pair as the packets showed it —
 * and only grouped into devices at the end, when the whole picture says which MACs are routers:
 *  - a MAC on the local segment is one device, with every IP it used (DHCP renewals, IPv6
 *    addresses, several interfaces' worth of aliases);
 *  - a MAC that carries many IPs is a router (or a NAT, or a firewall): it is a device of its own,
 *    and each internal IP behind it becomes its own device, keyed by IP — everything behind a
 *    gateway never folds into one device;
 *  - an IP seen without any MAC (raw-IP captures, a remote site) is a device keyed by IP;
 *  - public Internet addresses are peers, not devices (unless a local MAC owns them).
 *
 * Memory is bounded: endpoints, values per attribute, evidence per value, peers and services each
 * have a cap; beyond the endpoint cap new endpoints are counted, not kept.
 */
import type { FlowRecord } from '../flow/flow.ts';
import type { Observation } from '../protocols/observation.ts';
import { ipv4ToNumber, isInternalIp, isInternalIpv4, isIpv4, isUnicastIp, isUnicastIpv4 } from './address.ts';
import type { Evidence, Service } from './device.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** One value of one attribute of one endpoint, with how strongly and how often it was said. */
export interface FactValue {
  value: string;
  /** Highest confidence any observation gave it. */
  confidence: number;
  protocol: string;
  count: number;
  evidence: Evidence[];
}

export interface InventoryLimits {
  endpoints: number;
  valuesPerAttribute: number;
  evidencePerValue: number;
  peersPerEndpoint: number;
  servicesPerEndpoint: number;
}

export const DEFAULT_LIMITS: InventoryLimits = {
  endpoints: 400_000,
  valuesPerAttribute: 8,
  evidencePerValue: 2,
  peersPerEndpoint: 256,
  servicesPerEndpoint: 48,
};

/** A MAC seen with more than this many IPv4 (or 4× as many IPv6) addresses is routing for others. */
const ROUTER_IPV4 = 4;
const ROUTER_IPV6 = 16;
/** TCP states that mean the server accepted the connection (a RST to a SYN does not). */
const ANSWERED = new Set<string>(['syn_received', 'established', 'midstream', 'closing', 'closed']);
/**
 * Attributes whose breadth is itself the evidence: a DICOM sender proposing the storage classes of
 * many modalities is an archive or a router, not a modality — so more of its values are kept.
 */
const WIDE_ATTRIBUTES: Record<string, number> = { 'dicom.abstract_syntax': 64 };
/** All-zero MACs come from anonymised captures and loopback: they name no interface. */
const NULL_MAC = '00:00:00:00:00:00';
/** IPs remembered per MAC: enough to tell a router from a host. */
const IPS_PER_MAC = 64;
/** Endpoints or devices grouped between two pauses of devicesSliced (~10 ms of work). */
const GROUPING_STEP = 4096;

/**
 * Memory: a capture of many addresses keeps tens of thousands of endpoints, most of them addresses
 * seen only in flows. Their facts and services are made on first use, and lists are made at the
 * size they hold (a list grown by push from empty reserves 16 slots, and most lists hold one or two).
 * An endpoint is an object literal made in one place (newEndpoint), not a class instance: V8 tracks
 * the survival of what a literal allocates, and allocates it straight in the old generation once
 * nearly all of it survives, as endpoints do, instead of copying each one through the young one.
 */
export interface Endpoint {
  first: number;
  last: number;
  observations: number;
  facts: Map<string, FactValue[]> | undefined;
  /** The services it answered on: one (most servers have one), or a map by port (+ 65536 for UDP) once there are more. */
  services: Service | Map<number, Service> | undefined;
  /** The addresses it talked with: one (most endpoints have one), or a set once there are more. */
  peers: string | Set<string> | undefined;
  /**
   * Its peers, internal and on the Internet, counted as they come (the class is known then, and a
   * report need not classify every peer of every device again) — those not kept once the set was
   * full too, so the reach stays roughly right.
   */
  peersInternal: number;
  peersExternal: number;
  readonly mac: string | undefined;
  readonly ip: string | undefined;
  readonly vlan: number | undefined;
  /** addressClass of its IP (0 without one). */
  readonly cls: number;
}

function newEndpoint(mac: string | undefined, ip: string | undefined, vlan: number | undefined, cls: number): Endpoint {
  return { first: Infinity, last: -Infinity, observations: 0, facts: undefined, services: undefined, peers: undefined, peersInternal: 0, peersExternal: 0, mac, ip, vlan, cls };
}

function seen(e: Endpoint, t: number): void {
  if (t < e.first) e.first = t;
  if (t > e.last) e.last = t;
}

/**
 * A service as first answered, with its app field there from the start (undefined until a dissector
 * names one): a field added later would give the object a second one for its properties. After
 * flows, so the JSON lists them in the order it always has.
 */
function newService(transport: 'tcp' | 'udp', port: number, app: string | undefined): Service {
  return { transport, port, flows: 0, app };
}

/** A lookup's (MAC, VLAN, IP) and the endpoint it found. */
interface RecentEndpoint {
  mac: string | undefined;
  vlan: number | undefined;
  ip: string | undefined;
  e: Endpoint | undefined;
}

/** The facts of one device: the endpoints that make it up, merged at read time. */
export interface DeviceFacts {
  id: string;
  macs: string[];
  ips: string[];
  vlan?: number;
  first: number;
  last: number;
  observations: number;
  /** True when this device is a MAC that routes for others. */
  router: boolean;
  /** Read-only: a device of one endpoint shares that endpoint's map, devices with none share one empty map. */
  facts: ReadonlyMap<string, readonly FactValue[]>;
  services: Service[];
  peers: { internal: number; external: number };
}

/** Address classes: bits of what addressClass says. */
const UNICAST = 1;
const INTERNAL = 2;
const IPV4 = 4;
/** IPv6 classes, memoised (the text forms vary, and reading them takes regexes). */
const ipv6Classes = new Map<string, number>();
/**
 * What an address is, for every address of every flow and observation: an IPv4 dotted quad is read
 * straight from its digits (cheaper than looking it up in a table of a few hundred thousand).
 */
function addressClass(ip: string): number {
  const n = ipv4ToNumber(ip);
  if (n !== undefined) return IPV4 | (isUnicastIpv4(n) ? UNICAST : 0) | (isInternalIpv4(n) ? INTERNAL : 0);
  let c = ipv6Classes.get(ip);
  if (c === undefined) {
    c = (isUnicastIp(ip) ? UNICAST : 0) | (isInternalIp(ip) ? INTERNAL : 0) | (isIpv4(ip) ? IPV4 : 0);
    if (ipv6Classes.size >= 100_000) ipv6Classes.clear();
    ipv6Classes.set(ip, c);
  }
  return c;
}

/** One literal per shape: a property added after creation would move the object's fields out of line. */
function evidenceOf(o: Observation): Evidence {
  return o.evidence !== undefined
    ? { protocol: o.protocol, attribute: o.attribute, value: flat(o.value), frame: o.frame, time: o.time, snippet: flat(o.evidence) }
    : { protocol: o.protocol, attribute: o.attribute, value: flat(o.value), frame: o.frame, time: o.time };
}

/**
 * A text the builder keeps, in one piece. Dissectors word values and evidence with template
 * literals, which V8 holds as a tree of the pieces joined (a p0f match's evidence is seven); reading
 * a character joins them in place, and the collector then lets the pieces go. On the corpus replay
 * the builder keeps ~70,000 fewer objects, 2.6 of its 27 MB.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/** The group bit of a MAC's first octet, read from its text without parsing. */
function isGroupMac(mac: string): boolean {
  const c = mac.charCodeAt(1);
  const v = c <= 57 ? c - 48 : (c | 0x20) - 87;
  return (v & 1) !== 0;
}

export class InventoryBuilder {
  /**
   * Endpoints by VLAN (0: untagged), then IP ('' when none): the endpoint seen with that IP, or — once
   * several MACs were — a map by MAC ('' when none). No key strings built per packet, and no map per
   * address for the usual one MAC (fewer objects for the collector to trace).
   */
  private readonly endpoints = new Map<number, Map<string, Endpoint | Map<string, Endpoint>>>();
  private count = 0;
  /** MAC → its endpoints that have an IP (up to IPS_PER_MAC), to tell hosts from routers. */
  private readonly macIps = new Map<string, Endpoint[]>();
  /** Endpoints not kept because the cap was reached. */
  droppedEndpoints = 0;
  private readonly limits: InventoryLimits;

  /** The endpoints of the last two lookups, most recent first (see endpoint()). */
  private recent: RecentEndpoint = { mac: undefined, vlan: undefined, ip: undefined, e: undefined };
  private previous: RecentEndpoint = { mac: undefined, vlan: undefined, ip: undefined, e: undefined };

  /** Attributes whose values are kept as facts (undefined: all); the others are counted, not kept. */
  private readonly keep: ReadonlySet<string> | undefined;

  /** `keep`: the attributes whose values the assessment reads (inventoryAttributes()); default all. */
  constructor(limits: Partial<InventoryLimits> = {}, keep?: ReadonlySet<string>) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.keep = keep;
  }

  get endpointCount(): number {
    return this.count;
  }

  /**
   * The endpoint of (MAC, VLAN, IP), made when first seen. An address already seen is found by a
   * lookup alone: only an address new to its VLAN is classified, and one that names no single host
   * (broadcast, multicast, unspecified) gives no endpoint by IP, only by MAC.
   */
  private endpoint(mac: string | undefined, vlan: number | undefined, ip: string | undefined): Endpoint | undefined {
    // A flow's observations and its record name the same two hosts over and over: the last two
    // endpoints found answer three lookups in four (corpus replay) without a map. (Endpoints are
    // never removed, so a remembered one stays right.)
    const a = this.recent;
    if (ip === a.ip && mac === a.mac && vlan === a.vlan) return a.e;
    const b = this.previous;
    if (ip === b.ip && mac === b.mac && vlan === b.vlan) {
      this.recent = b;
      this.previous = a;
      return b.e;
    }
    const e = this.find(mac, vlan, ip);
    if (e !== undefined) {
      // The older of the two is reused for this one: no allocation per lookup.
      b.mac = mac;
      b.vlan = vlan;
      b.ip = ip;
      b.e = e;
      this.recent = b;
      this.previous = a;
    }
    return e;
  }

  private find(mac: string | undefined, vlan: number | undefined, ip: string | undefined): Endpoint | undefined {
    if (mac !== undefined && (isGroupMac(mac) || mac === NULL_MAC)) mac = undefined;
    let byIp = this.endpoints.get(vlan ?? 0);
    if (byIp === undefined) this.endpoints.set(vlan ?? 0, (byIp = new Map()));
    let slot = ip === undefined ? undefined : byIp.get(ip);
    let cls = 0;
    if (slot === undefined && ip !== undefined) {
      cls = addressClass(ip);
      if ((cls & UNICAST) === 0) {
        ip = undefined;
        cls = 0;
      }
    }
    if (ip === undefined) {
      if (mac === undefined) return undefined;
      slot = byIp.get('');
    }
    let e = slot === undefined ? undefined : slot instanceof Map ? slot.get(mac ?? '') : slot.mac === mac ? slot : undefined;
    if (e === undefined) {
      if (this.count >= this.limits.endpoints) {
        this.droppedEndpoints++;
        return undefined;
      }
      // A new MAC at an address already seen: the address's class is that of its other endpoints.
      if (ip !== undefined && slot !== undefined) cls = (slot instanceof Map ? (slot.values().next().value as Endpoint) : slot).cls;
      e = newEndpoint(mac, ip, vlan, cls);
      if (slot === undefined) byIp.set(ip ?? '', e);
      else if (slot instanceof Map) slot.set(mac ?? '', e);
      else byIp.set(ip ?? '', new Map([[slot.mac ?? '', slot], [mac ?? '', e]]));
      this.count++;
      if (mac !== undefined && ip !== undefined) {
        let list = this.macIps.get(mac);
        if (list === undefined) this.macIps.set(mac, (list = []));
        if (list.length < IPS_PER_MAC) list.push(e);
      }
    }
    return e;
  }

  addObservation(o: Observation): void {
    const e = this.endpoint(o.mac, o.vlan, o.ip);
    if (e === undefined) return;
    seen(e, o.time);
    e.observations++;
    // Request lines and status codes are events (the reconnaissance ledger counts the errors), not identity.
    if (o.attribute === 'http.request' || o.attribute === 'http.status') return;
    if (this.keep !== undefined && !this.keep.has(o.attribute)) return;
    e.facts ??= new Map();
    const values = e.facts.get(o.attribute);
    if (values === undefined) {
      e.facts.set(o.attribute, [{ value: flat(o.value), confidence: o.confidence, protocol: o.protocol, count: 1, evidence: this.limits.evidencePerValue > 0 ? [evidenceOf(o)] : [] }]);
      return;
    }
    let v: FactValue | undefined;
    for (let i = 0; i < values.length; i++) {
      if ((values[i] as FactValue).value === o.value) {
        v = values[i];
        break;
      }
    }
    if (v === undefined) {
      if (values.length >= (WIDE_ATTRIBUTES[o.attribute] ?? this.limits.valuesPerAttribute)) {
        // Keep the strongest values: replace the weakest if this one is stronger.
        let weakest = 0;
        for (let i = 1; i < values.length; i++) if ((values[i] as FactValue).confidence < (values[weakest] as FactValue).confidence) weakest = i;
        if ((values[weakest] as FactValue).confidence >= o.confidence) return;
        values.splice(weakest, 1);
      }
      v = { value: flat(o.value), confidence: o.confidence, protocol: o.protocol, count: 0, evidence: [] };
      e.facts.set(o.attribute, [...values, v]);
    }
    v.count++;
    if (o.confidence > v.confidence) {
      v.confidence = o.confidence;
      v.protocol = o.protocol;
    }
    if (v.evidence.length < this.limits.evidencePerValue) v.evidence = [...v.evidence, evidenceOf(o)];
  }

  addFlow(f: FlowRecord): void {
    const c = this.endpoint(f.clientMac, f.vlan, f.clientIp);
    // A destination that never answered (a scanned address, a directed broadcast) is not known to exist.
    const s = f.serverPackets > 0 ? this.endpoint(f.serverMac, f.vlan, f.serverIp) : undefined;
    if (c !== undefined) {
      seen(c, f.start);
      seen(c, f.end);
      // The class of an address with an endpoint is the endpoint's: worked out once.
      this.peer(c, f.serverIp, s !== undefined && s.ip === f.serverIp ? s.cls : addressClass(f.serverIp));
    }
    // A server "answered" only if it sent something back: a SYN scan's unanswered ports are not services.
    if (s !== undefined) {
      seen(s, f.start);
      seen(s, f.end);
      this.peer(s, f.clientIp, c !== undefined && c.ip === f.clientIp ? c.cls : addressClass(f.clientIp));
      if (f.proto === 'tcp' || f.proto === 'udp') {
        const tcpAnswered = f.proto !== 'tcp' || f.serverPayloadBytes > 0 || (f.tcpState !== undefined && ANSWERED.has(f.tcpState));
        if (tcpAnswered) this.service(s, f.proto, f.serverPort, f.app);
      }
    }
  }

  private peer(e: Endpoint, ip: string, c: number): void {
    if ((c & UNICAST) === 0) return;
    const p = e.peers;
    if (p === undefined ? false : typeof p === 'string' ? p === ip : p.has(ip)) return;
    // Every new peer is counted, kept or not: no branch that only a full set takes (V8 would throw
    // away the compiled flow code the first time one did, and compile it again).
    if ((c & INTERNAL) !== 0) e.peersInternal++;
    else e.peersExternal++;
    const size = p === undefined ? 0 : typeof p === 'string' ? 1 : p.size;
    if (size >= this.limits.peersPerEndpoint) return;
    if (p === undefined) e.peers = ip;
    else if (typeof p === 'string') e.peers = new Set([p, ip]);
    else p.add(ip);
  }

  private service(e: Endpoint, transport: 'tcp' | 'udp', port: number, app: string | undefined): void {
    const have = e.services;
    let sv: Service | undefined;
    if (have === undefined) e.services = sv = newService(transport, port, app);
    else if (have instanceof Map) {
      const k = transport === 'udp' ? port + 65536 : port;
      sv = have.get(k);
      if (sv === undefined) {
        if (have.size >= this.limits.servicesPerEndpoint) return;
        have.set(k, (sv = newService(transport, port, app)));
      }
    } else if (have.port === port && have.transport === transport) sv = have;
    else {
      sv = newService(transport, port, app);
      e.services = new Map([
        [have.transport === 'udp' ? have.port + 65536 : have.port, have],
        [transport === 'udp' ? port + 65536 : port, sv],
      ]);
    }
    sv.flows++;
    if (app !== undefined && sv.app === undefined) sv.app = app;
  }

  /** MACs that route for others. */
  routers(): Set<string> {
    const out = new Set<string>();
    for (const [mac, eps] of this.macIps) {
      let v4 = 0;
      let v6 = 0;
      let internal = 0;
      let external = 0;
      for (const e of eps) {
        const c = e.cls;
        if ((c & IPV4) === 0) {
          v6++;
          continue;
        }
        v4++;
        if ((c & INTERNAL) !== 0) internal++;
        else external++;
      }
      // A MAC that sends both as a private IPv4 address and as Internet ones forwards the Internet's
      // traffic — a gateway, a NAT, a firewall — however few addresses a short capture showed. (Not
      // IPv6: a host's link-local and global addresses are both its own.)
      if (v4 > ROUTER_IPV4 || v6 > ROUTER_IPV6 || (internal > 0 && external > 0)) out.add(mac);
    }
    // An address seen behind two MACs is one host's own and a router's forwarded: the MAC that
    // carries more addresses is the router (a gateway for a few remote hosts stays under the count above).
    const macsOf = new Map<string, string | Set<string>>();
    for (const [mac, eps] of this.macIps) for (const e of eps) addOne(macsOf, e.ip as string, mac);
    for (const macs of macsOf.values()) {
      if (typeof macs === 'string' || macs.size < 2) continue;
      let fewest = Infinity;
      for (const m of macs) fewest = Math.min(fewest, this.macIps.get(m)?.length ?? 0);
      for (const m of macs) if ((this.macIps.get(m)?.length ?? 0) > Math.max(1, fewest)) out.add(m);
    }
    return out;
  }

  /**
   * Groups the endpoints into devices. Pure with respect to the builder: it can be called again later.
   * A snapshot to read at once: a device of one endpoint shares that endpoint's facts, which later
   * observations go on changing.
   */
  devices(): DeviceFacts[] {
    const steps = this.grouping();
    for (;;) {
      const r = steps.next();
      if (r.done === true) return r.value;
    }
  }

  /**
   * devices(), with the event loop's other work run every few thousand endpoints and devices: a live
   * sensor goes on reading while a checkpoint groups them (100,000 devices take ~0.9 s). What arrives
   * meanwhile joins this grouping or the next; each device is merged from its endpoints at once.
   */
  async devicesSliced(): Promise<DeviceFacts[]> {
    const steps = this.grouping();
    for (;;) {
      const r = steps.next();
      if (r.done === true) return r.value;
      await nextTurn();
    }
  }

  /**
   * The grouping, pausing (yield) every GROUPING_STEP endpoints or devices. The work on each is done
   * by ordinary functions: the generator only walks.
   */
  private *grouping(): Generator<void, DeviceFacts[], void> {
    const routers = this.routers();
    yield;
    // Which host MAC owns each IP in each VLAN (the most recent one, if the IP moved between devices).
    const owners = new Map<string, { vlan: number | undefined; mac: string; time: number }[]>();
    const addOwner = (mac: string, eps: readonly Endpoint[]) => {
      for (const e of eps) {
        const ip = e.ip as string;
        let list = owners.get(ip);
        if (list === undefined) owners.set(ip, (list = []));
        const o = list.find((x) => x.vlan === e.vlan);
        if (o === undefined) list.push({ vlan: e.vlan, mac, time: e.last });
        else if (e.last > o.time) {
          o.mac = mac;
          o.time = e.last;
        }
      }
    };
    let n = 0;
    for (const [mac, eps] of this.macIps) {
      if (!routers.has(mac)) addOwner(mac, eps);
      if (++n % GROUPING_STEP === 0) yield;
    }
    // A routed copy of a packet can carry another VLAN's tag than the host's own (a SPAN of a trunk
    // sees it on both sides of the router): an IP owned by exactly one host MAC in any VLAN is that host.
    const ownerOf = (vlan: number | undefined, ip: string): string | undefined => {
      const list = owners.get(ip);
      if (list === undefined) return undefined;
      const own = list.find((x) => x.vlan === vlan);
      if (own !== undefined) return own.mac;
      const mac = (list[0] as { mac: string }).mac;
      return list.every((x) => x.mac === mac) ? mac : undefined;
    };
    const groups = new Map<string, { router: boolean; members: Endpoint[] }>();
    const join = (id: string, e: Endpoint, router = false) => {
      let g = groups.get(id);
      if (g === undefined) groups.set(id, (g = { router, members: [] }));
      g.members.push(e);
    };
    // One id string per MAC (tens of thousands of endpoints, a few hundred MACs).
    const macIds = new Map<string, string>();
    const macId = (mac: string): string => {
      let id = macIds.get(mac);
      if (id === undefined) macIds.set(mac, (id = `mac:${mac}`));
      return id;
    };
    // The id of each VLAN's devices known by IP alone starts with its prefix, made here before the
    // loops: made in them, the first tagged address would meet code V8 had compiled without ever
    // seeing one, and V8 would throw that code away mid-report. (A live sensor can add a VLAN
    // between two slices of this grouping: its prefix is then made when first asked for.)
    const ipIdPrefix = new Map<number | undefined, string>([[undefined, 'ip:']]);
    for (const vlan of this.endpoints.keys()) ipIdPrefix.set(vlan, `ip:${vlan}/`);
    const ipId = (vlan: number | undefined, ip: string): string => {
      let prefix = ipIdPrefix.get(vlan);
      if (prefix === undefined) ipIdPrefix.set(vlan, (prefix = `ip:${vlan}/`));
      return prefix + ip;
    };
    const place = (e: Endpoint): void => {
      if (e.mac !== undefined && !routers.has(e.mac)) {
        // A host MAC: its device, whatever IP it used.
        join(macId(e.mac), e);
        return;
      }
      if (e.mac !== undefined && e.ip === undefined) {
        join(macId(e.mac), e, true);
        return;
      }
      const owner = e.ip !== undefined ? ownerOf(e.vlan, e.ip) : undefined;
      if (owner !== undefined) {
        // An IP seen via a router (or without a MAC) that a local host owns: that host.
        join(macId(owner), e);
      } else if (e.ip !== undefined && (e.cls & INTERNAL) !== 0) {
        join(ipId(e.vlan, e.ip), e);
      }
      // Otherwise: a public address behind a router — a peer, not a device of this hospital.
    };
    for (const byIp of this.endpoints.values()) {
      for (const slot of byIp.values()) {
        if (slot instanceof Map) slot.forEach(place);
        else place(slot);
        if (++n % GROUPING_STEP === 0) yield;
      }
    }
    for (const mac of routers) if (!groups.has(`mac:${mac}`)) groups.set(`mac:${mac}`, { router: true, members: [] });
    mergeRandomisedMacs(groups);
    yield;
    const out: DeviceFacts[] = [];
    for (const [id, g] of groups) {
      out.push(g.members.length === 1 ? this.mergeOne(id, g.router, g.members[0] as Endpoint, routers) : this.merge(id, g.router, g.members, routers));
      if (++n % GROUPING_STEP === 0) yield;
    }
    return out;
  }

  /**
   * merge() of a device of one endpoint, as most are: less to do, and a smaller function for V8 to
   * compile in the middle of a report (merge() itself then runs for the few devices of several).
   */
  private mergeOne(id: string, router: boolean, e: Endpoint, routers: ReadonlySet<string>): DeviceFacts {
    const byMac = id.startsWith('mac:');
    const mac = byMac ? id.slice(4) : undefined;
    const macs: string[] = mac === undefined ? [] : [mac];
    // A randomised MAC's device also lists the endpoint's own randomised MAC (see merge()).
    if (mac !== undefined && !router && isLocalMac(id, 4) && e.mac !== undefined && e.mac !== mac && isLocalMac(e.mac) && !routers.has(e.mac)) macs.push(e.mac);
    const ips: string[] = e.ip !== undefined && !router ? [e.ip] : [];
    const services: Service[] = [];
    if (e.services !== undefined) addServices(services, e.services);
    // Its peers as counted when they came, less its own address (a flow to itself).
    let internal = e.peersInternal;
    let external = e.peersExternal;
    const p = e.peers;
    if (!router && e.ip !== undefined && p !== undefined && (typeof p === 'string' ? p === e.ip : p.has(e.ip))) {
      if ((e.cls & INTERNAL) !== 0) internal--;
      else external--;
    }
    return {
      id,
      macs: macs.length > 1 ? macs.sort() : macs,
      ips,
      first: Number.isFinite(e.first) ? e.first : 0,
      last: Number.isFinite(e.last) ? e.last : 0,
      observations: e.observations,
      router,
      facts: e.facts ?? NO_FACTS,
      services: services.length > 1 ? services.sort(byPort) : services,
      peers: { internal, external },
      vlan: e.vlan,
    };
  }

  private merge(id: string, router: boolean, members: Endpoint[], routers: ReadonlySet<string>): DeviceFacts {
    // Arrays, not sets: most devices are one endpoint, a few a handful.
    const byMac = id.startsWith('mac:');
    const macs: string[] = byMac ? [id.slice(4)] : [];
    // A host keyed by a randomised MAC also lists the other randomised MACs merged into it — not a
    // router's, which only carried a routed copy of its traffic.
    const randomised = byMac && !router && isLocalMac(id, 4);
    const ips: string[] = [];
    let facts: Map<string, FactValue[]> | undefined;
    const services: Service[] = [];
    // Every member's peers; a union is made only when there are several.
    const peerLists: (string | Set<string>)[] = [];
    let first = Infinity;
    let last = -Infinity;
    let observations = 0;
    let vlan: number | undefined;
    let overflowInternal = 0;
    let overflowExternal = 0;
    for (const e of members) {
      if (randomised && e.mac !== undefined && isLocalMac(e.mac) && !routers.has(e.mac) && !macs.includes(e.mac)) macs.push(e.mac);
      if (e.ip !== undefined && !router && !ips.includes(e.ip)) ips.push(e.ip);
      if (e.vlan !== undefined) vlan = e.vlan;
      first = Math.min(first, e.first);
      last = Math.max(last, e.last);
      observations += e.observations;
      if (e.peers !== undefined) peerLists.push(e.peers);
      // Its peers beyond the cap: counted, not kept (all it counted, less those it kept).
      const kept = e.peers === undefined ? 0 : typeof e.peers === 'string' ? 1 : e.peers.size;
      if (e.peersInternal + e.peersExternal > kept) {
        const over = overflowOf(e);
        overflowInternal += over.internal;
        overflowExternal += over.external;
      }
      if (e.services !== undefined) addServices(services, e.services);
      if (e.facts === undefined) continue;
      // Most devices are one endpoint: their facts are the device's as they are, not copied value by
      // value (a third of the objects a report allocates, all of them kept until it is done).
      if (members.length === 1) facts = e.facts;
      else facts = mergeFacts(facts ?? new Map(), e.facts, this.limits.evidencePerValue);
    }
    const peers = peerLists.length === 0 ? [] : peerLists.length === 1 && typeof peerLists[0] === 'string' ? [peerLists[0]] : peerLists.length === 1 ? (peerLists[0] as Set<string>) : unionOf(peerLists);
    let internal = overflowInternal;
    let external = overflowExternal;
    // Distinct peers, not counting the device's own addresses.
    for (const p of peers) {
      if (ips.includes(p)) continue;
      if ((addressClass(p) & INTERNAL) !== 0) internal++;
      else external++;
    }
    const d: DeviceFacts = {
      id,
      macs: macs.length > 1 ? macs.sort() : macs,
      ips: ips.length > 1 ? ips.sort(compareIp) : ips,
      first: Number.isFinite(first) ? first : 0,
      last: Number.isFinite(last) ? last : 0,
      observations,
      router,
      facts: facts ?? NO_FACTS,
      services: services.length > 1 ? services.sort(byPort) : services,
      peers: { internal, external },
      // Always a field, undefined off a VLAN: one shape for every device's facts, so the code that
      // reads them meets one kind of object (a field added to some changes their hidden class).
      vlan,
    };
    return d;
  }
}

const NO_FACTS: ReadonlyMap<string, readonly FactValue[]> = new Map();

/** Adds `v` to the values of `k`: one value is kept as itself, a Set made only for a second (most keys have one). */
function addOne(m: Map<string, string | Set<string>>, k: string, v: string): void {
  const have = m.get(k);
  if (have === undefined) m.set(k, v);
  else if (typeof have === 'string') {
    if (have !== v) m.set(k, new Set([have, v]));
  } else have.add(v);
}

function compareIp(a: string, b: string): number {
  const a4 = isIpv4(a);
  const b4 = isIpv4(b);
  if (a4 !== b4) return a4 ? -1 : 1;
  if (a4) {
    const pa = a.split('.').map(Number);
    const pb = b.split('.').map(Number);
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] as number) - (pb[i] as number);
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The locally administered bit of the MAC at `at` in `s`. */
function isLocalMac(s: string, at = 0): boolean {
  const c = s.charCodeAt(at + 1);
  const v = c <= 57 ? c - 48 : (c | 0x20) - 87;
  return (v & 2) !== 0;
}

/** Names a device gives itself: the same one on two randomised MACs is the same phone or laptop. */
export const SELF_NAMES = ['dhcp.hostname', 'dhcp.client_id', 'mdns.hostname'];

/**
 * Phones and laptops randomise their MAC (locally administered addresses) per network or per day;
 * the name they give themselves in DHCP or mDNS stays. Randomised-MAC devices that claim the same
 * self-name are one device, keyed by the MAC seen first. (Globally assigned MACs are never merged:
 * two workstations may share a badly chosen hostname.)
 */
// merge's rarer steps, each a function of its own: merge runs for every device of a report, once, so
// it is compiled in the middle of one; what most devices never need is not compiled into it (and,
// met late, does not throw its compiled code away).

/** An endpoint's services added to a device's: flows summed for a port both list. */
function addServices(into: Service[], services: Service | Map<number, Service>): void {
  if (!(services instanceof Map)) {
    addService(into, services);
    return;
  }
  for (const sv of services.values()) addService(into, sv);
}

function addService(into: Service[], sv: Service): void {
  const have = into.find((x) => x.port === sv.port && x.transport === sv.transport);
  if (have === undefined) into.push({ ...sv });
  else {
    have.flows += sv.flows;
    if (have.app === undefined && sv.app !== undefined) have.app = sv.app;
  }
}

/** Services by port, then transport. */
function byPort(a: Service, b: Service): number {
  return a.port - b.port || (a.transport < b.transport ? -1 : a.transport > b.transport ? 1 : 0);
}

/** Another endpoint's facts merged into a device's (copies: endpoints' values are not changed). */
function mergeFacts(facts: Map<string, FactValue[]>, from: Map<string, FactValue[]>, evidencePerValue: number): Map<string, FactValue[]> {
  for (const [attr, values] of from) {
    let into = facts.get(attr);
    if (into === undefined) facts.set(attr, (into = []));
    for (const v of values) {
      const have = into.find((x) => x.value === v.value);
      if (have === undefined) into.push({ ...v, evidence: [...v.evidence] });
      else {
        have.count += v.count;
        if (v.confidence > have.confidence) {
          have.confidence = v.confidence;
          have.protocol = v.protocol;
        }
        for (const ev of v.evidence) if (have.evidence.length < evidencePerValue) have.evidence.push(ev);
      }
    }
  }
  return facts;
}

/** The peers an endpoint counted but did not keep (its set was full), by class. */
function overflowOf(e: Endpoint): { internal: number; external: number } {
  let internal = e.peersInternal;
  let external = e.peersExternal;
  const kept = e.peers === undefined ? [] : typeof e.peers === 'string' ? [e.peers] : e.peers;
  for (const p of kept) {
    if ((addressClass(p) & INTERNAL) !== 0) internal--;
    else external--;
  }
  return { internal, external };
}

function unionOf(peerLists: readonly (string | Set<string>)[]): Set<string> {
  const union = new Set<string>();
  for (const l of peerLists) {
    if (typeof l === 'string') union.add(l);
    else for (const p of l) union.add(p);
  }
  return union;
}

function mergeRandomisedMacs(groups: Map<string, { router: boolean; members: Endpoint[] }>): void {
  const byName = new Map<string, string>();
  // Deleting the entry being visited leaves a Map's iteration of the rest as it was: no copy.
  for (const [id, g] of groups) {
    if (g.router || !id.startsWith('mac:') || !isLocalMac(id, 4)) continue;
    let into: string | undefined;
    const names: string[] = [];
    for (const e of g.members) {
      for (const a of SELF_NAMES) {
        for (const v of e.facts?.get(a) ?? []) {
          const key = `${a}\u0000${v.value.toLowerCase()}`;
          names.push(key);
          into ??= byName.get(key);
        }
      }
    }
    if (into !== undefined && into !== id) {
      const target = groups.get(into);
      if (target !== undefined) {
        target.members.push(...g.members);
        groups.delete(id);
        for (const n of names) if (!byName.has(n)) byName.set(n, into);
        continue;
      }
    }
    for (const n of names) if (!byName.has(n)) byName.set(n, id);
  }
}
