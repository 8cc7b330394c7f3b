/**
 * The sensor in a long-running process: the same capture read several times by one process, each
 * pass through a new Sensor (decode + flows + reassembly + every dissector, observations handed to
 * a callback that keeps nothing). The first pass pays for compiling and warming up the JIT, as a
 * short `vigil analyze` does; later passes run as `vigil serve` and `vigil capture` do after their
 * first minute. Prints one JSON line: { packets, passes: [seconds…] }.
 *
 *   node --import tsx bench/sensor-warm.ts FILE.pcap [--passes N]
 */
import { parseArgs } from 'node:util';
import { fileSource } from '../src/capture/source.ts';
import { ALL_DISSECTORS, synDissectors } from '../src/protocols/index.ts';
import { runSensor } from '../src/sensor/run.ts';
import { tuneV8 } from '../bin/v8-tuning.js';

// The V8 settings `vigil` runs with (bin/v8-tuning.js), for what this process times itself.
tuneV8();

const { values, positionals } = parseArgs({ allowPositionals: true, options: { passes: { type: 'string', default: '4' } } });
const file = positionals[0];
if (file === undefined) throw new Error('usage: sensor-warm.ts FILE.pcap [--passes N]');
const passes: number[] = [];
let packets = 0;
let observations = 0;
for (let i = 0; i < Math.max(1, Number(values.passes)); i++) {
  const started = process.hrtime.bigint();
  const { report } = await runSensor(await fileSource(file), { dissectors: ALL_DISSECTORS, synDissectors: synDissectors(), onObservation: () => void observations++ });
  passes.push(Number(process.hrtime.bigint() - started) / 1e9);
  packets = report.frames;
}
console.log(JSON.stringify({ packets, passes, observations }));
