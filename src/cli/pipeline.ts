/**
 * The analysis pipeline as the server and the reports run it: capture → sensor → inventory →
 * assessment → reconnaissance and behaviour findings, and the alerts they raise for people.
 */
import type { ByteSource } from '../capture/source.ts';
import { ALL_DISSECTORS, synDissectors } from '../protocols/index.ts';
import { runSensor, type RunResult } from '../sensor/run.ts';
import type { Sensor, SensorOptions } from '../sensor/sensor.ts';
import { InventoryBuilder } from '../inventory/builder.ts';
import { assessInventorySliced, inventoryAttributes, type AssessedDevice, type Inventory } from '../inventory/inventory.ts';
import { deviceProfiles } from '../knowledge/device-profiles.ts';
import { loadKnowledge } from '../knowledge/index.ts';
import { ReconLedger, detectRecon, type ReconFinding } from '../assess/recon.ts';
import { BaselineLedger, detectBaselineDeviations, LEARN_SECONDS, type BaselineAlert } from '../behavior/baseline.ts';
import type { Severity } from '../assess/finding.ts';
import type { NewAlert } from '../store/store.ts';
import type { Packet } from '../packet/packet.ts';
import { TrafficLedger, deviceTraffic, type DeviceTrafficRow } from '../flow/traffic.ts';
import { WindowModel, type WindowAlert } from '../behavior/window.ts';
import { combineBehaviour } from '../behavior/combine.ts';
import { fillPacketInput } from '../behavior/anomaly.ts';
import { newPacketInput } from '../behavior/incstats.ts';

export interface Analysis {
  run: RunResult;
  inventory: Inventory;
  recon: ReconFinding[];
  behaviour: BaselineAlert[];
  /** Flows summarised per device, hour, peer and service (when the state keeps them: the server). */
  traffic: DeviceTrafficRow[];
  /** The online model's alerts strong enough to raise alone (per device and minute; see behavior/window.ts, combine.ts). */
  anomalies: WindowAlert[];
  /** Its other anomalous minutes, neither corroborating a baseline alert nor strong: not raised. */
  unconfirmedAnomalies: WindowAlert[];
}

/** Online-model alerts kept for judgement, the latest (the model rate-limits per host; this caps the rest). */
const MAX_ANOMALIES = 10_000;

export interface AnalyseOptions {
  asOf?: Date;
  learn?: number;
  knowledgeDir?: string;
}

/**
 * What the analysis has gathered so far: fed by the sensor, judged whenever asked — at the end of a
 * file, or every checkpoint of a live capture.
 */
export class AnalysisState {
  /** Keeps the facts the assessment reads, no others (inventoryAttributes). */
  readonly builder = new InventoryBuilder({}, inventoryAttributes(deviceProfiles().attributesRead()));
  readonly recon = new ReconLedger();
  readonly baseline: BaselineLedger;
  /** Only the server keeps traffic summaries (for device pages); `vigil analyze` has no use for them. */
  readonly traffic: TrafficLedger | undefined;
  /** The online model: learns over the same period as the baseline, then scores each device's minutes. */
  readonly windows: WindowModel;
  readonly anomalies: WindowAlert[] = [];
  anomaliesDropped = 0;
  /** Whether the behaviour detectors run (`vigil analyze --no-behaviour`: the inventory and findings only). */
  readonly behaviour: boolean;
  private readonly input = newPacketInput();

  /** `baseline` and `windows` resume learnt state (BaselineLedger.fromJSON / mergeBaselineParts, WindowModel.fromJSON). */
  constructor(o: { traffic?: boolean; learn?: number; baseline?: BaselineLedger; windows?: WindowModel; behaviour?: boolean } = {}) {
    this.behaviour = o.behaviour !== false;
    this.traffic = o.traffic === true ? new TrafficLedger() : undefined;
    this.baseline = o.baseline ?? new BaselineLedger();
    this.windows = o.windows ?? new WindowModel({ learnSeconds: o.learn ?? LEARN_SECONDS });
    this.windows.onAlert = (a) => {
      // A live capture runs for months: keep the latest (the store already holds what was raised).
      if (this.anomalies.length >= MAX_ANOMALIES) {
        this.anomalies.shift();
        this.anomaliesDropped++;
      }
      this.anomalies.push(a);
    };
  }

