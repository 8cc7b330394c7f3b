// A report identifies a device once per identityKey and gives the others of that key its claims with
// their own evidence (inventory.ts, identify.ts). On the sample, every capture of the shared corpus
// and the benchmark's replay of them on shifted addresses (bench/make-capture.ts: many devices that
// state the same things, as a hospital's fleets do), in one inventory, every assessed device must be
// what identifying it by itself gives.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileSource } from '../src/capture/source.ts';
import { identityKey, macIdentity } from '../src/inventory/identify.ts';
import { assessDevice, assessInventory } from '../src/inventory/inventory.ts';
import { AnalysisState } from '../src/cli/pipeline.ts';
import { loadKnowledge } from '../src/knowledge/index.ts';
import { runSensor } from '../src/sensor/run.ts';
import { corpus, hasCorpus } from './helpers/observe.ts';

function captures(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? captures(join(dir, e.name)) : /\.(pcap|pcapng|cap)$/i.test(e.name) ? [join(dir, e.name)] : []));
}

test('devices that state the same things get the same claims, each with its own evidence', { skip: !hasCorpus() && 'no ../shared/corpus' }, async () => {
  const knowledge = await loadKnowledge({ knowledgeDir: null });
  const at = new Date('2026-12-01T00:00:00Z');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-shared-'));
  const replay = join(dir, 'replay.pcap');
  const made = spawnSync(process.execPath, ['--import', 'tsx', new URL('../bench/make-capture.ts', import.meta.url).pathname, replay, '--packets', '200000'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const state = new AnalysisState({ behaviour: false });
  try {
    for (const file of [new URL('../samples/hospital-sample.pcap', import.meta.url).pathname, ...captures(corpus('pcaps')), replay]) {
      await runSensor(await fileSource(file), state.sensorOptions());
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const all = state.builder.devices();
  const shared = assessInventory(all, knowledge, at).devices;
  const alone = new Map(all.map((d) => [d.id, assessDevice(d, knowledge, at)]));
  assert.equal(shared.length, alone.size);
  for (const d of shared) assert.equal(JSON.stringify(d), JSON.stringify(alone.get(d.id)), d.id);

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
