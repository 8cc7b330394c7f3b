/**
 * The interpretable behaviour baseline (src/behavior/baseline.ts) and the reconnaissance detector
 * on labelled simulator incidents: which incidents are found, how soon, and how many false alerts
 * per 100 devices per day on the same hospital without incidents.
 *
 *   node --import tsx bench/baseline.ts [--devices 100] [--days 3] [--seed baseline]
 *
 * The first 24 hours learn; incidents happen after. An alert is true when it names a device of an
 * incident (its attacker, or a victim for a rogue device) within the incident's time (plus an hour);
 * every other alert is false.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileSource } from '../src/capture/source.ts';
import { runSensor } from '../src/sensor/run.ts';
import { simulate, type Truth } from '../src/simulate/simulate.ts';
import { detectRecon } from '../src/assess/recon.ts';
import { AnalysisState } from '../src/cli/pipeline.ts';

const { values: args } = parseArgs({
  options: { devices: { type: 'string', default: '100' }, days: { type: 'string', default: '3' }, seed: { type: 'string', default: 'baseline' }, 'attacked-only': { type: 'boolean', default: false }, 'show-unconfirmed': { type: 'boolean', default: false } },
});
const repo = resolve(import.meta.dirname, '..');

interface Alert {
  source: 'baseline' | 'recon' | 'model';
  ips: string[];
  time: number;
  text: string;
}

async function run(incidents: string): Promise<{ truth: Truth; alerts: Alert[]; devices: number }> {
  mkdirSync(resolve(repo, 'bench/out'), { recursive: true });
  const out = resolve(repo, `bench/out/baseline-${incidents}.pcap`);
  const truth = await simulate({
    devices: Number(args.devices),
    duration: Number(args.days) * 86400,
    seed: args.seed as string,
    start: Date.parse('2026-11-23T00:00:00Z') / 1000,
    out,
    catalogue: resolve(repo, 'data/simulator/catalogue.json'),
    incidents,
  });
  const state = new AnalysisState();
  const run = await runSensor(await fileSource(out), state.sensorOptions());
  rmSync(out, { force: true });
  rmSync(out.replace(/\.pcap$/, '.truth.json'), { force: true });
  // Reconnaissance learns over the same first day as the baseline here.
  const a = await state.judge(run, { asOf: new Date('2026-11-30T00:00:00Z') });
  const devs = a.inventory.devices.filter((d) => d.ips.length > 0).map((d) => ({ id: d.id, ips: d.ips }));
  const ipsOf = new Map(devs.map((d) => [d.id, d.ips]));
  const alerts: Alert[] = [
    ...a.behaviour.map((x) => ({ source: 'baseline' as const, ips: [...(ipsOf.get(x.device) ?? [])], time: x.time, text: x.text })),
    ...detectRecon(state.recon, { learnSeconds: 86400 }).map((f) => ({ source: 'recon' as const, ips: [f.client], time: f.from, text: f.why })),
    ...a.anomalies.map((m) => ({ source: 'model' as const, ips: [m.host], time: m.time, text: m.text })),
  ];
  const corroborated = a.behaviour.filter((x) => x.model !== undefined).length;
  console.error(`${incidents}: ${a.behaviour.length} baseline alerts (${corroborated} corroborated by the online model), ${a.anomalies.length} model alerts alone, ${a.unconfirmedAnomalies.length} unconfirmed model alerts not raised`);
  if (args['show-unconfirmed']) for (const m of a.unconfirmedAnomalies) console.error(`  unconfirmed: ${m.text.slice(0, 200)}`);
  return { truth, alerts, devices: truth.devices.length };
}

function ipsOfTruth(truth: Truth, id: string): string[] {
  return truth.devices.find((d) => d.id === id)?.ips ?? [];
}

const clean = process.argv.includes('--attacked-only') ? { truth: undefined, alerts: [] as Alert[], devices: 1 } : await run('none');
const attacked = await run('all');
const days = Number(args.days) - 1;
const perDay = (n: number, devices: number) => ((n / devices) * 100) / days;

console.log(`\nBehaviour baseline + online model + reconnaissance on a simulated hospital: ${attacked.devices} devices, ${args.days} days (the first learns), seed ${args.seed}\n`);
console.log('| incident | found by | time to detect | alert |');
console.log('|---|---|---:|---|');
const used = new Set<Alert>();
let found = 0;
const foundBy = new Map<Alert['source'], string[]>();
for (const i of attacked.truth.incidents) {
  const who = new Set(ipsOfTruth(attacked.truth, i.attacker));
  // An alert on a victim during the incident (a server answering a scan with resets) is about the
  // incident: neither a finding (it does not name the attacker) nor a false alert.
  const victims = new Set(i.victims.flatMap((v) => ipsOfTruth(attacked.truth, v)));
  for (const a of attacked.alerts) if (a.ips.some((ip) => victims.has(ip)) && a.time >= i.start - 300 && a.time <= i.end + 3600) used.add(a);
  for (const src of ['baseline', 'recon', 'model'] as const) {
    if (attacked.alerts.some((a) => a.source === src && a.ips.some((ip) => who.has(ip)) && a.time >= i.start - 300 && a.time <= i.end + 3600)) foundBy.set(src, [...(foundBy.get(src) ?? []), i.kind]);
  }
  const hit = attacked.alerts
    .filter((a) => a.ips.some((ip) => who.has(ip)) && a.time >= i.start - 300 && a.time <= i.end + 3600)
    .sort((a, b) => a.time - b.time)[0];
  if (hit !== undefined) {
    found++;
    used.add(hit);
    for (const a of attacked.alerts) if (a.ips.some((ip) => who.has(ip)) && a.time >= i.start - 300 && a.time <= i.end + 3600) used.add(a);
  }
  if (hit === undefined) console.error(`not found: ${i.kind} attacker ${i.attacker} (${[...who].join(',')}) ${new Date(i.start * 1000).toISOString()}–${new Date(i.end * 1000).toISOString()}`);
  console.log(`| ${i.kind} | ${hit?.source ?? '—'} | ${hit !== undefined ? `${Math.max(0, hit.time - i.start).toFixed(0)} s` : '—'} | ${hit !== undefined ? hit.text.slice(0, 110).replace(/\|/g, '/') : 'not found'} |`);
}
const falseAttacked = attacked.alerts.filter((a) => !used.has(a));
console.log(`\nFound ${found} of ${attacked.truth.incidents.length} incidents.`);
for (const [src, kinds] of foundBy) console.log(`  by ${src}: ${kinds.length} (${kinds.join(', ')})`);
for (const src of ['baseline', 'recon', 'model'] as const) {
  const c = clean.alerts.filter((a) => a.source === src).length;
  const f = falseAttacked.filter((a) => a.source === src).length;
  console.log(`  false alerts from ${src}: ${c} clean (${perDay(c, clean.devices).toFixed(2)}/100 devices/day), ${f} attacked (${perDay(f, attacked.devices).toFixed(2)})`);
}
console.log(`False alerts: ${clean.alerts.length} on the hospital without incidents (${perDay(clean.alerts.length, clean.devices).toFixed(2)} per 100 devices per day), ${falseAttacked.length} besides the incidents on the attacked one (${perDay(falseAttacked.length, attacked.devices).toFixed(2)} per 100 devices per day).`);
for (const a of [...clean.alerts, ...falseAttacked].slice(0, 12)) console.log(`  false (${a.source}): ${a.text.slice(0, 200)}`);