  sensorOptions(): SensorOptions {
    const behaviour = this.behaviour;
    return {
      dissectors: ALL_DISSECTORS,
      synDissectors: synDissectors(),
      onObservation: (obs) => {
        this.builder.addObservation(obs);
        this.recon.observation(obs);
        // Names resolved, DICOM commands and SOP classes, HL7 message types: the baseline's protocol usage.
        if (behaviour) this.baseline.observation(obs);
      },
      onFlow: (f) => {
        this.builder.addFlow(f);
        this.recon.flow(f);
        if (behaviour) this.baseline.flow(f);
        this.traffic?.flow(f);
      },
      // Without behaviour, no per-packet hook at all (the sensor then does not even call one).
      ...(behaviour
        ? {
            onPacket: (p: Packet) => {
              fillPacketInput(p, this.input);
              this.windows.packet(this.input);
            },
          }
        : {}),
    };
  }

  /** When the capture is no longer than the learning period, behaviour was only learnt: how long each is. */
  learningOnly(learn = LEARN_SECONDS): { span: number; learn: number } | undefined {
    const b = this.baseline;
    const span = Number.isFinite(b.first) ? b.last - b.first : 0;
    return span <= learn ? { span, learn } : undefined;
  }

  /**
   * Asynchronous to read the knowledge (user-imported advisories are validated, loaded when there are
   * some), and to group and assess the devices in slices with the sensor's reading between them.
   */
  async judge(run: RunResult, o: AnalyseOptions = {}): Promise<Analysis> {
    const knowledge = await loadKnowledge(o.knowledgeDir !== undefined ? { knowledgeDir: o.knowledgeDir } : {});
    // In slices: a live sensor keeps reading between them (devicesSliced, assessInventorySliced).
    const inventory = await assessInventorySliced(await this.builder.devicesSliced(), knowledge, o.asOf ?? new Date());
    const traffic = this.traffic !== undefined ? deviceTraffic(this.traffic.rows(), inventory.devices) : [];
    if (!this.behaviour) return { run, inventory, recon: detectRecon(this.recon), behaviour: [], traffic, anomalies: [], unconfirmedAnomalies: [] };
    const baselineAlerts = detectBaselineDeviations(
      this.baseline,
      inventory.devices
        .filter((d) => d.ips.length > 0)
        .map((d) => ({ id: d.id, ips: d.ips, name: d.hostnames[0] ?? d.ips[0] ?? d.id, group: d.type !== undefined && d.type.confidence >= 0.5 ? d.type.value : '' })),
      { learnSeconds: o.learn ?? LEARN_SECONDS },
    );
    // Windows still open are scored now (at a live checkpoint, the minute in progress is scored in two parts).
    this.windows.flush();
    const byIp = new Map<string, string>();
    for (const d of inventory.devices) for (const ip of d.ips) byIp.set(ip, d.id);
    // The model corroborates the baseline, or raises alone when far above its threshold (combine.ts).
    const combined = combineBehaviour(baselineAlerts, this.anomalies, (ip) => byIp.get(ip));
    return { run, inventory, recon: detectRecon(this.recon), behaviour: combined.baseline, traffic, anomalies: combined.standalone, unconfirmedAnomalies: combined.unconfirmed };
  }
}

export async function analyse(source: ByteSource, o: AnalyseOptions & { onChunk?: (s: Sensor) => void; traffic?: boolean } = {}): Promise<Analysis> {
  const state = new AnalysisState({ traffic: o.traffic === true, ...(o.learn !== undefined ? { learn: o.learn } : {}) });
  const run = await runSensor(source, state.sensorOptions(), o.onChunk);
  return state.judge(run, o);
}

