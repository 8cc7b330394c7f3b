/**
 * What the inventory costs, counted in machine instructions instead of seconds: `vigil analyze FILE
 * --no-behaviour` (the inventory and its findings) against `--no-inventory` (the sensor alone), each
 * run under valgrind's cachegrind, which counts every instruction the process executes.
 *
 * Why: this machine's speed drifts by tens of percent within minutes (bench/inventory.ts interleaves
 * rounds and takes medians, and one round still moves by ±5 points). An instruction count does not
 * drift: two runs of the same code agree within ~0.2%, so a change of 1% of the inventory's cost is
 * seen in one run of each. It is a proxy, not the goal's measure: it counts neither cache misses
 * (the collector's are many) nor waiting, and V8 compiles on the main thread here
 * (`--single-threaded`, so that compiles are counted in the same process, and tiering does not
 * depend on thread timing). The goal itself is judged in seconds, by bench/inventory.ts.
 *
 *   node --import tsx bench/inventory-instructions.ts FILE.pcap… [--runs N]
 *
 * Needs valgrind (Debian: apt-get install valgrind); ~1 minute per run on the 1,000,000-packet captures.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts, positionals: files } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '1' } } });
const repo = resolve(import.meta.dirname, '..');
const RUNS = Math.max(1, Math.floor(Number(opts.runs)) || 1);

/** Instructions executed by `node bin/vigil.js analyze FILE --no-progress MODE` (all its threads). */
function instructions(file: string, mode: string): number {
  const r = spawnSync(
    'valgrind',
    ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', '--smc-check=all-non-file', process.execPath, '--single-threaded', join(repo, 'bin/vigil.js'), 'analyze', file, '--no-progress', mode],
    { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.error !== undefined) throw new Error(`valgrind could not run (${r.error.message}); install it: apt-get install valgrind`);
  const m = /I\s+refs:\s+([\d,]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`vigil analyze ${file} ${mode} under valgrind exited with ${r.status}: ${r.stderr.slice(-1000)}`);
  return Number((m[1] as string).replaceAll(',', ''));
}

const g = (n: number) => `${(n / 1e9).toFixed(2)} G`;
console.log(`\nInstructions of whole commands (valgrind cachegrind, node --single-threaded; ${RUNS} run(s) each, the lowest)\n`);
console.log('| capture | sensor only | + inventory (--no-behaviour) | the inventory | inventory costs (packets/s, if time followed instructions) |');
console.log('|---|---:|---:|---:|---:|');
for (const file of files) {
  const bare: number[] = [];
  const inv: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(instructions(file, '--no-inventory'));
    inv.push(instructions(file, '--no-behaviour'));
  }
  const b = Math.min(...bare);
  const n = Math.min(...inv);
  console.log(`| ${file.split('/').pop()} | ${g(b)} | ${g(n)} | ${g(n - b)} | ${((1 - b / n) * 100).toFixed(1)}% |`);
}
