/**
 * Leak (error-disclosure) quality:
 *  1. the corpus bench/leak-corpus/cases.json (real error pages, database errors, headers and
 *     banners from public sources, SOURCES.md) through `matchLeak`: precision and recall of the
 *     leaked facts, by kind, and findings on the negative cases;
 *  2. a simulated hospital with the `recon-error-pages` incident through the sensor, the inventory
 *     builder and `detectLeaks`, against the truth file's leaks;
 *  3. every real capture in ../shared/corpus/pcaps (identity and medical: ordinary traffic; leaks:
 *     traffic with real disclosures) — error-disclosure findings should be zero on the first two;
 *  4. what detection costs next to the sensor.
 *
 *   node --import tsx bench/leak-quality.ts [--devices 120] [--duration 2h] [--seed leaks] [--verbose]
 *
 * Fact matching: same kind; values equal after lower-casing and collapsing white space (SQL
 * fragments through the same literal masking `redactSql` applies); when the expected fact has a
 * version the found one must have the same version.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileSource } from '../src/capture/source.ts';
import { ALL_DISSECTORS, synDissectors } from '../src/protocols/index.ts';
import { runSensor } from '../src/sensor/run.ts';
import { InventoryBuilder, type DeviceFacts } from '../src/inventory/builder.ts';
import { dedupeFacts, detectLeaks, matchLeak, redactSql } from '../src/assess/leaks.ts';
import type { LeakFact, LeakFinding } from '../src/assess/finding.ts';
import { simulate } from '../src/simulate/simulate.ts';
import { parseDuration } from '../src/cli/format.ts';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '120' },
    duration: { type: 'string', default: '2h' },
    seed: { type: 'string', default: 'leaks' },
    verbose: { type: 'boolean', default: false },
    'skip-simulator': { type: 'boolean', default: false },
    'skip-captures': { type: 'boolean', default: false },
  },
});

const repo = resolve(import.meta.dirname, '..');
const corpusRoot = resolve(repo, '..', 'shared', 'corpus', 'pcaps');
const pct = (n: number, d: number): string => (d === 0 ? '—' : `${((100 * n) / d).toFixed(1)}%`);

// ---- fact comparison ---------------------------------------------------------------------------

function norm(v: string): string {
  return v.toLowerCase().replace(/\s+/g, ' ').trim();
}
/** Found facts are already redacted; the expected ones (the public text) go through the same masking. */
function same(found: LeakFact, expected: LeakFact): boolean {
  if (found.kind !== expected.kind || norm(found.value) !== norm(expected.kind === 'sql' ? redactSql(expected.value) : expected.value)) return false;
  if (expected.version === undefined) return true;
  return found.version !== undefined && found.version.toLowerCase() === expected.version.toLowerCase();
}

class Tally {
  tp = 0;
  fp = 0;
  fn = 0;
}

// ---- 1. the corpus ------------------------------------------------------------------------------

interface Case {
  id: string;
  source: string;
  attribute: string;
  value: string;
  expected: LeakFact[];
}

