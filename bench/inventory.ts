/**
 * What the inventory costs:
 *  1. throughput: `vigil analyze FILE --no-behaviour` (the inventory and its findings) and `vigil
 *     analyze FILE` (the default, with the behaviour detectors too) against `--no-inventory` (the
 *     sensor alone), same capture, one core, in one run — the goal: the inventory costs < 20%
 *     of the sensor's packets/s. The in-process part below splits the streaming cost between the
 *     inventory builder and the rest of the pipeline. Each side is timed in wall and in CPU seconds (user + system, from /usr/bin/time):
 *     on a machine shared with other work, CPU time is the steadier measure;
 *  2. scale: 100,000 synthetic devices (each with a DHCP identity, an OS statement, a DICOM or HTTP
 *     fact and flows to peers) through the builder and the full assessment — bytes per device
 *     (goal ≤ 5 KB plus bounded evidence) and seconds.
 *
 *   node --import tsx --expose-gc bench/inventory.ts FILE.pcap… [--runs N] [--devices N] [--commands-only]
 *
 * --commands-only: the whole commands (1.) alone, for more rounds of the goal's own measure in the same time.
 *
 * Everything runs on one CPU core: core 0, or the one VIGIL_BENCH_CPU names (so two people can
 * time on one machine, one core each); this process pins itself there too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InventoryBuilder } from '../src/inventory/builder.ts';
import { assessInventory, assessInventorySliced } from '../src/inventory/inventory.ts';
import { loadKnowledge } from '../src/knowledge/index.ts';
import type { FlowRecord } from '../src/flow/flow.ts';
import { fileSource } from '../src/capture/source.ts';
import { ALL_DISSECTORS, synDissectors } from '../src/protocols/index.ts';
import { runSensor } from '../src/sensor/run.ts';
import { AnalysisState } from '../src/cli/pipeline.ts';
import { Keeper } from '../src/cli/keep.ts';
import { Sensor } from '../src/sensor/sensor.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { BatchedWriter } from '../src/store/writer.ts';
import { tuneV8 } from '../bin/v8-tuning.js';

// The V8 settings `vigil` runs with (bin/v8-tuning.js), for what this process times itself.
tuneV8();

const { values: opts, positionals: files } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '3' }, devices: { type: 'string', default: '100000' }, 'commands-only': { type: 'boolean', default: false } },
});
const repo = resolve(import.meta.dirname, '..');
const RUNS = Math.max(1, Math.floor(Number(opts.runs)) || 1);
const CPU = process.env['VIGIL_BENCH_CPU'] ?? '0';
// The in-process parts below run here: on the same core as the commands.
execFileSync('taskset', ['-p', '-c', CPU, String(process.pid)], { stdio: 'ignore' });

function packetsIn(file: string): number {
  const m = /Number of packets:\s+(\d+)/.exec(execFileSync('capinfos', ['-c', '-M', file], { encoding: 'utf8' }));
  return Number(m?.[1] ?? NaN);
}

function timedOnce(args: string[]): { seconds: number; cpu: number; rssMb: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'RSS_KB=%M CPU=%U+%S', 'taskset', '-c', CPU, process.execPath, join(repo, 'bin/vigil.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`vigil ${args.join(' ')} exited with ${r.status}: ${r.stderr.slice(-1000)}`);
  const cpu = /CPU=([\d.]+)\+([\d.]+)/.exec(r.stderr);
  return { seconds, cpu: Number(cpu?.[1] ?? NaN) + Number(cpu?.[2] ?? NaN), rssMb: Number(/RSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024 };
}

/** CPU seconds (all threads) of f. */
async function cpuSeconds(f: () => Promise<unknown> | unknown): Promise<number> {
  const t = process.cpuUsage();
  await f();
  const c = process.cpuUsage(t);
  return (c.user + c.system) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

// The goal, in the words: building the inventory costs < 20% of the sensor's packets/s — with
// it, the sensor keeps at least 80% of its packets/s (the time grows by less than a quarter).
// This machine's speed drifts by tens of percent over minutes; runs are interleaved, and each cost is
// the median over rounds of that round's own ratio (its runs came seconds apart), which drift between
// rounds does not move the way it moves a ratio of two medians.
// With the middle half of the rounds' costs after it: how far this machine's noise moves one round.
const cost = (withIt: number[], without: number[]) => {
  const costs = without.map((w, i) => (1 - w / (withIt[i] as number)) * 100).sort((a, b) => a - b);
  const at = (q: number) => costs[Math.min(costs.length - 1, Math.floor(q * costs.length))] as number;
  return `${median(costs).toFixed(1)}% (${at(0.25).toFixed(0)}–${at(0.75).toFixed(0)})`;
};
console.log(`\nWhole commands: the sensor's packets/s with the inventory and without (core ${CPU}, ${RUNS} interleaved rounds; times: medians; costs: median of each round's own, with the middle half of the rounds after it)\n`);
console.log('| capture | packets | sensor only | + inventory (--no-behaviour) | inventory costs (packets/s) | default (+ behaviour) | whole analysis costs (packets/s) | same in CPU: inventory | same in CPU: whole analysis | devices |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const file of files) {
  const packets = packetsIn(file);
  const bare: number[] = [];
  const inv: number[] = [];
  const full: number[] = [];
  const bareCpu: number[] = [];
  const invCpu: number[] = [];
  const fullCpu: number[] = [];
  // Interleaved, so drift of the machine hits all alike, each round in another order (no command always
  // runs first). The inventory alone is `--no-behaviour`: the goal is about building the
  // inventory; the default also runs the behaviour detectors.
  const modes = ['--no-inventory', '--no-behaviour', ''];
  for (let i = 0; i < RUNS; i++) {
    const t = new Map<string, ReturnType<typeof timedOnce>>();
    for (let j = 0; j < modes.length; j++) {
      const m = modes[(i + j) % modes.length] as string;
      t.set(m, timedOnce(['analyze', file, '--no-progress', ...(m === '' ? [] : [m])]));
    }
    const [b, n, f] = modes.map((m) => t.get(m) as ReturnType<typeof timedOnce>) as [ReturnType<typeof timedOnce>, ReturnType<typeof timedOnce>, ReturnType<typeof timedOnce>];
    bare.push(b.seconds);
    inv.push(n.seconds);
    full.push(f.seconds);
    bareCpu.push(b.cpu);
    invCpu.push(n.cpu);
    fullCpu.push(f.cpu);
  }
  const out = execFileSync(process.execPath, [join(repo, 'bin/vigil.js'), 'analyze', file, '--no-progress', '--devices', '1'], { encoding: 'utf8' });
  const devices = /Inventory: (\d+) devices/.exec(out)?.[1] ?? '?';
  const b = median(bare);
  const n = median(inv);
  const f = median(full);
  const rate = (sec: number) => `${sec.toFixed(2)} s (${fmtRate(packets / sec)})`;
  console.log(
    `| ${file.split('/').pop()} | ${packets.toLocaleString('en')} | ${rate(b)} | ${rate(n)} | ${cost(inv, bare)} | ${rate(f)} | ${cost(full, bare)} | ${cost(invCpu, bareCpu)} | ${cost(fullCpu, bareCpu)} | ${devices} |`,
  );
}

// Only the whole commands, for more rounds of the goal's own measure in the same time.
if (opts['commands-only']) process.exit(0);

// ---- in process: the sensor's packets/s while the inventory is built, and the one-off report -------
// As `vigil serve` and `vigil capture` run: one long-running process reading the capture again and
// again, each pass through a new sensor — alone, or feeding a new analysis pipeline without the
// behaviour detectors (the inventory builder and the reconnaissance ledger, what `vigil analyze
// --no-behaviour` feeds). Passes alternate, each round in the other order, so drift of the machine
// hits both alike; the first third of the rounds (compiling, warming up: it takes a few passes) is
// left out; CPU seconds of this process; the cost is the median of the other rounds' own ratios. The report
// (devices grouped, identified and assessed) is a one-off per capture or checkpoint, not per packet:
// timed apart, cold (the first in this process, as in a `vigil analyze`) and warm.
const PASSES = Math.max(6, RUNS * 3);
const WARMUP = Math.ceil(PASSES / 3);
console.log(`\nIn a long-running process: packets/s while the inventory is built (CPU, median of the last ${PASSES - WARMUP} of ${PASSES} passes each, interleaved), and the report\n`);
console.log('| capture | sensor alone | sensor + inventory | inventory costs (packets/s) | knowledge load (once) | report, cold (first) | report, warm | longest wait to read (grouped and judged in slices) | devices |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const file of files) {
  const packets = packetsIn(file);
  const bare: number[] = [];
  const withInventory: number[] = [];
  let state: AnalysisState | undefined;
  for (let i = 0; i < PASSES; i++) {
    const sensorAlone = async () => cpuSeconds(async () => runSensor(await fileSource(file), { dissectors: ALL_DISSECTORS, synDissectors: synDissectors(), onObservation: () => {} }));
    const s = new AnalysisState({ behaviour: false });
    const withIt = async () => cpuSeconds(async () => runSensor(await fileSource(file), s.sensorOptions()));
    // Each round in the other order: neither always runs first.
    let b: number;
    let w: number;
    if (i % 2 === 0) {
      b = await sensorAlone();
      w = await withIt();
    } else {
      w = await withIt();
      b = await sensorAlone();
    }
    state = s;
    if (i < WARMUP) continue;
    bare.push(b);
    withInventory.push(w);
  }
  const loadSeconds = knowledgeLoadSeconds();
  const k = await loadKnowledge({ knowledgeDir: null });
  const builder = (state as AnalysisState).builder;
  // The first report in this process (memoised results are per knowledge base and value), then another.
  const cold = await cpuSeconds(() => assessInventory(builder.devices(), k));
  const warm = await cpuSeconds(() => assessInventory(builder.devices(), k));
  // A live checkpoint groups and judges in slices (AnalysisState.judge): the longest the sensor then waits to read.
  const pause = await longestPause(async () => assessInventorySliced(await builder.devicesSliced(), k));
  const a = packets / median(bare);
  const w = packets / median(withInventory);
  console.log(`| ${file.split('/').pop()} | ${fmtRate(a)} | ${fmtRate(w)} | ${cost(withInventory, bare)} | ${loadSeconds.toFixed(3)} s | ${cold.toFixed(2)} s | ${warm.toFixed(2)} s | ${(pause * 1000).toFixed(0)} ms | ${builder.devices().length.toLocaleString('en')} |`);
}

/** The longest the event loop waited for a turn while `f` ran: how long a live sensor would not read. */
async function longestPause(f: () => Promise<unknown>): Promise<number> {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  await f();
  running = false;
  tick();
  return longest / 1000;
}

function fmtRate(pps: number): string {
  return `${Math.round(pps / 1000).toLocaleString('en')} k pkt/s`;
}

/**
 * Loading the knowledge as a fresh process does (registries read, profiles indexed, first lookups),
 * timed in a child after its modules are imported (`vigil analyze` imports them with or without the
 * inventory, so module loading is not the inventory's cost).
 */
function knowledgeLoadSeconds(): number {
  const code = `const {loadKnowledge}=await import(${JSON.stringify(join(repo, 'src/knowledge/index.ts'))});const t=performance.now();const k=await loadKnowledge({knowledgeDir:null});k.oui('00:1b:2c:00:00:01');k.profiles([{attribute:'hostname',value:'x'}]);k.resolveOs('Windows 10');console.log((performance.now()-t)/1000);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', cwd: repo });
  return Number(r.stdout.trim());
}

// ---- scale: 100,000 devices ------------------------------------------------------------------------
const N = Number(opts.devices);
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};
const knowledge = await loadKnowledge({ knowledgeDir: null });
// Warm the lazily loaded registries so their size is not counted as the devices'.
assessInventory(new InventoryBuilder().devices(), knowledge);
const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
const before = heap();
const t0 = performance.now();
const b = new InventoryBuilder();
const ouis = ['00:1b:2c', '00:09:fb', '00:0e:2f', '00:40:a7', '6c:2b:59', '04:0e:3c'];
for (let i = 0; i < N; i++) {
  const mac = `${ouis[i % ouis.length]}:${hex((i >> 16) & 0xff, 2)}:${hex((i >> 8) & 0xff, 2)}:${hex(i & 0xff, 2)}`;
  const ip = `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
  const t = 1_795_000_000 + i;
  const obs = (attribute: string, value: string, protocol: string, confidence = 0.9) => b.addObservation({ time: t, frame: i, flow: i, protocol, mac, ip, attribute, value, confidence, evidence: `${attribute} in frame ${i}` });
  obs('dhcp.hostname', `DEV-${i}`, 'dhcp');
  obs('dhcp.vendor_class', i % 3 === 0 ? 'MSFT 5.0' : 'udhcp 1.19.4', 'dhcp');
  if (i % 3 === 0) obs('os', 'Windows 7 / Server 2008 R2 SP1 (6.1.7601)', 'ntlmssp');
  else obs('os', 'Linux 2.2.x-3.x', 'tcp', 0.5);
  if (i % 2 === 0) obs('dicom.implementation_class_uid', `1.2.840.113619.6.${i % 500}`, 'dicom');
  else obs('http.server', `Apache/2.4.${i % 60} (Ubuntu)`, 'http');
  for (let p = 0; p < 4; p++) {
    const f: FlowRecord = {
      id: i * 4 + p,
      start: t,
      end: t + 1,
      proto: 'tcp',
      ipVersion: 4,
      clientIp: ip,
      clientPort: 40000 + p,
      serverIp: `10.200.0.${p + 1}`,
      serverPort: p === 0 ? 104 : 443,
      clientMac: mac,
      serverMac: '00:00:0c:00:00:01',
      clientPackets: 5,
      serverPackets: 5,
      clientBytes: 500,
      serverBytes: 500,
      clientPayloadBytes: 200,
      serverPayloadBytes: 200,
      tcpState: 'closed',
      reason: 'closed',
      firstFrame: i,
    };
    b.addFlow(f);
  }
}
const t1 = performance.now();
const built = heap();
const facts = b.devices();
const tGrouped = performance.now();
const inv = assessInventory(facts, knowledge);
const t2 = performance.now();
const assessed = heap();
// As a live checkpoint judges them (grouped and assessed in slices): the longest the sensor would wait to read.
const pause = await longestPause(async () => assessInventorySliced(await b.devicesSliced(), knowledge));
// The whole of a live checkpoint of `vigil serve`: judged, then kept (each device fingerprinted, the
// changed ones queued) and written to the embedded store, all on the sensor's thread. The first
// checkpoint writes every device; the next (nothing changed) only fingerprints them.
const dbDir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
const store = await openSqliteStore(join(dbDir, 'vigil.db'));
const writer = new BatchedWriter(store);
const keeper = new Keeper(writer, new AnalysisState({ behaviour: false }));
const checkpoint = async () => {
  const inventory = await assessInventorySliced(await b.devicesSliced(), knowledge);
  await keeper.keep({ run: { report: new Sensor({ dissectors: [] }).report() }, inventory, recon: [], behaviour: [], traffic: [], anomalies: [], unconfirmedAnomalies: [] });
  await writer.flush();
};
const c0 = performance.now();
const firstPause = await longestPause(checkpoint);
const c1 = performance.now();
const nextPause = await longestPause(checkpoint);
const c2 = performance.now();
await writer.close();
await store.close();
rmSync(dbDir, { recursive: true, force: true });
console.log(`\nScale: ${N.toLocaleString('en')} synthetic devices (5 observations and 4 flows each)\n`);
console.log('| stage | seconds | heap | per device |');
console.log('|---|---:|---:|---:|');
console.log(`| builder (observations + flows) | ${((t1 - t0) / 1000).toFixed(2)} | ${((built - before) / 2 ** 20).toFixed(0)} MB | ${((built - before) / N / 1024).toFixed(2)} KB |`);
console.log(`| devices + assessment (identify, lifecycle, vulnerabilities, risk) | ${((t2 - t1) / 1000).toFixed(2)} (grouping ${((tGrouped - t1) / 1000).toFixed(2)}) | ${((assessed - before) / 2 ** 20).toFixed(0)} MB | ${((assessed - before) / N / 1024).toFixed(2)} KB |`);
console.log(`\n${inv.summary.devices.toLocaleString('en')} devices assessed; ${gc === undefined ? 'run with --expose-gc for exact heap figures' : 'heap measured after full GC'}; judged in slices, the longest wait to read: ${(pause * 1000).toFixed(0)} ms`);
console.log(`A whole live checkpoint (judged, kept, written to SQLite): the first, which writes every device, ${((c1 - c0) / 1000).toFixed(1)} s, the longest wait to read ${(firstPause * 1000).toFixed(0)} ms; the next (nothing changed) ${((c2 - c1) / 1000).toFixed(1)} s, the longest wait ${(nextPause * 1000).toFixed(0)} ms`);
