// A report identifies a device once per identityKey and gives the others of that key its claims with
// their own evidence (inventory.ts, identify.ts). On the sample, every capture of the shared corpus
// and the benchmark's replay of them on shifted addresses (bench/make-capture.ts: many devices that
// state the same things, as a hospital's fleets do), in one inventory, every assessed device must be
// what identifying it by itself gives — also when the report is judged in slices while the sensor
// goes on adding facts, as a live capture's checkpoints are.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileSource } from '../src/capture/source.ts';
import { identityKey, macIdentity } from '../src/inventory/identify.ts';
import { assessDevice, assessInventory, assessInventorySliced } from '../src/inventory/inventory.ts';
import { AnalysisState } from '../src/cli/pipeline.ts';
import { loadKnowledge } from '../src/knowledge/index.ts';
import type { FlowRecord } from '../src/flow/flow.ts';
import type { Observation } from '../src/protocols/observation.ts';
import { ALL_DISSECTORS, synDissectors } from '../src/protocols/index.ts';
import { runSensor } from '../src/sensor/run.ts';
import { corpus, hasCorpus } from './helpers/observe.ts';

function captures(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? captures(join(dir, e.name)) : /\.(pcap|pcapng|cap)$/i.test(e.name) ? [join(dir, e.name)] : []));
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-shared-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let replay: string | undefined;
/** The corpus replayed on shifted addresses, made once. */
function replayCapture(): string {
  if (replay !== undefined) return replay;
  const out = join(dir, 'replay.pcap');
  const made = spawnSync(process.execPath, ['--import', 'tsx', new URL('../bench/make-capture.ts', import.meta.url).pathname, out, '--packets', '200000'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  return (replay = out);
}

const at = new Date('2026-12-01T00:00:00Z');
const sample = new URL('../samples/hospital-sample.pcap', import.meta.url).pathname;

test('devices that state the same things get the same claims, each with its own evidence', { skip: !hasCorpus() && 'no ../shared/corpus' }, async () => {
  const knowledge = await loadKnowledge({ knowledgeDir: null });
  const state = new AnalysisState({ behaviour: false });
  for (const file of [sample, ...captures(corpus('pcaps')), replayCapture()]) await runSensor(await fileSource(file), state.sensorOptions());
  const all = state.builder.devices();
  const shared = assessInventory(all, knowledge, at);
  const alone = new Map(all.map((d) => [d.id, assessDevice(d, knowledge, at)]));
  assert.equal(shared.devices.length, alone.size);
  for (const d of shared.devices) assert.equal(JSON.stringify(d), JSON.stringify(alone.get(d.id)), d.id);
  // Devices of one identity with the same services and peer counts share one judgement (read-only).
  const judgements = new Set(shared.devices.map((d) => d.risk)).size;
  assert.ok(judgements < shared.devices.length / 2, `${judgements} judgements for ${shared.devices.length} devices`);
  // In slices, with nothing changing between them: the same devices, the same report.
  const withFacts = (_: string, v: unknown) => (v instanceof Map ? [...v] : v);
  assert.equal(JSON.stringify(await state.builder.devicesSliced(), withFacts), JSON.stringify(all, withFacts));
  assert.equal(JSON.stringify(await assessInventorySliced(all, knowledge, at, 7)), JSON.stringify(shared));

  // It shared: many devices have a key another has, among them devices with evidence to rebind.
  const keys = new Map<string, number>();
  let withEvidence = 0;
  for (const d of all) {
    const key = identityKey(d, macIdentity(d, knowledge));
    if (key === undefined) continue;
    const n = (keys.get(key) ?? 0) + 1;
    keys.set(key, n);
    if (n > 1 && (d.facts.size > 0 || d.macs.length > 0)) withEvidence++;
  }
  const repeats = [...keys.values()].reduce((s, n) => s + n - 1, 0);
  assert.ok(all.length > 1000 && repeats > all.length / 2, `${repeats} of ${all.length} devices repeat a key`);
  assert.ok(withEvidence > 300, `${withEvidence} repeats with evidence of their own`);
});

test('judged in slices while the sensor goes on adding facts, every claim still rests on its own device’s observations', { skip: !hasCorpus() && 'no ../shared/corpus' }, async () => {
  const knowledge = await loadKnowledge({ knowledgeDir: null });
  // Which hosts each observation came from (time, frame and attribute name it; not the value: the
  // evidence of leaked software names the software).
  const from = new Map<string, Set<string>>();
  const record = (o: Observation) => {
    const k = `${o.time}|${o.frame}|${o.attribute}`;
    let s = from.get(k);
    if (s === undefined) from.set(k, (s = new Set()));
    if (o.ip !== undefined) s.add(o.ip);
    if (o.mac !== undefined) s.add(o.mac);
  };
  const state = new AnalysisState({ behaviour: false });
  const feed = state.sensorOptions();
  const options = (onObservation: (o: Observation) => void, onFlow: (f: FlowRecord) => void) => ({ dissectors: ALL_DISSECTORS, synDissectors: synDissectors(), onObservation, onFlow });
  for (const file of [sample, ...captures(corpus('pcaps'))]) {
    await runSensor(
      await fileSource(file),
      options(
        (o) => {
          record(o);
          feed.onObservation?.(o);
        },
        (f) => feed.onFlow?.(f),
      ),
    );
  }
  // The replay arrives while the report is judged: a little between every two slices.
  const later: (Observation | FlowRecord)[] = [];
  await runSensor(
    await fileSource(replayCapture()),
    options(
      (o) => {
        record(o);
        later.push(o);
      },
      (f) => later.push(f),
    ),
  );
  let next = 0;
  let turns = 0;
  const arrive = () => {
    turns++;
    for (const end = Math.min(later.length, next + 2000); next < end; next++) {
      const e = later[next] as Observation | FlowRecord;
      if ('attribute' in e) feed.onObservation?.(e);
      else feed.onFlow?.(e);
    }
    if (next < later.length) setImmediate(arrive);
  };
  // Grouped and judged while the replay arrives; then the replay's devices too, while more of their
  // facts arrive.
  setImmediate(arrive);
  const all = await state.builder.devicesSliced();
  const first = await assessInventorySliced(all, knowledge, at, 5);
  const inventory = await assessInventorySliced([...all, ...state.builder.devices().filter((d) => !all.some((x) => x.id === d.id))], knowledge, at, 5);
  assert.ok(turns > 20 && next > 0, `the sensor's work ran between slices (${turns} turns)`);
  let checked = 0;
  for (const d of [...first.devices, ...inventory.devices]) {
    const own = new Set([...d.ips, ...d.macs]);
    const claims = [d.vendor, d.model, d.type, d.category, d.os].flatMap((c) => c?.evidence ?? []).concat(d.software.map((s) => s.evidence));
    for (const e of claims) {
      if (e.protocol === 'ethernet' && e.attribute === 'mac' && e.frame === 0) {
        assert.ok(d.macs.includes(e.value), `${d.id}: the registry's claim on its own MAC`);
        continue;
      }
      const hosts = from.get(`${e.time}|${e.frame}|${e.attribute}`);
      assert.ok(hosts !== undefined && [...hosts].some((h) => own.has(h)), `${d.id}: evidence ${e.attribute}=${e.value} (frame ${e.frame}) is another device's`);
      checked++;
    }
  }
  assert.ok(checked > 1000, `${checked} pieces of evidence checked`);
});