function scoreCorpus(): { precision: number; recall: number } {
  const { cases } = JSON.parse(readFileSync(join(repo, 'bench', 'leak-corpus', 'cases.json'), 'utf8')) as { cases: Case[] };
  const byKind = new Map<string, Tally>();
  const all = new Tally();
  const tally = (k: string): Tally => {
    let t = byKind.get(k);
    if (t === undefined) byKind.set(k, (t = new Tally()));
    return t;
  };
  const problems: string[] = [];
  let negatives = 0;
  let negativesWithFindings = 0;
  let positives = 0;
  let positivesDetected = 0;
  for (const c of cases) {
    const matches = matchLeak(c.attribute, c.value);
    const found = dedupeFacts(matches.flatMap((m) => m.facts), 64);
    if (c.expected.length === 0) {
      negatives++;
      if (matches.length > 0) negativesWithFindings++;
    } else {
      positives++;
      if (matches.length > 0) positivesDetected++;
    }
    const used = new Set<number>();
    for (const e of c.expected) {
      const i = found.findIndex((f, j) => !used.has(j) && same(f, e));
      if (i >= 0) {
        used.add(i);
        tally(e.kind).tp++;
        all.tp++;
      } else {
        tally(e.kind).fn++;
        all.fn++;
        problems.push(`  missed ${c.id}: ${JSON.stringify(e)}  (found ${JSON.stringify(found.filter((f) => f.kind === e.kind))})`);
      }
    }
    found.forEach((f, j) => {
      if (used.has(j)) return;
      tally(f.kind).fp++;
      all.fp++;
      problems.push(`  extra  ${c.id}: ${JSON.stringify(f)}  [${matches.map((m) => m.pattern).join(', ')}]`);
    });
  }
  const lines = [
    `\n1. Corpus (${cases.length} cases: ${positives} with leaks, ${negatives} without) — bench/leak-corpus/cases.json\n`,
    '| fact kind | precision | recall | right | extra | missed |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [k, t] of [...byKind].sort((a, b) => a[0].localeCompare(b[0]))) lines.push(`| ${k} | ${pct(t.tp, t.tp + t.fp)} | ${pct(t.tp, t.tp + t.fn)} | ${t.tp} | ${t.fp} | ${t.fn} |`);
  lines.push(`| **all facts** | **${pct(all.tp, all.tp + all.fp)}** | **${pct(all.tp, all.tp + all.fn)}** | ${all.tp} | ${all.fp} | ${all.fn} |`);
  lines.push('', `cases with leaks detected: ${positivesDetected}/${positives}; cases without leaks that got a finding: ${negativesWithFindings}/${negatives}`);
  console.log(lines.join('\n'));
  if (problems.length > 0) console.log(args.verbose ? problems.join('\n') : `  (${problems.length} differences; --verbose lists them)`);
  return { precision: all.tp / Math.max(1, all.tp + all.fp), recall: all.tp / Math.max(1, all.tp + all.fn) };
}

// ---- helpers: a capture through the sensor and the builder --------------------------------------

async function devicesOf(file: string): Promise<{ devices: DeviceFacts[]; frames: number; sensorMs: number }> {
  const b = new InventoryBuilder();
  const t0 = performance.now();
  const r = await runSensor(await fileSource(file), {
    dissectors: ALL_DISSECTORS,
    synDissectors: synDissectors(),
    onObservation: (o) => b.addObservation(o),
    onFlow: (f) => b.addFlow(f),
  });
  const sensorMs = performance.now() - t0;
  return { devices: b.devices(), frames: r.report.frames, sensorMs };
}

const HEADER_PATTERNS = new Set(['server-header-version', 'x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version', 'x-generator', 'exchange-owa-version', 'ftp-banner-version', 'smtp-banner-version', 'banner-os', 'telnet-login-host']);
/** Verbose headers and banners (low, by design on every such device) versus disclosures in errors. */
function isErrorDisclosure(f: LeakFinding): boolean {
  return !HEADER_PATTERNS.has(f.pattern);
}

// ---- 2. the simulator ---------------------------------------------------------------------------

async function scoreSimulator(): Promise<{ recall: number; sensorMs: number; detectMs: number; frames: number }> {
  const dir = join(repo, 'bench', 'out');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'leaks-hospital.pcap');
  const truth = await simulate({ devices: Number(args.devices), duration: parseDuration(args.duration), seed: args.seed, out, catalogue: join(repo, 'data', 'simulator', 'catalogue.json'), incidents: 'recon-error-pages' });
  const { devices, frames, sensorMs } = await devicesOf(out);
  const t0 = performance.now();
  const findings = new Map<string, LeakFinding[]>();
  for (const d of devices) findings.set(d.id, detectLeaks(d));
  const detectMs = performance.now() - t0;
  const byIp = new Map<string, DeviceFacts>();
  for (const d of devices) for (const ip of d.ips) byIp.set(ip, d);
  const lines = ['\n2. Simulator (recon-error-pages) — truth file leaks vs detectLeaks on the victim device\n', '| victim | style | truth fact | found |', '|---|---|---|---|'];
  let tp = 0;
  let fn = 0;
  const victims = new Set<string>();
  for (const inc of truth.incidents) {
    if (inc.kind !== 'recon-error-pages') continue;
    const leaks = (inc.expect['leaks'] ?? {}) as Record<string, Record<string, string>>;
    for (const [victimId, truthLeaks] of Object.entries(leaks)) {
      victims.add(victimId);
      const tv = truth.devices.find((d) => d.id === victimId);
      const dev = tv?.ips.map((ip) => byIp.get(ip)).find((d) => d !== undefined);
      const facts = dedupeFacts((dev !== undefined ? (findings.get(dev.id) ?? []) : []).flatMap((f) => f.facts), 64);
      const expected: LeakFact[] = [];
      for (const [k, v] of Object.entries(truthLeaks)) {
        const m = /^(.*?)[ /]v?(\d[\w.]*)$/.exec(v);
        if (k === 'framework' || k === 'runtime' || k === 'server') {
          const kind = k === 'server' ? 'web_server' : k;
          expected.push(m !== null ? { kind, value: m[1] as string, version: m[2] as string } : { kind, value: v });
        } else if (k === 'database' || k === 'language' || k === 'path') expected.push({ kind: k, value: v });
        else if (k === 'user') expected.push({ kind: 'username', value: v });
        else if (k === 'line' && truthLeaks['path'] !== undefined) expected.push({ kind: 'source_location', value: `${truthLeaks['path']}:${v}` });
      }
      for (const e of expected) {
        const ok = facts.some((f) => same(f, e) || (e.kind === 'web_server' && f.kind === 'web_server' && f.value.toLowerCase() === e.value.toLowerCase() && f.version === e.version));
        if (ok) tp++;
        else fn++;
        lines.push(`| ${victimId} | ${tv?.kind ?? '?'} | ${e.kind} = ${e.value}${e.version !== undefined ? ` ${e.version}` : ''} | ${ok ? 'yes' : '**no**'} |`);
      }
      if (args.verbose) lines.push(`|  | | found: ${facts.map((f) => `${f.kind}=${f.value}${f.version !== undefined ? ` ${f.version}` : ''}`).join('; ')} | |`);
    }
  }
  // Findings on devices that are not victims: the rest of the hospital's ordinary traffic.
  const victimIps = new Set(truth.devices.filter((d) => victims.has(d.id)).flatMap((d) => d.ips));
  let others = 0;
  let otherErrors = 0;
  const otherPatterns = new Map<string, number>();
  for (const d of devices) {
    if (d.ips.some((ip) => victimIps.has(ip))) continue;
    for (const f of findings.get(d.id) ?? []) {
      others++;
      if (isErrorDisclosure(f)) otherErrors++;
      otherPatterns.set(f.pattern, (otherPatterns.get(f.pattern) ?? 0) + 1);
    }
  }
  lines.push('', `truth facts found: ${tp}/${tp + fn} (${pct(tp, tp + fn)}); findings on the ${devices.length - victims.size} other devices: ${others} (error disclosures: ${otherErrors}) ${[...otherPatterns].map(([p, n]) => `${p}×${n}`).join(', ')}`);
  console.log(lines.join('\n'));
  return { recall: tp / Math.max(1, tp + fn), sensorMs, detectMs, frames };
}

