/**
 * A device's learnt behaviour in the terms its page shows: whether it is still learning, the peers
 * and services it used while learning (its normal), and its traffic per hour — from the stored
 * pieces of the baseline (see `baselineParts`), without rebuilding the whole ledger.
 */
import type { BaselineSnapshot, BaselineSnapshotV1 } from './baseline.ts';
import type { UsageKind } from './usage.ts';

export interface BaselineSummary {
  state: 'learning' | 'learned' | 'none';
  /** When the learning period ends (or ended), Unix seconds. */
  learnedUntil?: number;
  /** Destinations it talked to in the learning period: "10.2.0.9 tcp/104 (dicom)". */
  normal: { peer: string; service: string; app: string | null; first: number; count: number }[];
  peers: string[];
  services: string[];
  /** Its hours: bytes out and in, packets, connections opened. */
  hours: { at: number; out: number; in: number; packets: number; conns: number }[];
  /** What it did with its protocols in the learning period (usage.ts): names resolved, DICOM commands and SOP classes, HL7 message types. */
  usage: Record<UsageKind, string[]>;
}

const noUsage = (): Record<UsageKind, string[]> => ({ dns: [], 'dicom-command': [], 'dicom-sop': [], hl7: [] });

/**
 * `device` is the device's own piece, `rest` the piece holding the capture span (its `first`);
 * `learnSeconds` the learning period the server runs with.
 */
export function baselineSummary(device: BaselineSnapshot | BaselineSnapshotV1 | undefined, rest: BaselineSnapshot | BaselineSnapshotV1 | undefined, learnSeconds: number): BaselineSummary {
  const first = rest?.first ?? device?.first ?? null;
  if (device === undefined || first === null) return { state: 'none', normal: [], peers: [], services: [], hours: [], usage: noUsage() };
  const learnedUntil = first + learnSeconds;
  const last = Math.max(rest?.last ?? -Infinity, device.last ?? -Infinity);
  const normal: BaselineSummary['normal'] = [];
  for (const [, , , edges] of device.clients) {
    for (const [key, f, count, app] of edges) {
      if (f > learnedUntil) continue;
      const bar = key.indexOf('|');
      normal.push({ peer: key.slice(0, bar), service: key.slice(bar + 1), app, first: f, count });
    }
  }
  normal.sort((a, b) => b.count - a.count || a.peer.localeCompare(b.peer));
  const hours: BaselineSummary['hours'] = [];
  for (const [, hs] of device.volume) for (const [h, out, inb, packets, conns] of hs) hours.push({ at: h * 3600, out, in: inb, packets, conns });
  hours.sort((a, b) => a.at - b.at);
  // A piece written before protocol usage was learnt (version 1) has none.
  const usage = noUsage();
  if (device.version === 2) {
    for (const [, items] of device.usage) for (const [k, v, f] of items) if (f <= learnedUntil && usage[k] !== undefined && !usage[k].includes(v)) usage[k].push(v);
    for (const k of Object.keys(usage) as UsageKind[]) usage[k].sort();
  }
  return {
    state: last >= learnedUntil ? 'learned' : 'learning',
    learnedUntil,
    normal: normal.slice(0, 500),
    peers: [...new Set(normal.map((n) => n.peer))],
    services: [...new Set(normal.map((n) => `${n.service}${n.app !== null ? ` ${n.app}` : ''}`))],
    hours,
    usage,
  };
}
