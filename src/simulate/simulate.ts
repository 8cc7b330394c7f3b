/**
 * `vigil simulate`: a synthetic hospital network as a capture plus its ground truth.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { Behaviour, type NoiseEvent } from './behaviour.ts';
import { loadCatalogue } from './catalogue.ts';
import { runEngine } from './engine.ts';
import { Hospital } from './hospital.ts';
import { Rng } from './rng.ts';
import { PcapSink } from './wire.ts';
import { IncidentPlanner, parseIncidents, type Incident } from './incidents.ts';
import type { SimDevice } from './hospital.ts';

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
  /** "all", "none", or a comma list of incident kinds. */
  incidents?: string;
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
  /** Not part of the hospital: brought in by an incident. */
  rogue?: boolean;
}

export interface Truth {
  generator: string;
  seed: string;
  start: number;
  end: number;
  packets: number;
  devices: TruthDevice[];
  incidents: Incident[];
  /** Normal changes that are not incidents (a new workstation, a firmware update): alerts on them are false positives. */
  noise: NoiseEvent[];
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
  const end = start + o.duration;
  const noise = behaviour.noise(start, end);
  const planner = new IncidentPlanner(hospital, behaviour, rng.fork('incidents'), start, end);
  planner.plan(parseIncidents(o.incidents ?? 'none'));
  const sink = new PcapSink(createWriteStream(o.out));
  const packets = await runEngine(
    [...behaviour.activities(), ...noise.activities, ...planner.activities],
    { end, maxPackets: o.maxPackets ?? 0 },
    (p, tag) => {
      const frame = sink.write(p);
      if (tag !== undefined) planner.frame(tag, frame, p.time);
    },
    () => sink.full,
    () => sink.flush(),
  );
  await sink.close();
  const truthDevice = (d: SimDevice, rogue: boolean): TruthDevice => {
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
    if (rogue) t.rogue = true;
    return t;
  };
  const truth: Truth = {
    generator: 'vigil simulate',
    seed: o.seed,
    start,
    end,
    packets,
    devices: [...hospital.devices.map((d) => truthDevice(d, false)), ...planner.extraDevices.map((d) => truthDevice(d, true))],
    // An incident that fell outside a --max-packets cut never happened.
    incidents: planner.incidents.filter((i) => i.packets > 0),
    noise: noise.events,
  };
  writeFileSync(o.truth ?? o.out.replace(/\.pcap(ng)?$/, '') + '.truth.json', `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
}
