// The pipeline's builder keeps only the facts the assessment reads (inventoryAttributes): on every
// capture of the shared corpus, and on the sample, the assessed inventory must be the same as from
// a builder that keeps everything — an attribute some claim reads but the list forgot would show here.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileSource } from '../src/capture/source.ts';
import { InventoryBuilder } from '../src/inventory/builder.ts';
import { assessInventory, inventoryAttributes } from '../src/inventory/inventory.ts';
import { deviceProfiles } from '../src/knowledge/device-profiles.ts';
import { loadKnowledge } from '../src/knowledge/index.ts';
import { ALL_DISSECTORS, synDissectors } from '../src/protocols/index.ts';
import { runSensor } from '../src/sensor/run.ts';
import { corpus, hasCorpus } from './helpers/observe.ts';

function captures(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? captures(join(dir, e.name)) : /\.(pcap|pcapng|cap)$/i.test(e.name) ? [join(dir, e.name)] : []));
}

test('the inventory from the facts the assessment reads equals the inventory from all facts', { skip: !hasCorpus() && 'no ../shared/corpus' }, async () => {
  const keep = inventoryAttributes(deviceProfiles().attributesRead());
  const knowledge = await loadKnowledge({ knowledgeDir: null });
  const at = new Date('2026-12-01T00:00:00Z');
  const files = [new URL('../samples/hospital-sample.pcap', import.meta.url).pathname, ...captures(corpus('pcaps'))];
  assert.ok(files.length > 100, `${files.length} captures`);
  let devices = 0;
  let dropped = 0;
  for (const file of files) {
    const all = new InventoryBuilder();
    const kept = new InventoryBuilder({}, keep);
    await runSensor(await fileSource(file), {
      dissectors: ALL_DISSECTORS,
      synDissectors: synDissectors(),
      onObservation: (o) => {
        all.addObservation(o);
        kept.addObservation(o);
        if (!keep.has(o.attribute)) dropped++;
      },
      onFlow: (f) => {
        all.addFlow(f);
        kept.addFlow(f);
      },
    });
    const a = assessInventory(all.devices(), knowledge, at);
    const k = assessInventory(kept.devices(), knowledge, at);
    assert.equal(JSON.stringify(k), JSON.stringify(a), file);
    devices += a.devices.length;
  }
  // It compared something: devices, and observations the list leaves out.
  assert.ok(devices > 300, `${devices} devices`);
  assert.ok(dropped > 1000, `${dropped} observations of attributes the assessment does not read`);
});
