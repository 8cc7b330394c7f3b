/**
 * The online behaviour models, speed and quality: the device-window model (src/behavior/window.ts,
 * the one in the pipeline) and per-packet Kitsune (anomaly.ts, the reference it replaced).
 *
 *   node --import tsx bench/behavior.ts [--speed-only | --quality-only] [--capture FILE] [--learn N]
 *        [--model window,packet] [--seeds behaviour,holdout] [--devices 100] [--duration 48h]
 *        [--learn-hours 24] [--threshold max|q0.999|ln1e-4]
 *
 * (a) Speed, on bench/out/hospital-1m.pcap: the capture is decoded first into columns, then each
 *     model is timed alone on one core (after learning on the first `--learn` packets, default
 *     100,000, or their capture time), and end to end with decoding. Goal: ≥ 200,000 packets/s.
 * (b) Quality, per seed, on a simulated 100-device hospital over 48 h with every incident kind
 *     (placed after 60 % of the time, so after the learning day): both models learn over the first
 *     24 h of capture time — their thresholds come from that period only — and score the second day.
 *     The design (features, windows, the 0.995 quantile threshold, persistence) was chosen on seed
 *     "behaviour"; "holdout" is another hospital and another day, to show it was not fitted to one.
 *     Labels: a frame is an incident's when it lies in the incident's frames between its attacker
 *     and a victim (any frame of a rogue device). Per packet (Kitsune): ROC-AUC over packets.
 *     Per window (the device-window model): a host-window is positive when it holds incident frames
 *     of the attacker; victims' windows in the incident are left out (neither positive nor negative);
 *     every other scored host-window is a negative. Alerts: true on a positive window, ignored on a
 *     victim's, false otherwise; false alerts per 100 devices per scored day; time to detect from
 *     the incident's start to its first alert (a window alerts when it ends).
 *     The model alone is measured here; with the baseline (as the pipeline runs them) in bench/baseline.ts.
 *
 * Writes bench/out/behavior.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CaptureReader } from '../src/capture/reader.ts';
import { fileSource } from '../src/capture/source.ts';
import { PacketDecoder } from '../src/packet/decode.ts';
import { Packet } from '../src/packet/packet.ts';
import { PacketAnomalyDetector, fillPacketInput, type AnomalyAlert } from '../src/behavior/anomaly.ts';
import { N_WINDOW_FEATURES, WindowModel, type WindowAlert } from '../src/behavior/window.ts';
import { FeatureExtractor, N_FEATURES, ipKeyFromString, newPacketInput } from '../src/behavior/incstats.ts';
import { simulate, type Truth } from '../src/simulate/simulate.ts';

const here = new URL('.', import.meta.url).pathname;
const repo = resolve(here, '..');
const outDir = join(here, 'out');
const args = process.argv.slice(2);
const opt = (flag: string, d: string): string => {
  const i = args.indexOf(flag);
  return i >= 0 ? (args[i + 1] ?? d) : d;
};
const speedOnly = args.includes('--speed-only');
const qualityOnly = args.includes('--quality-only');

/** Calls `each(pkt)` for every decoded IP packet of the capture. */
async function readCapture(file: string, each: (p: Packet) => void): Promise<{ frames: number; ip: number }> {
  const decoder = new PacketDecoder();
  const pkt = new Packet();
  let ip = 0;
  const reader = new CaptureReader((rec) => {
    if (decoder.decode(rec, pkt) !== undefined) return;
    ip++;
    each(pkt);
  });
  const src = await fileSource(file);
  try {
    for (;;) {
      const chunk = src.nextSync!();
      if (chunk === undefined) break;
      reader.push(chunk);
    }
  } finally {
    src.close?.();
  }
  reader.end();
  return { frames: reader.stats.frames, ip };
}

