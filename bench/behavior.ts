/**
 * The packet anomaly detector (src/behavior: Kitsune-style statistics + KitNET), speed and quality.
 *
 *   node --import tsx bench/behavior.ts [--speed-only | --quality-only] [--capture FILE] [--learn N]
 *                                       [--devices 100] [--duration 24h] [--seed behaviour]
 *
 * (a) Speed, on bench/out/hospital-1m.pcap: every packet is decoded first with the project's own
 *     decoder into columns, then feature extraction + scoring is timed alone (after learning on the
 *     first `--learn` packets, default 100,000), on one core; the end-to-end rate with decoding and
 *     the cost of learning are printed beside it. Goal: ≥ 200,000 packets/s.
 * (b) Quality, on a simulated hospital with labelled incidents (100 devices, 24 h, seed "behaviour",
 *     every incident kind): learn on the first 25 % of packets (the simulator places incidents after
 *     60 % of the time, checked), score the rest through the detector's `packet()` (alerts rate-limited
 *     per host as in production), and print ROC-AUC of packet scores against the incident labels,
 *     precision/recall at the learnt threshold, time to detect per incident, and false alerts per
 *     100 devices per day. Positives: frames within an incident's [firstFrame, lastFrame] between its
 *     attacker and one of its victims (any frame of the rogue device).
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
  constructor(cap: number) {
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
  };

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

async function quality(): Promise<void> {
  const devices = Number(opt('--devices', '100'));
  const durationH = Number(opt('--duration', '24h').replace(/h$/, ''));
  const seed = opt('--seed', 'behaviour');
  const pcap = join(outDir, `behaviour-${seed}.pcap`);
  const truthFile = join(outDir, `behaviour-${seed}.truth.json`);
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
  const incidents = truth.incidents.map((inc) => ({ inc, attacker: new Set(keysOf(inc.attacker)), victims: new Set(inc.victims.flatMap(keysOf)) }));
  const nFrames = truth.packets;
  const learnFrames = Math.floor(nFrames * 0.25);
  const firstIncident = Math.min(...truth.incidents.map((i) => i.firstFrame));
  if (firstIncident <= learnFrames) console.error(`WARNING: an incident starts at frame ${firstIncident}, inside the learning period (≤ ${learnFrames})`);

  // Per frame: score (NaN = not scored), label (incident index + 1, 0 normal).
  const scores = new Float64Array(nFrames + 1).fill(NaN);
  const label = new Uint8Array(nFrames + 1);
  const times = new Float64Array(nFrames + 1);
  const det = new PacketAnomalyDetector({ learnPackets: learnFrames });
  const alerts: AnomalyAlert[] = [];
  const alertLabel: number[] = [];
  let learnEndTime = 0;
  let lastTime = 0;
  const t0 = process.hrtime.bigint();
  await readCapture(pcap, (p) => {
    const f = p.frame;
    const a = det.packet(p, f);
    lastTime = p.time;
    if (det.phase !== 'executing' || det.model.nExecuted === 0) {
      learnEndTime = p.time;
      return;
    }
    scores[f] = det.lastScore;
    times[f] = p.time;
    const s = p.ipVersion === 4 ? p.src4 : -1;
    const d = p.ipVersion === 4 ? p.dst4 : -1;
    for (let k = 0; k < incidents.length; k++) {
      const { inc, attacker, victims } = incidents[k]!;
      if (f < inc.firstFrame || f > inc.lastFrame) continue;
      const hit = inc.kind === 'rogue-device' ? attacker.has(s) || attacker.has(d) : (attacker.has(s) && victims.has(d)) || (attacker.has(d) && victims.has(s));
      if (hit) {
        label[f] = k + 1;
        break;
      }
    }
    if (a !== undefined) {
      alerts.push(a);
      alertLabel.push(label[f]!);
    }
  });
  const runS = ms(t0) / 1000;

  // Scored frames only.
  let m = 0;
  for (let f = 0; f <= nFrames; f++) if (!Number.isNaN(scores[f]!)) m++;
  const sc = new Float64Array(m);
  const lb = new Uint8Array(m);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const thr = det.threshold();
  for (let f = 0, j = 0; f <= nFrames; f++) {
    const s = scores[f]!;
    if (Number.isNaN(s)) continue;
    sc[j] = s;
    const pos = label[f]! > 0;
    lb[j++] = pos ? 1 : 0;
    if (s > thr) {
      if (pos) tp++;
      else fp++;
    } else if (pos) fn++;
  }
  const auc = rocAuc(sc, lb);

  // Per incident: packets, AUC of its packets against all normal packets, detection delay.
  const perIncident = incidents.map(({ inc }, k) => {
    let first = NaN;
    let nPos = 0;
    let nDet = 0;
    let maxS = 0;
    for (let f = inc.firstFrame; f <= inc.lastFrame; f++) {
      if (label[f] !== k + 1) continue;
      nPos++;
      const s = scores[f]!;
      if (s > maxS) maxS = s;
      if (s > thr) {
        nDet++;
        if (Number.isNaN(first)) first = f;
      }
    }
    // Its own AUC: its positives against every normal packet.
    const l2 = new Uint8Array(m);
    for (let f = 0, j = 0; f <= nFrames; f++) {
      if (Number.isNaN(scores[f]!)) continue;
      l2[j++] = label[f] === k + 1 ? 1 : 0;
    }
    const sub: number[] = [];
    const subL: number[] = [];
    for (let j = 0; j < m; j++) {
      if (lb[j] === 0 || l2[j] === 1) {
        sub.push(sc[j]!);
        subL.push(l2[j]!);
      }
    }
    const aucK = rocAuc(Float64Array.from(sub), Uint8Array.from(subL));
    const firstAlert = alerts.find((a, i) => alertLabel[i] === k + 1);
    return {
      kind: inc.kind,
      packets: nPos,
      detectedPackets: nDet,
      auc: aucK,
      maxScoreOverThreshold: maxS / thr,
      secondsToFirstScoreAbove: Number.isNaN(first) ? null : times[first]! - inc.start,
      secondsToFirstAlert: firstAlert === undefined ? null : firstAlert.time - inc.start,
      firstAlert: firstAlert?.text,
    };
  });
  const days = (lastTime - learnEndTime) / 86400;
  const falseAlerts = alertLabel.filter((l) => l === 0).length;
  const perDevicesDay = falseAlerts / (truth.devices.length / 100) / days;
  const falseHosts = new Map<string, number>();
  alerts.forEach((a, i) => {
    if (alertLabel[i] === 0) falseHosts.set(a.host, (falseHosts.get(a.host) ?? 0) + 1);
  });
  const res = {
    capture: pcap,
    devices: truth.devices.length,
    frames: nFrames,
    learnFrames,
    firstIncidentFrame: firstIncident,
    scoredPackets: m,
    positives: lb.reduce((a, b) => a + b, 0),
    threshold: thr,
    rocAuc: auc,
    precision: tp + fp > 0 ? tp / (tp + fp) : NaN,
    recall: tp + fn > 0 ? tp / (tp + fn) : NaN,
    packetsAboveThreshold: tp + fp,
    falsePositivePackets: fp,
    alerts: alerts.length,
    trueAlerts: alerts.length - falseAlerts,
    falseAlerts,
    scoredDays: days,
    falseAlertsPer100DevicesPerDay: perDevicesDay,
    falseAlertHosts: [...falseHosts].sort((a, b) => b[1] - a[1]).slice(0, 10),
    perIncident,
    seconds: runS,
    exampleFalseAlert: alerts.find((_, i) => alertLabel[i] === 0)?.text,
  };
  results['quality'] = res;
  console.log('\n== quality ==');
  console.log(`capture            ${pcap}: ${nFrames.toLocaleString('en')} frames, ${truth.devices.length} devices, ${truth.incidents.length} incidents`);
  console.log(`learning           first ${learnFrames.toLocaleString('en')} frames (25 %); first incident frame ${firstIncident.toLocaleString('en')}`);
  console.log(`scored             ${m.toLocaleString('en')} packets, ${res.positives.toLocaleString('en')} positives, ${days.toFixed(2)} days, in ${runS.toFixed(0)} s`);
  console.log(`threshold          ${thr.toPrecision(4)}`);
  console.log(`ROC-AUC            ${auc.toFixed(4)}`);
  console.log(`at the threshold   precision ${res.precision.toFixed(4)}, recall ${res.recall.toFixed(4)} (${tp} TP, ${fp} FP, ${fn} FN packets)`);
  console.log(`alerts             ${alerts.length} (${res.trueAlerts} on incident packets, ${falseAlerts} false) → ${perDevicesDay.toFixed(1)} false alerts per 100 devices per day`);
  console.log(`false alerts from  ${res.falseAlertHosts.map(([h, c]) => `${h}×${c}`).join(', ')}`);
  console.log('per incident:');
  for (const r of perIncident) {
    console.log(
      `  ${r.kind.padEnd(26)} ${String(r.packets).padStart(6)} pkts  AUC ${r.auc.toFixed(3)}  max ${r.maxScoreOverThreshold.toFixed(2)}× thr  ${String(r.detectedPackets).padStart(6)} above  ` +
        `first above ${r.secondsToFirstScoreAbove === null ? 'never' : `${r.secondsToFirstScoreAbove.toFixed(1)} s`}, first alert ${r.secondsToFirstAlert === null ? 'none' : `${r.secondsToFirstAlert.toFixed(1)} s after start`}`,
    );
  }
  const ex = perIncident.find((r) => r.firstAlert !== undefined);
  if (ex !== undefined) console.log(`\nexample alert (${ex.kind}):\n  ${ex.firstAlert}`);
  if (res.exampleFalseAlert !== undefined) console.log(`example false alert:\n  ${res.exampleFalseAlert}`);
}

if (!qualityOnly) await speed();
if (!speedOnly) await quality();
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'behavior.json'), `${JSON.stringify(results, null, 2)}\n`);
