/**
 * A hospital network instantiated from the catalogue: devices with MACs from their vendor's real
 * OUI, addresses in their zone's subnet, hostnames and AE titles from the kind's patterns; one
 * router interface per zone; and the rule for what the sensor sees of a conversation.
 *
 * The sensor watches the client's segment (an access-layer SPAN): a conversation between zones
 * shows the client's MAC and the zone gateway's MAC, and replies arrive one hop (one TTL) down.
 */
import type { Catalogue, DeviceKind, OsProfile } from './catalogue.ts';
import type { Host } from './conversation.ts';
import type { Rng } from './rng.ts';
import type { LinkView } from './wire.ts';

export const ZONES = ['imaging', 'clinical', 'lab', 'biomed', 'it', 'servers', 'building', 'voice', 'guest'] as const;
export type ZoneName = (typeof ZONES)[number];

export interface Zone {
  name: ZoneName;
  vlan: number;
  /** Second octet of the zone's 10.x.0.0/16. */
  octet: number;
  gateway: Host;
}

export interface SimDevice {
  /** Stable id in the ground truth: the hostname. */
  id: string;
  kind: DeviceKind;
  os: OsProfile;
  /** 1-based number within its kind (fills {n} in patterns). */
  n: number;
  hostname: string;
  host: Host;
  zone: Zone;
  aeTitle?: string;
  /** Capture time when the device first appears (later for devices that join during the capture). */
  joins: number;
}

/** Fills {n} and {n:02} style placeholders. */
export function pattern(p: string, n: number): string {
  return p.replace(/\{n(?::(\d+))?\}/g, (_, w: string | undefined) => (w === undefined ? String(n) : String(n).padStart(Number(w), '0')));
}

export function macFrom(oui: string, rng: Rng): Buffer {
  const b = Buffer.alloc(6);
  oui.split(':').forEach((h, i) => (b[i] = parseInt(h, 16)));
  b[3] = rng.int(256);
  b[4] = rng.int(256);
  b[5] = rng.int(256);
  return b;
}

export function ipBytes(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

/** The router's own stack (its TTL matters: it forwards, it does not originate). */
const ROUTER_OS: OsProfile = {
  name: 'Cisco IOS',
  version: '15',
  family: 'embedded',
  ttl: 255,
  tcp: { window: 4128, mss: 1460, options: 'mss', df: false },
};

export class Hospital {
  readonly devices: SimDevice[] = [];
  readonly zones = new Map<ZoneName, Zone>();
  private readonly byRole = new Map<string, SimDevice[]>();

  constructor(
    readonly catalogue: Catalogue,
    deviceCount: number,
    rng: Rng,
    readonly start: number,
  ) {
    ZONES.forEach((name, i) => {
      const octet = 10 + i * 10;
      const ip = `10.${octet}.0.1`;
      // Cisco's OUI for the router interfaces.
      const mac = Buffer.from([0x00, 0x1e, 0x7a, 0x00, i, 0x01]);
      this.zones.set(name, { name, vlan: 100 + octet, octet, gateway: { mac, ip: ipBytes(ip), ipText: ip, ttl: 255, os: ROUTER_OS } });
    });
    const counts = kindCounts(catalogue.devices, deviceCount);
    const perZone = new Map<ZoneName, number>();
    catalogue.devices.forEach((kind, k) => {
      const os = catalogue.osProfiles[kind.os] as OsProfile;
      const kr = rng.fork(kind.id);
      for (let n = 1; n <= (counts[k] as number); n++) {
        const zone = this.zones.get(kind.zone) as Zone;
        const i = perZone.get(kind.zone) ?? 0;
        perZone.set(kind.zone, i + 1);
        const ipText = `10.${zone.octet}.${1 + Math.floor(i / 200)}.${10 + (i % 200)}`;
        const hostname = pattern(kind.hostname, n);
        const dev: SimDevice = {
          id: hostname,
          kind,
          os,
          n,
          hostname,
          host: { mac: macFrom(kr.pick(kind.oui), kr), ip: ipBytes(ipText), ipText, ttl: os.ttl, os },
          zone,
          joins: start,
        };
        if (kind.dicom !== undefined) dev.aeTitle = pattern(kind.dicom.aeTitle, n);
        this.devices.push(dev);
        for (const role of rolesOf(kind)) {
          let list = this.byRole.get(role);
          if (list === undefined) this.byRole.set(role, (list = []));
          list.push(dev);
        }
      }
    });
  }

  /** Devices that provide a role: 'pacs', 'worklist', 'hl7-engine', 'dhcp', 'dns', 'smb', 'snmp-manager' … */
  withRole(role: string): readonly SimDevice[] {
    return this.byRole.get(role) ?? [];
  }

  /** How the two directions of a client→server conversation look on the client's segment. */
  link(client: Host, clientZone: Zone, server: Host, serverZone: Zone | undefined): [LinkView, LinkView] {
    const sameSegment = serverZone !== undefined && serverZone.name === clientZone.name;
    const gw = clientZone.gateway.mac;
    const serverHops = sameSegment ? 0 : serverZone === undefined ? 12 : 1;
    return [
      { srcMac: client.mac, dstMac: sameSegment ? server.mac : gw, vlan: clientZone.vlan, hops: 0 },
      { srcMac: sameSegment ? server.mac : gw, dstMac: client.mac, vlan: clientZone.vlan, hops: serverHops },
    ];
  }
}

function rolesOf(kind: DeviceKind): string[] {
  const roles: string[] = [kind.id, kind.category];
  if (kind.dicom !== undefined) roles.push(kind.dicom.role === 'pacs' ? 'pacs' : kind.dicom.role === 'worklist' ? 'worklist' : `dicom-${kind.dicom.role}`);
  if (kind.hl7 !== undefined) roles.push(`hl7-${kind.hl7.role}`);
  for (const s of kind.serves ?? []) roles.push(s);
  if (kind.http !== undefined) roles.push('web');
  if (kind.snmp !== undefined) roles.push('snmp-agent');
  return roles;
}

/**
 * Devices per kind for a hospital of `total` devices: proportional to per100, at least `min`,
 * summing exactly to `total` (largest remainders get the spare ones; the most numerous kinds give
 * way when minimums overshoot).
 */
export function kindCounts(kinds: readonly DeviceKind[], total: number): number[] {
  const weight = kinds.reduce((s, k) => s + k.per100, 0);
  const raw = kinds.map((k) => (weight > 0 ? (k.per100 / weight) * total : 0));
  const counts = raw.map((r, i) => Math.max(Math.floor(r), Math.min((kinds[i] as DeviceKind).min, total)));
  let sum = counts.reduce((a, b) => a + b, 0);
  const byRemainder = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0]);
  for (let j = 0; sum < total && j < byRemainder.length * 4; j++) {
    const i = (byRemainder[j % byRemainder.length] as readonly [number, number])[1];
    counts[i] = (counts[i] as number) + 1;
    sum++;
  }
  while (sum > total) {
    let big = 0;
    counts.forEach((c, i) => {
      if (c > (counts[big] as number)) big = i;
    });
    if ((counts[big] as number) <= 0) break;
    counts[big] = (counts[big] as number) - 1;
    sum--;
  }
  return counts;
}
