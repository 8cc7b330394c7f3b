/** Test helpers: corpus paths, running the sensor over a capture, and asking tshark for the same fields. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileSource } from '../../src/capture/source.ts';
import type { FlowRecord } from '../../src/flow/flow.ts';
import type { Dissector, SynDissector } from '../../src/protocols/dissector.ts';
import type { Observation } from '../../src/protocols/observation.ts';
import { ALL_DISSECTORS, synDissectors } from '../../src/protocols/index.ts';
import { runSensor, type RunResult } from '../../src/sensor/run.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Absolute path of a file in ../shared/corpus (the shared reference corpus beside the repo). */
export function corpus(rel: string): string {
  return resolve(repo, '..', 'shared', 'corpus', rel);
}

export function hasCorpus(): boolean {
  return existsSync(corpus('SOURCES.md'));
}

export interface Observed extends RunResult {
  observations: Observation[];
  flows: FlowRecord[];
}

/** Runs the sensor over a capture file with the given dissectors (default: all registered). */
export async function observeCapture(
  path: string,
  opts: { dissectors?: Dissector[]; synDissectors?: SynDissector[]; allObservations?: boolean } = {},
): Promise<Observed> {
  const observations: Observation[] = [];
  const flows: FlowRecord[] = [];
  const result = await runSensor(await fileSource(path), {
    dissectors: opts.dissectors ?? ALL_DISSECTORS,
    synDissectors: opts.synDissectors ?? (opts.dissectors === undefined ? synDissectors() : []),
    allObservations: opts.allObservations ?? false,
    onObservation: (o) => observations.push(o),
    onFlow: (f) => flows.push(f),
  });
  return { ...result, observations, flows };
}

/** Values of one attribute, in order of first appearance. */
export function values(obs: Observation[], attribute: string): string[] {
  return obs.filter((o) => o.attribute === attribute).map((o) => o.value);
}

export function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * tshark's reading of the same capture: `tshark -r path -T fields -e f1 -e f2 …`, one row per packet
 * that passes the filter. Multi-valued fields come back comma-separated, as tshark prints them.
 */
export function tsharkFields(path: string, fields: string[], opts: { filter?: string; decodeAs?: string[]; firstOnly?: boolean; prefs?: string[] } = {}): string[][] {
  const args = ['-n', '-r', path, '-T', 'fields', '-E', 'separator=\t', '-E', `occurrence=${opts.firstOnly === true ? 'f' : 'a'}`, '-E', 'aggregator=,'];
  for (const d of opts.decodeAs ?? []) args.push('-d', d);
  for (const p of opts.prefs ?? []) args.push('-o', p);
  if (opts.filter !== undefined) args.push('-Y', opts.filter);
  for (const f of fields) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}