/** A capture's IP packets as columns (what the extractor reads), so decoding stays out of the timing. */
class Columns {
  n = 0;
  time: Float64Array;
  srcMac: Float64Array;
  srcIp: Float64Array;
  dstIp: Float64Array;
  ports: Uint32Array;
  length: Uint32Array;
  proto: Uint8Array;
  flags: Uint16Array;
  internal: Uint8Array;
  constructor(cap: number) {
    this.flags = new Uint16Array(cap);
    this.internal = new Uint8Array(cap);
    this.time = new Float64Array(cap);
    this.srcMac = new Float64Array(cap);
    this.srcIp = new Float64Array(cap);
    this.dstIp = new Float64Array(cap);
    this.ports = new Uint32Array(cap);
    this.length = new Uint32Array(cap);
    this.proto = new Uint8Array(cap);
  }
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const results: Record<string, unknown> = {};

async function speed(): Promise<void> {
  const file = resolve(opt('--capture', join(outDir, 'hospital-1m.pcap')));
  if (!existsSync(file)) {
    console.error(`${file} is missing: node bin/vigil.js simulate -n 200 -d 24h --start 2026-11-23T06:00:00Z --max-packets 1000000 -o bench/out/hospital-1m.pcap`);
    process.exit(1);
  }
  const learn = Number(opt('--learn', '100000'));
  const cols = new Columns(1_100_000);
  const inp = newPacketInput();
  let t0 = process.hrtime.bigint();
  await readCapture(file, (p) => {
    if (cols.n >= cols.time.length) return;
    fillPacketInput(p, inp);
    const i = cols.n++;
    cols.time[i] = inp.time;
    cols.srcMac[i] = inp.srcMac;
    cols.srcIp[i] = inp.srcIp;
    cols.dstIp[i] = inp.dstIp;
    cols.ports[i] = (inp.srcPort << 16) | inp.dstPort;
    cols.length[i] = inp.length;
    cols.proto[i] = inp.proto;
    cols.flags[i] = inp.flags;
    cols.internal[i] = inp.internal;
  });
  const decodeMs = ms(t0);
  const n = cols.n;
  const load = (i: number): void => {
    inp.time = cols.time[i]!;
    inp.srcMac = cols.srcMac[i]!;
    inp.srcIp = cols.srcIp[i]!;
    inp.dstIp = cols.dstIp[i]!;
    const pp = cols.ports[i]!;
    inp.srcPort = pp >>> 16;
    inp.dstPort = pp & 0xffff;
    inp.length = cols.length[i]!;
    inp.proto = cols.proto[i]!;
    inp.flags = cols.flags[i]!;
    inp.internal = cols.internal[i]!;
  };

  // The device-window model: learns over the capture time of the first `learn` packets, then counts
  // and scores the rest (its cost per packet is the counting; the ensemble runs once per host-window).
  const wm = new WindowModel({ learnSeconds: cols.time[Math.min(learn, n - 1)]! - cols.time[0]! });
  let wAlerts = 0;
  wm.onAlert = () => wAlerts++;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < learn && i < n; i++) {
    load(i);
    wm.packet(inp);
  }
  const wLearnMs = ms(t0);
  t0 = process.hrtime.bigint();
  for (let i = learn; i < n; i++) {
    load(i);
    wm.packet(inp);
  }
  wm.flush();
  const wScoreMs = ms(t0);
  // End to end, as the pipeline feeds it: decode + fill + count + score, with the model learnt above.
  const wm2 = WindowModel.fromJSON(wm.toJSON());
  const inp2 = newPacketInput();
  t0 = process.hrtime.bigint();
  const r2 = await readCapture(file, (p) => {
    fillPacketInput(p, inp2);
    wm2.packet(inp2);
  });
  wm2.flush();
  const wE2eMs = ms(t0);
  const wRes = {
    learnPacketsPerSecond: Math.round(Math.min(learn, n) / (wLearnMs / 1000)),
    countAndScorePacketsPerSecond: Math.round((n - learn) / (wScoreMs / 1000)),
    endToEndPacketsPerSecond: Math.round(r2.ip / (wE2eMs / 1000)),
    windowsScored: wm.windowsScored,
    alerts: wAlerts,
    phase: wm.phase,
    tableBytes: wm.bytes,
    tableBytesMax: WindowModel.maxBytes(),
  };
  results['windowSpeed'] = wRes;