// ---- 3. the real captures -----------------------------------------------------------------------

function captures(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|cap)$/.test(e)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

async function scoreCaptures(): Promise<number> {
  const lines = ['\n3. Real captures (../shared/corpus/pcaps) — findings per capture (devices = inventory devices)\n', '| set | captures | with error-disclosure findings | error-disclosure findings | verbose header/banner findings |', '|---|---:|---:|---:|---:|'];
  const detail: string[] = [];
  let ordinaryErrors = 0;
  for (const set of ['identity', 'medical', 'ics', 'leaks']) {
    const dir = join(corpusRoot, set);
    let files: string[];
    try {
      files = captures(dir);
    } catch {
      continue;
    }
    let withErr = 0;
    let errs = 0;
    let hdrs = 0;
    for (const f of files) {
      let devices: DeviceFacts[];
      try {
        devices = (await devicesOf(f)).devices;
      } catch (e) {
        detail.push(`  ${relative(corpusRoot, f)}: unreadable (${(e as Error).message})`);
        continue;
      }
      const fs = devices.flatMap((d) => detectLeaks(d).map((x) => ({ d, x })));
      const e = fs.filter(({ x }) => isErrorDisclosure(x));
      errs += e.length;
      hdrs += fs.length - e.length;
      if (e.length > 0) withErr++;
      for (const { d, x } of fs) detail.push(`  ${relative(corpusRoot, f)} ${d.ips[0] ?? d.id}: [${x.severity}] ${x.pattern}: ${x.facts.map((k) => `${k.kind}=${k.value}${k.version !== undefined ? ` ${k.version}` : ''}`).join('; ')}  «${x.evidence.snippet.slice(0, 100)}»`);
      if (set === 'identity' || set === 'medical') ordinaryErrors += e.filter(({ x }) => x.pattern !== 'dicom-reject-ae-oracle').length;
    }
    lines.push(`| ${set} | ${files.length} | ${withErr} | ${errs} | ${hdrs} |`);
  }
  console.log(lines.join('\n'));
  console.log(`\nEvery finding on the real captures:\n${detail.join('\n') || '  (none)'}`);
  return ordinaryErrors;
}

