/**
 * `vigil simulate`: a synthetic hospital network as a capture plus its ground truth.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { Behaviour } from './behaviour.ts';
import { loadCatalogue } from './catalogue.ts';
import { runEngine } from './engine.ts';
import { Hospital } from './hospital.ts';
import { Rng } from './rng.ts';
import { PcapSink } from './wire.ts';

export interface SimulateOptions {
  devices: number;
  /** Seconds of traffic. */
  duration: number;
  seed: string;
  /** Capture start, seconds since the epoch (default 2026-11-23 00:00 UTC, so output never depends on today). */
  start?: number;
  out: string;
  truth?: string;
  catalogue: string;
  maxPackets?: number;
}

export const DEFAULT_START = Date.UTC(2026, 10, 23) / 1000;

export interface TruthDevice {
  id: string;
  kind: string;
  category: string;
  type: string;
  criticality: string;
  vendor: string;
  model: string;
  os: { name: string; version: string; family: string };
  mac: string;
  ips: string[];
  hostnames: string[];
  vlan: number;
  aeTitle?: string;
  firstSeen: number;
}

export interface Truth {
  generator: string;
  seed: string;
  start: number;
  end: number;
  packets: number;
  devices: TruthDevice[];
  incidents: unknown[];
}

function macText(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export async function simulate(o: SimulateOptions): Promise<Truth> {
  const catalogue = loadCatalogue(o.catalogue);
  const start = o.start ?? DEFAULT_START;
  const rng = new Rng(o.seed);
  const hospital = new Hospital(catalogue, o.devices, rng.fork('hospital'), start);
  const behaviour = new Behaviour(hospital, rng.fork('behaviour'));
  const sink = new PcapSink(createWriteStream(o.out));
  const packets = await runEngine(
    behaviour.activities(),
    { end: start + o.duration, maxPackets: o.maxPackets ?? 0 },
    (p) => sink.write(p),
    () => sink.full,
    () => sink.flush(),
  );
  await sink.close();
  const truth: Truth = {
    generator: 'vigil simulate',
    seed: o.seed,
    start,
    end: start + o.duration,
    packets,
    devices: hospital.devices.map((d) => {
      const t: TruthDevice = {
        id: d.id,
        kind: d.kind.id,
        category: d.kind.category,
        type: d.kind.type,
        criticality: d.kind.criticality,
        vendor: d.kind.vendor,
        model: d.kind.model,
        os: { name: d.os.name, version: d.os.version, family: d.os.family },
        mac: macText(d.host.mac),
        ips: [d.host.ipText],
        hostnames: [d.hostname],
        vlan: d.zone.vlan,
        firstSeen: d.joins,
      };
      if (d.aeTitle !== undefined) t.aeTitle = d.aeTitle;
      return t;
    }),
    incidents: [],
  };
  writeFileSync(o.truth ?? o.out.replace(/\.pcap(ng)?$/, '') + '.truth.json', `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
}
