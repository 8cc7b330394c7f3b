/**
 * Flows summarised for the store: per address, hour, peer and service, the packets, bytes and
 * connections each way together. This is what a device page shows as its communication peers and
 * its volume over time, and what the store keeps (with a retention limit) instead of raw flows.
 *
 * A flow counts in the hour it ended in: flow records arrive when flows end, so once capture time
 * has moved past an hour its rows are final and can be forgotten (`forgetBefore`), which keeps a
 * live capture's ledger to the last hours. The rows are totals: the store replaces, never adds.
 *
 * Bounded: at most `maxKeysPerIp` peer×service keys per address and hour (the rest fold into one
 * "other" row, so the totals stay true), and at most `maxKeys` keys in all (past that, flows are
 * counted as dropped, never silently).
 */
import type { FlowRecord } from './flow.ts';
import { isUnicastIp } from '../inventory/address.ts';

export interface TrafficRow {
  ip: string;
  /** Start of the hour (Unix seconds) the flows ended in. */
  hour: number;
  peer: string;
  /** "tcp/104 dicom": transport, the server's port, and the protocol recognised on it. */
  service: string;
  packets: number;
  bytes: number;
  flows: number;
  firstSeen: number;
  lastSeen: number;
}

export interface TrafficLimits {
  maxKeysPerIp: number;
  maxKeys: number;
}

/** The peer a row stands for when an address has more distinct peers×services in an hour than kept. */
export const OTHER_PEERS = 'other';

export class TrafficLedger {
  private readonly byKey = new Map<string, TrafficRow>();
  private readonly keysPerIpHour = new Map<string, number>();
  private readonly limits: TrafficLimits;
  /** Flows not summarised because the ledger was full. */
  dropped = 0;

  constructor(limits: Partial<TrafficLimits> = {}) {
    this.limits = { maxKeysPerIp: 512, maxKeys: 500_000, ...limits };
  }

  get size(): number {
    return this.byKey.size;
  }

  flow(f: FlowRecord): void {
    const hour = Math.floor(f.end / 3600) * 3600;
    const service = `${f.proto}/${f.serverPort}${f.app !== undefined ? ` ${f.app}` : ''}`;
    const packets = f.clientPackets + f.serverPackets;
    const bytes = f.clientBytes + f.serverBytes;
    if (isUnicastIp(f.clientIp)) this.add(f.clientIp, hour, f.serverIp, service, packets, bytes, f.start, f.end);
    if (isUnicastIp(f.serverIp)) this.add(f.serverIp, hour, f.clientIp, service, packets, bytes, f.start, f.end);
  }

  private add(ip: string, hour: number, peer: string, service: string, packets: number, bytes: number, start: number, end: number): void {
    let key = `${ip}|${hour}|${peer}|${service}`;
    let row = this.byKey.get(key);
    if (row === undefined) {
      const ipHour = `${ip}|${hour}`;
      const n = this.keysPerIpHour.get(ipHour) ?? 0;
      if (n >= this.limits.maxKeysPerIp) {
        peer = OTHER_PEERS;
        service = OTHER_PEERS;
        key = `${ip}|${hour}|${peer}|${service}`;
        row = this.byKey.get(key);
      }
      if (row === undefined) {
        if (this.byKey.size >= this.limits.maxKeys) {
          this.dropped++;
          return;
        }
        row = { ip, hour, peer, service, packets: 0, bytes: 0, flows: 0, firstSeen: start, lastSeen: end };
        this.byKey.set(key, row);
        this.keysPerIpHour.set(ipHour, n + 1);
      }
    }
    row.packets += packets;
    row.bytes += bytes;
    row.flows++;
    if (start < row.firstSeen) row.firstSeen = start;
    if (end > row.lastSeen) row.lastSeen = end;
  }

  /** The totals so far, per address, hour, peer and service. */
  rows(): TrafficRow[] {
    return [...this.byKey.values()];
  }

  /** Forgets everything (the rows were written as one source's totals). */
  clear(): void {
    this.byKey.clear();
    this.keysPerIpHour.clear();
  }

  /** Forgets the hours before `hour` (their rows are final and written). */
  forgetBefore(hour: number): void {
    for (const [k, r] of this.byKey) if (r.hour < hour) this.byKey.delete(k);
    for (const k of this.keysPerIpHour.keys()) if (Number(k.slice(k.lastIndexOf('|') + 1)) < hour) this.keysPerIpHour.delete(k);
  }
}

export interface DeviceTrafficRow extends Omit<TrafficRow, 'ip'> {
  deviceId: string;
}

/** The rows of addresses that belong to a device, keyed by that device (the rest are peers only). */
export function deviceTraffic(rows: readonly TrafficRow[], devices: readonly { id: string; ips: readonly string[] }[]): DeviceTrafficRow[] {
  const owner = new Map<string, string>();
  for (const d of devices) for (const ip of d.ips) owner.set(ip, d.id);
  const merged = new Map<string, DeviceTrafficRow>();
  for (const r of rows) {
    const deviceId = owner.get(r.ip);
    if (deviceId === undefined) continue;
    // A device with several addresses talking to the same peer in the same hour is one row.
    const key = `${deviceId}|${r.hour}|${r.peer}|${r.service}`;
    const m = merged.get(key);
    if (m === undefined) {
      merged.set(key, { deviceId, hour: r.hour, peer: r.peer, service: r.service, packets: r.packets, bytes: r.bytes, flows: r.flows, firstSeen: r.firstSeen, lastSeen: r.lastSeen });
    } else {
      m.packets += r.packets;
      m.bytes += r.bytes;
      m.flows += r.flows;
      m.firstSeen = Math.min(m.firstSeen, r.firstSeen);
      m.lastSeen = Math.max(m.lastSeen, r.lastSeen);
    }
  }
  return [...merged.values()];
}