  // Feature extraction alone, every packet.
  const fx = new FeatureExtractor();
  const x = new Float64Array(N_FEATURES);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    load(i);
    fx.extract(inp, x);
  }
  const fxMs = ms(t0);

  // Learning on the first `learn` packets, then extraction + scoring on the rest.
  const det = new PacketAnomalyDetector({ learnPackets: learn });
  t0 = process.hrtime.bigint();
  for (let i = 0; i < learn && i < n; i++) {
    load(i);
    det.score(inp);
  }
  const learnMs = ms(t0);
  let above = 0;
  const thr = det.threshold();
  t0 = process.hrtime.bigint();
  for (let i = learn; i < n; i++) {
    load(i);
    if (det.score(inp) > thr) above++;
  }
  const scoreMs = ms(t0);
  const scored = n - learn;

  // End to end: decode + extract + score through packet(), as the sensor would call it.
  const det2 = new PacketAnomalyDetector({ model: det.model });
  t0 = process.hrtime.bigint();
  let alerts = 0;
  const r = await readCapture(file, (p) => {
    if (det2.packet(p) !== undefined) alerts++;
  });
  const e2eMs = ms(t0);

  const res = {
    capture: file,
    ipPackets: n,
    frames: r.frames,
    decodePacketsPerSecond: Math.round(n / (decodeMs / 1000)),
    extractPacketsPerSecond: Math.round(n / (fxMs / 1000)),
    learnPackets: learn,
    learnPacketsPerSecond: Math.round(Math.min(learn, n) / (learnMs / 1000)),
    scored,
    extractAndScorePacketsPerSecond: Math.round(scored / (scoreMs / 1000)),
    endToEndPacketsPerSecond: Math.round(r.ip / (e2eMs / 1000)),
    autoencoders: det.model.featureMap.length,
    featureMap: det.model.featureMap.map((g) => g.length),
    threshold: thr,
    aboveThreshold: above,
    alertsEndToEnd: alerts,
    tableBytes: det.bytes,
    tableBytesMax: FeatureExtractor.maxBytes(),
    rssMb: Math.round(process.memoryUsage().rss / 1048576),
  };
  results['speed'] = res;
  console.log('\n== speed (one core) ==');
  console.log(`capture                          ${file} (${n.toLocaleString('en')} IP packets)`);
  console.log(`decode only                      ${res.decodePacketsPerSecond.toLocaleString('en')} packets/s`);
  console.log(`feature extraction only          ${res.extractPacketsPerSecond.toLocaleString('en')} packets/s`);
  console.log(`learning (extract + train)       ${res.learnPacketsPerSecond.toLocaleString('en')} packets/s over ${learn.toLocaleString('en')}`);
  console.log(`extraction + scoring             ${res.extractAndScorePacketsPerSecond.toLocaleString('en')} packets/s over ${scored.toLocaleString('en')}   (goal ≥ 200,000)`);
  console.log(`decode + extract + score (e2e)   ${res.endToEndPacketsPerSecond.toLocaleString('en')} packets/s`);
  console.log(`ensemble                         ${res.autoencoders} autoencoders, sizes ${res.featureMap.join(',')}`);
  console.log(`statistics tables                ${(res.tableBytes / 1048576).toFixed(1)} MiB now, ≤ ${(res.tableBytesMax / 1048576).toFixed(0)} MiB by the limits; RSS ${res.rssMb} MiB`);
  console.log(`device windows: learning         ${wRes.learnPacketsPerSecond.toLocaleString('en')} packets/s`);
  console.log(`device windows: count + score    ${wRes.countAndScorePacketsPerSecond.toLocaleString('en')} packets/s over ${scored.toLocaleString('en')} (${wRes.windowsScored.toLocaleString('en')} host-windows scored; goal ≥ 200,000)`);
  console.log(`device windows: decode + count + score (e2e) ${wRes.endToEndPacketsPerSecond.toLocaleString('en')} packets/s`);
  console.log(`device windows: tables           ${(wRes.tableBytes / 1048576).toFixed(1)} MiB now, ≤ ${(wRes.tableBytesMax / 1048576).toFixed(0)} MiB by the limits`);
}

// ---- quality -------------------------------------------------------------------------------------

