/**
 * A first, protocol-level view of "who is who" for `vigil analyze`'s summary: observations grouped
 * by host, strongest first. (The device inventory proper — identity, vendor, OS ranking — is the
 * inventory stage's job; this is what the sensor alone can say.)
 *
 * Hosts are keyed by IP. An observation that names only a MAC (a DHCP request from 0.0.0.0) joins
 * the one host seen with that MAC; a MAC seen with many IPs is a router, and then it stays apart —
 * everything behind a gateway must never fold into one host.
 */
import type { Observation } from '../protocols/observation.ts';

export interface HostAttribute {
  attribute: string;
  values: string[];
  confidence: number;
  protocols: string[];
  /** First frame that showed it. */
  frame: number;
}

export interface HostSummary {
  ip: string | undefined;
  macs: string[];
  observations: number;
  attributes: HostAttribute[];
}

/** Attributes that identify a device most directly come first in the summary. */
const PRIORITY = [
  'os',
  'dhcp.hostname',
  'netbios.name',
  'ntlmssp.dns_computer',
  'ntlmssp.nb_computer',
  'mdns.hostname',
  'dicom.calling_ae',
  'dicom.called_ae',
  'dicom.implementation_version',
  'hl7.sending_application',
  'snmp.sys_descr',
  'http.server',
  'ssdp.server',
  'http.user_agent',
  'dhcp.vendor_class',
  'tls.sni',
];

function rank(attribute: string): number {
  const i = PRIORITY.indexOf(attribute);
  return i < 0 ? PRIORITY.length : i;
}

const MAX_VALUES = 3;

export class HostIndex {
  private readonly byIp = new Map<string, Acc>();
  private readonly byMac = new Map<string, Acc>();
  private readonly macIps = new Map<string, Set<string>>();
  /** Hosts kept; beyond this new hosts are counted but not detailed (memory stays bounded). */
  constructor(private readonly maxHosts = 10_000) {}
  dropped = 0;

  add(o: Observation): void {
    if (o.mac !== undefined && o.ip !== undefined && o.ip !== '0.0.0.0') {
      let s = this.macIps.get(o.mac);
      if (s === undefined) this.macIps.set(o.mac, (s = new Set()));
      if (s.size < 16) s.add(o.ip);
    }
    const useIp = o.ip !== undefined && o.ip !== '0.0.0.0';
    const key = useIp ? (o.ip as string) : o.mac;
    if (key === undefined) return;
    const map = useIp ? this.byIp : this.byMac;
    let acc = map.get(key);
    if (acc === undefined) {
      if (this.byIp.size + this.byMac.size >= this.maxHosts) {
        this.dropped++;
        return;
      }
      acc = new Acc(useIp ? key : undefined);
      map.set(key, acc);
    }
    acc.add(o);
  }

  /** Hosts, most revealing first; only the first `limit` are summarised (a summary sorts its attributes). */
  hosts(limit = Infinity): { total: number; hosts: HostSummary[] } {
    // Fold MAC-only hosts into the single IP host that MAC was seen with.
    for (const [mac, acc] of this.byMac) {
      const ips = this.macIps.get(mac);
      if (ips !== undefined && ips.size === 1) {
        const target = this.byIp.get([...ips][0] as string);
        if (target !== undefined) {
          target.merge(acc);
          this.byMac.delete(mac);
        }
      }
    }
    const all = [...this.byIp.values(), ...this.byMac.values()].filter((a) => a.attrs.size > 0);
    all.sort((a, b) => b.attrs.size - a.attrs.size || b.count - a.count);
    return { total: this.byIp.size + this.byMac.size, hosts: all.slice(0, limit).map((a) => a.summary(this.macIps)) };
  }
}

class Acc {
  readonly macs = new Set<string>();
  count = 0;
  readonly attrs = new Map<string, HostAttribute>();
  constructor(readonly ip: string | undefined) {}

  add(o: Observation): void {
    this.count++;
    if (o.mac !== undefined && this.macs.size < 8) this.macs.add(o.mac);
    let a = this.attrs.get(o.attribute);
    if (a === undefined) {
      if (this.attrs.size >= 64) return;
      a = { attribute: o.attribute, values: [], confidence: 0, protocols: [], frame: o.frame };
      this.attrs.set(o.attribute, a);
    }
    if (!a.values.includes(o.value) && a.values.length < MAX_VALUES + 1) a.values.push(o.value);
    if (!a.protocols.includes(o.protocol)) a.protocols.push(o.protocol);
    if (o.confidence > a.confidence) a.confidence = o.confidence;
  }

  merge(other: Acc): void {
    for (const m of other.macs) this.macs.add(m);
    this.count += other.count;
    for (const a of other.attrs.values()) {
      const mine = this.attrs.get(a.attribute);
      if (mine === undefined) this.attrs.set(a.attribute, a);
      else for (const v of a.values) if (!mine.values.includes(v) && mine.values.length <= MAX_VALUES) mine.values.push(v);
    }
  }

  summary(macIps: Map<string, Set<string>>): HostSummary {
    const attributes = [...this.attrs.values()].sort(
      (a, b) => rank(a.attribute) - rank(b.attribute) || b.confidence - a.confidence || a.attribute.localeCompare(b.attribute),
    );
    // A MAC shared by many IPs is a router's: it says nothing about this host.
    const macs = [...this.macs].filter((m) => (macIps.get(m)?.size ?? 1) <= 1 || this.ip === undefined);
    return { ip: this.ip, macs, observations: this.count, attributes };
  }
}
