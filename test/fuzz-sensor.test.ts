/**
 * Hostile input end to end: real captures with random bytes flipped, cut and shuffled, through the
 * whole sensor with every dissector. Nothing may throw, no dissector may fail (a dissector error is
 * a bug, even though the sensor contains it), and buffered data must stay bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { CaptureReader } from '../src/capture/reader.ts';
import { LinkType } from '../src/capture/record.ts';
import { pcapHeader, pcapRecord } from '../src/capture/writer.ts';
import { ALL_DISSECTORS, synDissectors } from '../src/protocols/index.ts';
import { Sensor } from '../src/sensor/sensor.ts';

const SAMPLE = new URL('../samples/hospital-sample.pcap', import.meta.url).pathname;

function frames(): Array<{ t: number; data: Buffer }> {
  const out: Array<{ t: number; data: Buffer }> = [];
  const r = new CaptureReader((rec) => out.push({ t: rec.tsSec + rec.tsNsec / 1e9, data: Buffer.from(rec.data) }));
  r.push(readFileSync(SAMPLE));
  r.end();
  return out;
}

test('mutated real traffic through every dissector: no exception, no dissector error, bounded buffers', () => {
  const base = frames();
  const o = { linkType: LinkType.ETHERNET };
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 1, max: 40 }),
      (seed, rate) => {
        let x = seed || 1;
        const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
        const parts = [pcapHeader(o)];
        for (const f of base) {
          const d = Buffer.from(f.data);
          // Flip bytes past the Ethernet/IP headers mostly, so packets still reach the dissectors.
          const flips = Math.floor(rnd() * rate);
          for (let i = 0; i < flips; i++) d[14 + Math.floor(rnd() * Math.max(1, d.length - 14))] = Math.floor(rnd() * 256);
          const cut = rnd() < 0.05 ? Math.floor(rnd() * d.length) : d.length;
          parts.push(pcapRecord(o, Math.floor(f.t), 0, d.subarray(0, cut)));
        }
        const sensor = new Sensor({ dissectors: ALL_DISSECTORS, synDissectors: synDissectors(), onObservation: () => {} });
        sensor.push(Buffer.concat(parts));
        const report = sensor.end();
        for (const [name, s] of Object.entries(report.dissectors)) assert.equal(s.errors, 0, `dissector ${name} threw`);
        assert.ok(report.reassembly.heldPeak <= 128 * 1024 * 1024);
      },
    ),
    { numRuns: 40 },
  );
});