// ---- 4. cost --------------------------------------------------------------------------------------

function microbench(): string {
  const { cases } = JSON.parse(readFileSync(join(repo, 'bench', 'leak-corpus', 'cases.json'), 'utf8')) as { cases: Case[] };
  // Unique values defeat the memo: this is the cold cost per distinct observation.
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const c = cases[i % cases.length] as Case;
    matchLeak(c.attribute, `${c.value} ${i}`);
  }
  const ms = performance.now() - t0;
  const ordinary = ['nginx', 'Apache', 'Not Found', '<html><body><h1>404 Not Found</h1></body></html>'];
  const t1 = performance.now();
  for (let i = 0; i < n; i++) matchLeak(i % 2 === 0 ? 'http.server' : 'http.error_body', `${ordinary[i % ordinary.length] as string}${i}`);
  const ms2 = performance.now() - t1;
  return `matchLeak, distinct values (no memo): corpus-like ${Math.round(n / (ms / 1000)).toLocaleString('en')}/s, ordinary ${Math.round(n / (ms2 / 1000)).toLocaleString('en')}/s`;
}

// ---- main -----------------------------------------------------------------------------------------

const corpus = scoreCorpus();
let sim: Awaited<ReturnType<typeof scoreSimulator>> | undefined;
if (!args['skip-simulator']) sim = await scoreSimulator();
let ordinaryErrors = 0;
if (!args['skip-captures']) ordinaryErrors = await scoreCaptures();
console.log(`\n4. Cost\n\n${microbench()}`);
if (sim !== undefined) {
  console.log(`simulated capture: ${sim.frames.toLocaleString('en')} frames, sensor + builder ${(sim.sensorMs / 1000).toFixed(2)} s, detectLeaks on every device ${sim.detectMs.toFixed(1)} ms = ${pct(sim.detectMs, sim.sensorMs)} of the sensor's time (goal ≤ 10%)`);
}
console.log(`\nSummary: corpus precision ${pct(corpus.precision, 1)}, recall ${pct(corpus.recall, 1)} (goal ≥ 95% each)${sim !== undefined ? `; simulator truth recall ${pct(sim.recall, 1)}` : ''}; error-disclosure findings on ordinary captures (identity, medical; DICOM rejects aside): ${ordinaryErrors} (goal 0)`);
