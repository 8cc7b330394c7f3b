/**
 * Simulator speed and memory: `vigil simulate` writing 10 million packets to /dev/null (the
 * generator's own speed), and a tenth of that to a file on tmpfs (with the cost of the write), on one core;
 * prints packets/s and peak RSS. The target is ≥ 500,000 packets/s with memory flat in the length.
 *
 *   node --import tsx bench/simulate.ts [--packets 10000000] [--devices 500]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const repo = resolve(here, '..');
const args = process.argv.slice(2);
const num = (flag: string, d: number) => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const packets = num('--packets', 10_000_000);
const devices = num('--devices', 500);

function run(out: string, count = packets): { seconds: number; rssMb: number; line: string } {
  const started = process.hrtime.bigint();
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', 'VIGIL_BENCH_RSS_KB=%M', 'taskset', '-c', '0', process.execPath, join(repo, 'bin/vigil.js'), 'simulate', '-n', String(devices), '-d', '30d', '--max-packets', String(count), '--incidents', 'all', '-o', out],
    { cwd: repo, encoding: 'utf8' },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`vigil simulate failed: ${r.stderr}`);
  const m = /VIGIL_BENCH_RSS_KB=(\d+)/.exec(r.stderr);
  return { seconds, rssMb: m !== null ? Number(m[1]) / 1024 : NaN, line: r.stderr.split('\n').find((l) => l.startsWith('vigil simulate')) ?? '' };
}

const rows: Array<{ target: string; seconds: number; pps: number; rssMb: number }> = [];
const nul = run('/dev/null');
rows.push({ target: '/dev/null', seconds: nul.seconds, pps: packets / nul.seconds, rssMb: nul.rssMb });
const shm = existsSync('/dev/shm') ? '/dev/shm/vigil-bench-sim.pcap' : join(here, 'out', 'sim.pcap');
mkdirSync(join(here, 'out'), { recursive: true });
try {
  // A tenth of the packets to tmpfs: ten million would need ~9 GB of RAM-backed disk.
  const count = Math.ceil(packets / 10);
  const file = run(shm, count);
  rows.push({ target: `${shm} (${count.toLocaleString('en')} packets)`, seconds: file.seconds, pps: count / file.seconds, rssMb: file.rssMb });
} finally {
  rmSync(shm, { force: true });
  rmSync(shm.replace(/\.pcap$/, '.truth.json'), { force: true });
}
console.log(`\nvigil simulate: ${packets.toLocaleString('en')} packets, ${devices} devices, 30 days cut at the packet limit (one core, whole command)\n`);
console.log('| output | seconds | packets/s | peak RSS |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.target} | ${r.seconds.toFixed(1)} | ${Math.round(r.pps).toLocaleString('en')} | ${r.rssMb.toFixed(0)} MB |`);
writeFileSync(join(here, 'out', 'simulate.json'), JSON.stringify({ packets, devices, date: new Date().toISOString(), rows }, null, 2));