/** Who owns a device's alerts: clinical devices are both teams' business. */
export function teamsFor(d: AssessedDevice | undefined): string[] {
  const clinical = d !== undefined && d.category.value !== 'general-it' && d.category.value !== 'building-iot';
  return clinical ? ['clinical-engineering', 'it-security'] : ['it-security'];
}

function kevSeverity(d: AssessedDevice): Severity {
  return d.criticality === 'life-sustaining' ? 'critical' : d.criticality === 'diagnostic' ? 'high' : 'medium';
}

/**
 * The alerts an analysis raises for people: serious leaks, known-exploited vulnerabilities,
 * reconnaissance, behaviour (baseline and online model). One at a time, as they are made: a hundred
 * thousand devices raise hundreds of thousands, which a server queues in slices (keep.ts).
 */
export function* alertsOf(a: Analysis): Generator<NewAlert> {
  const at = a.run.report.lastTime ?? Date.now() / 1000;
  const byIp = new Map<string, AssessedDevice>();
  for (const d of a.inventory.devices) for (const ip of d.ips) byIp.set(ip, d);
  for (const d of a.inventory.devices) {
    const name = d.hostnames[0] ?? d.ips[0] ?? d.id;
    for (const l of d.leaks) {
      if (l.deviceSeverity === 'info' || l.deviceSeverity === 'low') continue;
      yield { key: `leak|${d.id}|${l.pattern}`, deviceId: d.id, kind: 'leak', severity: l.deviceSeverity, title: `${name}: ${l.title}`, detail: { facts: l.facts, evidence: l.evidence, remediation: l.remediation }, teams: teamsFor(d), at };
    }
    for (const v of d.vulnerabilities) {
      if (!v.kev || v.confidence < 0.5) continue;
      yield { key: `kev|${d.id}|${v.id}`, deviceId: d.id, kind: 'vulnerability', severity: kevSeverity(d), title: `${name}: ${v.id} ${v.title} (known exploited)`, detail: { why: v.why, remediation: v.remediation, url: v.url, confidence: v.confidence }, teams: teamsFor(d), at };
    }
  }
  for (const r of a.recon) {
    const d = byIp.get(r.client);
    yield { key: `recon|${r.client}`, deviceId: d?.id ?? null, kind: 'reconnaissance', severity: r.severity, title: `${d?.hostnames[0] ?? r.client} provokes errors from ${r.targets.length} device(s)`, detail: r, teams: ['it-security', ...r.targets.some((t) => teamsFor(byIp.get(t.server)).includes('clinical-engineering')) ? ['clinical-engineering'] : []], at: r.from };
  }
  const byId = a.behaviour.length > 0 ? new Map(a.inventory.devices.map((d) => [d.id, d])) : undefined;
  for (const b of a.behaviour) {
    const d = byId?.get(b.device);
    yield { key: `behaviour|${b.device}|${b.kind}`, deviceId: b.device, kind: 'behaviour', severity: b.kind === 'new-device' ? 'medium' : d?.criticality === 'support' ? 'medium' : 'high', title: b.text.length > 200 ? `${b.text.slice(0, 199)}…` : b.text, detail: b, teams: teamsFor(d), at: b.time };
  }
  for (const m of a.anomalies) {
    // The model's evidence is statistical: medium, one open alert per device (the store folds repeats).
    const d = byIp.get(m.host);
    const text = `${d?.hostnames[0] ?? m.host}${m.text.slice(m.host.length)}`;
    yield { key: `anomaly|${d?.id ?? m.host}`, deviceId: d?.id ?? null, kind: 'behaviour', severity: 'medium', title: text.length > 200 ? `${text.slice(0, 199)}…` : text, detail: m, teams: teamsFor(d), at: m.time };
  }
}
