/** `vigil simulate`: argument checking and a one-line report; the work is in src/simulate. */
import { fmtInt, parseDuration } from './format.ts';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyzeCommand } from './analyze.ts';
import { simulate } from '../simulate/simulate.ts';
import { installRoot } from '../knowledge/paths.ts';

export async function simulateCommand(o: { devices: number; duration: string; seed: string; start: string; catalogue: string; maxPackets?: number; incidents: string; out: string }): Promise<number> {
  const duration = parseDuration(o.duration);
  if (!(duration > 0)) {
    process.stderr.write(`vigil simulate: --duration "${o.duration}" is not a duration (try 90s, 30m, 24h, 7d)\n`);
    return 2;
  }
  const start = Date.parse(o.start);
  if (Number.isNaN(start)) {
    process.stderr.write(`vigil simulate: --start "${o.start}" is not a date (try 2026-11-23T00:00:00Z)\n`);
    return 2;
  }
  // The shipped catalogue is found relative to the installation when not in the working directory.
  let catalogue = o.catalogue;
  if (!existsSync(catalogue)) {
    const shipped = resolve(installRoot(), o.catalogue);
    if (existsSync(shipped)) catalogue = shipped;
  }
  const started = performance.now();
  try {
    const truth = await simulate({ devices: o.devices, duration, seed: o.seed, start: start / 1000, out: o.out, catalogue, incidents: o.incidents, ...(o.maxPackets !== undefined ? { maxPackets: o.maxPackets } : {}) });
    const s = (performance.now() - started) / 1000;
    process.stderr.write(
      `vigil simulate: ${o.out}: ${fmtInt(truth.packets)} packets, ${truth.devices.length} devices, ${truth.incidents.length} incidents in ${s.toFixed(1)} s (${fmtInt(Math.round(truth.packets / s))} packets/s)\n`,
    );
    return 0;
  } catch (e) {
    process.stderr.write(`vigil simulate: ${(e as Error).message}\n`);
    return 1;
  }
}

/** `vigil demo`: a simulated hospital, then the analysis of it, with the truth alongside. */
export async function demoCommand(o: { devices: number; duration: string; seed: string; keep?: string }): Promise<number> {
  const dir = o.keep ?? mkdtempSync(join(tmpdir(), 'vigil-demo-'));
  if (o.keep !== undefined) mkdirSync(dir, { recursive: true });
  const out = join(dir, 'hospital.pcap');
  try {
    const code = await simulateCommand({ devices: o.devices, duration: o.duration, seed: o.seed, start: '2026-11-23T06:00:00Z', catalogue: 'data/simulator/catalogue.json', incidents: 'all', out });
    if (code !== 0) return code;
    process.stderr.write(`vigil demo: analysing ${out} (ground truth in ${join(dir, 'hospital.truth.json')})\n\n`);
    return await analyzeCommand(out, { progress: true, devices: 30 });
  } finally {
    if (o.keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