function rocAuc(scores: Float64Array, labels: Uint8Array): number {
  const n = scores.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]!] === 1) {
        pos++;
        rankSum += avg;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

interface Labelled {
  inc: Truth['incidents'][number];
  attacker: Set<number>;
  victims: Set<number>;
}

/** Per-frame label: incident index + 1 for frames between an incident's attacker and a victim within its frames (any frame of the rogue device), else 0. */
function labelOf(incidents: Labelled[], f: number, s: number, d: number): number {
  for (let k = 0; k < incidents.length; k++) {
    const { inc, attacker, victims } = incidents[k]!;
    if (f < inc.firstFrame || f > inc.lastFrame) continue;
    const hit = inc.kind === 'rogue-device' ? attacker.has(s) || attacker.has(d) : (attacker.has(s) && victims.has(d)) || (attacker.has(d) && victims.has(s));
    if (hit) return k + 1;
  }
  return 0;
}

function fmtS(v: number | null): string {
  return v === null ? 'never' : `${v.toFixed(1)} s`;
}

async function quality(seed: string, models: Set<string>): Promise<Record<string, unknown>> {
  const devices = Number(opt('--devices', '100'));
  const durationH = Number(opt('--duration', '48h').replace(/h$/, ''));
  const learnH = Number(opt('--learn-hours', '24'));
  const pcap = join(outDir, `behaviour-${seed}-${devices}-${durationH}h.pcap`);
  const truthFile = pcap.replace(/\.pcap$/, '.truth.json');
  mkdirSync(outDir, { recursive: true });
  let truth: Truth;
  if (existsSync(pcap) && existsSync(truthFile)) truth = JSON.parse(readFileSync(truthFile, 'utf8')) as Truth;
  else {
    console.error(`simulating ${devices} devices, ${durationH} h, seed "${seed}", every incident → ${pcap}`);
    truth = await simulate({
      devices,
      duration: durationH * 3600,
      seed,
      start: Date.parse('2026-11-23T06:00:00Z') / 1000,
      out: pcap,
      truth: truthFile,
      catalogue: join(repo, 'data/simulator/catalogue.json'),
      incidents: 'all',
    });
  }
  const ipsOf = new Map<string, string[]>();
  for (const d of truth.devices) ipsOf.set(d.id, d.ips);
  const keysOf = (who: string): number[] => (ipsOf.get(who) ?? [who]).map(ipKeyFromString);
  const incidents: Labelled[] = truth.incidents.map((inc) => ({ inc, attacker: new Set(keysOf(inc.attacker)), victims: new Set(inc.victims.flatMap(keysOf)) }));
  const nFrames = truth.packets;
  const learnSeconds = learnH * 3600;
  const learnEnd = truth.start + learnSeconds;
  const firstIncident = Math.min(...truth.incidents.map((i) => i.start));
  if (firstIncident <= learnEnd) console.error(`WARNING: an incident starts at ${new Date(firstIncident * 1000).toISOString()}, inside the learning period`);
  const detectDays = (truth.end - learnEnd) / 86400;
  const per100 = (n: number): number => n / (truth.devices.length / 100) / detectDays;
  const out: Record<string, unknown> = { capture: pcap, seed, devices: truth.devices.length, frames: nFrames, learnSeconds, detectDays };
  console.log(`\n== quality, seed "${seed}" ==`);
  console.log(`capture            ${pcap}: ${nFrames.toLocaleString('en')} frames, ${truth.devices.length} devices, ${truth.incidents.length} incidents, ${durationH} h`);
  console.log(`learning           first ${learnH} h of capture time (thresholds from it only); ${detectDays.toFixed(2)} days scored after it`);

  // Both models read the capture once; per frame the label, per window the attacker's and victims' windows.
  const pktDet = models.has('packet') ? new PacketAnomalyDetector({ learnSeconds }) : undefined;
  // --threshold max | q0.999 (a quantile of the training scores) | ln1e-4 (log-normal tail): the rule, never a value.
  const th = opt('--threshold', '');
  const kitnet = th === '' ? {} : th === 'max' ? { thresholdMethod: 'max' as const } : th.startsWith('q') ? { thresholdMethod: 'quantile' as const, thresholdQ: Number(th.slice(1)) } : { thresholdMethod: 'lognormal' as const, thresholdQ: Number(th.slice(2)) };
  const win = models.has('window') ? new WindowModel({ learnSeconds, kitnet }) : undefined;
  const W = win?.opts.windowSeconds ?? 60;
  const inp = newPacketInput();
  /** Host-window keys (host key × 2^20 + window mod 2^20) holding incident packets: the attacker's (positive) and the victims' (not counted either way). */
  const posWin = new Map<number, number>();
  const relWin = new Set<number>();
  const wkey = (host: number, w: number): number => host * 1048576 + (w % 1048576);
  const pScores: number[] = [];
  const pLabels: number[] = [];
  const pTimes: number[] = [];
  const pAlerts: Array<{ a: AnomalyAlert; label: number }> = [];
  const wins: Array<{ score: number; key: number; time: number; anomalous: boolean; alert: WindowAlert | undefined }> = [];
  if (win !== undefined) win.onWindow = (s) => wins.push({ score: s.score, key: wkey(s.hostKey, s.window), time: (s.window + 1) * W, anomalous: s.anomalous, alert: s.alert });
  let pThr = Infinity;
  const t0 = process.hrtime.bigint();
  await readCapture(pcap, (p) => {
    const f = p.frame;
    const s4 = p.ipVersion === 4 ? p.src4 : -1;
    const d4 = p.ipVersion === 4 ? p.dst4 : -1;
    const lab = labelOf(incidents, f, s4, d4);
    if (lab > 0) {
      const { attacker } = incidents[lab - 1]!;
      const w = Math.floor(p.time / W);
      for (const h of [s4, d4]) {
        if (attacker.has(h)) posWin.set(wkey(h, w), lab);
        else relWin.add(wkey(h, w));
      }
    }
    if (win !== undefined) {
      fillPacketInput(p, inp);
      win.packet(inp);
    }
    if (pktDet !== undefined) {
      const a = pktDet.packet(p, f);
      if (pktDet.phase === 'executing' && pktDet.model.nExecuted > 0) {
        pThr = pktDet.threshold();
        pScores.push(pktDet.lastScore);
        pLabels.push(lab);
        pTimes.push(p.time);
        if (a !== undefined) pAlerts.push({ a, label: lab });
      }
    }
  });
  win?.flush();
  const runS = ms(t0) / 1000;
  console.log(`read and scored in ${runS.toFixed(0)} s`);

  if (pktDet !== undefined) {
    const n = pScores.length;
    const sc = Float64Array.from(pScores);
    const lb = Uint8Array.from(pLabels, (l) => (l > 0 ? 1 : 0));
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let j = 0; j < n; j++) {
      if (sc[j]! > pThr) {
        if (lb[j] === 1) tp++;
        else fp++;
      } else if (lb[j] === 1) fn++;
    }
    const falseAlerts = pAlerts.filter((x) => x.label === 0).length;
    const perInc = incidents.map(({ inc }, k) => {
      const first = pAlerts.find((x) => x.label === k + 1);
      return { kind: inc.kind, secondsToFirstAlert: first === undefined ? null : first.a.time - inc.start };
    });
    const res = {
      model: 'Kitsune per packet (115 damped statistics, KitNET)',
      scored: n,
      positives: lb.reduce((x, y) => x + y, 0),
      threshold: pThr,
      rocAuc: rocAuc(sc, lb),
      precision: tp + fp > 0 ? tp / (tp + fp) : NaN,
      recall: tp + fn > 0 ? tp / (tp + fn) : NaN,
      alerts: pAlerts.length,
      falseAlerts,
      falseAlertsPer100DevicesPerDay: per100(falseAlerts),
      incidentsAlerted: perInc.filter((r) => r.secondsToFirstAlert !== null).length,
      perIncident: perInc,
    };
    out['packet'] = res;
    console.log(`\n-- Kitsune per packet: ${n.toLocaleString('en')} packets scored, ${res.positives.toLocaleString('en')} on incidents`);
    console.log(`ROC-AUC            ${res.rocAuc.toFixed(4)} (packets)`);
    console.log(`at the threshold   precision ${res.precision.toFixed(4)}, recall ${res.recall.toFixed(4)} (${tp} TP, ${fp} FP, ${fn} FN packets)`);
    console.log(`alerts             ${pAlerts.length} (${falseAlerts} false) → ${res.falseAlertsPer100DevicesPerDay.toFixed(1)} false alerts per 100 devices per day; ${res.incidentsAlerted} of ${incidents.length} incidents alerted`);
    for (const r of perInc) console.log(`  ${r.kind.padEnd(26)} first alert ${fmtS(r.secondsToFirstAlert)}`);
  }

  if (win !== undefined) {
    // Windows of incident victims are neither positives nor negatives; every other scored window of a
    // host is a negative. Alerts: true when on an attacker's incident window, ignored on a victim's, else false.
    const sc: number[] = [];
    const lb: number[] = [];
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const alerts: Array<{ a: WindowAlert; label: number }> = [];
    for (const x of wins) {
      const lab = posWin.get(x.key) ?? 0;
      if (lab === 0 && relWin.has(x.key)) continue;
      sc.push(x.score);
      lb.push(lab > 0 ? 1 : 0);
      if (x.anomalous) {
        if (lab > 0) tp++;
        else fp++;
      } else if (lab > 0) fn++;
      if (x.alert !== undefined) alerts.push({ a: x.alert, label: lab });
    }
    const falseAlerts = alerts.filter((x) => x.label === 0);
    const pos = lb.reduce((x, y) => x + y, 0);
    const perInc = incidents.map(({ inc }, k) => {
      const first = alerts.find((x) => x.label === k + 1);
      let best = 0;
      for (const x of wins) if (posWin.get(x.key) === k + 1) best = Math.max(best, x.score);
      return { kind: inc.kind, windows: [...posWin.values()].filter((l) => l === k + 1).length, maxScoreOverThreshold: best / win.threshold(), secondsToAlert: first === undefined ? null : first.a.time - inc.start, alert: first?.a.text };
    });
    const res = {
      model: `device windows (${W} s, ${N_WINDOW_FEATURES} inputs, KitNET)`,
      windowsScored: sc.length,
      positives: pos,
      threshold: win.threshold(),
      rocAuc: rocAuc(Float64Array.from(sc), Uint8Array.from(lb)),
      precisionAnomalous: tp + fp > 0 ? tp / (tp + fp) : NaN,
      recallAnomalous: tp + fn > 0 ? tp / (tp + fn) : NaN,
      alerts: alerts.length,
      trueAlerts: alerts.length - falseAlerts.length,
      falseAlerts: falseAlerts.length,
      alertPrecision: alerts.length > 0 ? (alerts.length - falseAlerts.length) / alerts.length : NaN,
      incidentsAlerted: perInc.filter((r) => r.secondsToAlert !== null).length,
      falseAlertsPer100DevicesPerDay: per100(falseAlerts.length),
      perIncident: perInc,
      falseAlertExamples: falseAlerts.slice(0, 5).map((x) => x.a.text),
      tableBytes: win.bytes,
    };
    out['window'] = res;
    console.log(`\n-- device windows: ${sc.length.toLocaleString('en')} host-windows scored, ${pos} on incidents (attacker windows)`);
    console.log(`ROC-AUC            ${res.rocAuc.toFixed(4)} (host-windows)`);
    console.log(`anomalous windows  precision ${res.precisionAnomalous.toFixed(4)}, recall ${res.recallAnomalous.toFixed(4)} (${tp} TP, ${fp} FP, ${fn} FN) at the learnt threshold ${res.threshold.toPrecision(4)}`);
    console.log(`alerts             ${alerts.length}: ${res.trueAlerts} true, ${res.falseAlerts} false (precision ${res.alertPrecision.toFixed(2)}); ${res.incidentsAlerted} of ${incidents.length} incidents alerted (recall ${(res.incidentsAlerted / incidents.length).toFixed(2)})`);
    console.log(`false alerts       ${res.falseAlertsPer100DevicesPerDay.toFixed(2)} per 100 devices per day (goal < 1)`);
    for (const r of perInc) console.log(`  ${r.kind.padEnd(26)} ${String(r.windows).padStart(4)} windows  max ${r.maxScoreOverThreshold.toFixed(2)}× thr  alert ${r.secondsToAlert === null ? 'none' : `${r.secondsToAlert.toFixed(0)} s after start`}`);
    const ex = perInc.find((r) => r.alert !== undefined);
    if (ex !== undefined) console.log(`example alert (${ex.kind}):\n  ${ex.alert}`);
    for (const t of res.falseAlertExamples) console.log(`false: ${t}`);
  }
  return out;
}

if (!qualityOnly) await speed();
if (!speedOnly) {
  const models = new Set(opt('--model', 'window,packet').split(','));
  const seeds = opt('--seeds', 'behaviour,holdout').split(',');
  const q: Record<string, unknown> = {};
  for (const s of seeds) q[s] = await quality(s, models);
  results['quality'] = q;
}
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'behavior.json'), `${JSON.stringify(results, null, 2)}\n`);
