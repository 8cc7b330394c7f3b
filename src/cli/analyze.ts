/**
 * `vigil analyze <file|->` and `vigil capture --interface IF`: run the sensor over a capture and
 * report what each host revealed about itself.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import pc from 'picocolors';
import { fileSource, streamSource, type ByteSource } from '../capture/source.ts';
import { startLiveCapture } from '../capture/live.ts';
import { ALL_DISSECTORS, synDissectors } from '../protocols/index.ts';
import { HostIndex } from '../sensor/hosts.ts';
import { runSensor, type RunResult } from '../sensor/run.ts';
import type { Sensor } from '../sensor/sensor.ts';
import type { FlowRecord } from '../flow/flow.ts';
import { fmtBytes, fmtInt, formatFindings, formatHosts, formatInventory, formatReport } from './format.ts';
import { inventoryCsv } from '../export/csv.ts';
import type { AnalysisState } from './pipeline.ts';

export interface AnalyzeOptions {
  json?: boolean;
  flows?: string;
  allObservations?: boolean;
  progress?: boolean;
  hosts?: number;
  /** Build the device inventory (default on). */
  inventory?: boolean;
  /** Run the behaviour detectors (default on; off: the inventory and its findings only). */
  behaviour?: boolean;
  /** Devices shown in the human table. */
  devices?: number;
  /** Write the inventory as CSV to this file ('-': stdout, instead of the table). */
  csv?: string;
  /** Assess end of life as of this date (default: today). */
  asOf?: Date;
  /** Seconds of capture that learn normal behaviour before deviations are reported (default 24 h). */
  learn?: number;
  /** Directory of imported advisories (vigil knowledge import); default the user's data directory. */
  knowledgeDir?: string;
}

/** Exit codes: 0 read (maybe with warnings), 1 nothing could be read, 2 usage. */
export async function analyzeCommand(input: string, o: AnalyzeOptions): Promise<number> {
  let source: ByteSource;
  const name = input === '-' ? 'stdin' : input;
  try {
    source = input === '-' ? streamSource(process.stdin) : await fileSource(input);
  } catch (e) {
    process.stderr.write(`vigil: ${name}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}\n`);
    return 1;
  }
  return analyzeSource(source, name, o);
}

export async function captureCommand(o: AnalyzeOptions & { interface: string; count?: number; filter?: string }): Promise<number> {
  const live = startLiveCapture({ interface: o.interface, count: o.count, filter: o.filter });
  const onSignal = () => live.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const exited = live.exited.catch((e: Error) => ({ code: -1, stderr: e.message }));
  const code = await analyzeSource(live.source, `interface ${o.interface}`, { ...o, progress: false });
  const ex = await exited;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (ex.code !== 0 && ex.code !== null && ex.code !== 130) {
    const msg = ex.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('tcpdump: listening')).pop() ?? '';
    process.stderr.write(`vigil: capture on ${o.interface} failed: ${msg || `tcpdump exited with ${ex.code}`}\n`);
    return 1;
  }
  return code;
}

async function analyzeSource(source: ByteSource, name: string, o: AnalyzeOptions): Promise<number> {
  const out = process.stdout;
  const hosts = o.hosts !== undefined ? new HostIndex() : undefined;
  // The inventory, reconnaissance and behaviour are the pipeline's (the same as serve and reports run).
  // Loaded only when used: the inventory's knowledge and models cost start-up time a sensor-only run need not pay.
  const state: AnalysisState | undefined = o.inventory !== false ? new (await import('./pipeline.ts')).AnalysisState({ ...(o.learn !== undefined ? { learn: o.learn } : {}), behaviour: o.behaviour !== false }) : undefined;
  const fed = state?.sensorOptions();
  let flowsOut: WriteStream | undefined;
  if (o.flows !== undefined) flowsOut = createWriteStream(o.flows);
  const writeJson = o.json === true;
  const started = performance.now();
  // The progress bar library loads only when there is a terminal to draw on.
  const bar = o.progress !== false && process.stderr.isTTY ? await progressBar(source) : undefined;
  let lastUpdate = 0;
  const onChunk = (sensor: Sensor) => {
    if (bar === undefined) return;
    const now = performance.now();
    if (now - lastUpdate < 100) return;
    lastUpdate = now;
    bar.update(source.position, { packets: fmtInt(sensor.frames), pps: fmtInt(sensor.frames / ((now - started) / 1000)) });
  };
  let result: RunResult;
  try {
    result = await runSensor(
      source,
      {
        dissectors: ALL_DISSECTORS,
        synDissectors: synDissectors(),
        allObservations: o.allObservations === true,
        onObservation: (obs) => {
          hosts?.add(obs);
          fed?.onObservation?.(obs);
          if (writeJson) out.write(`${JSON.stringify({ type: 'observation', ...obs })}\n`);
        },
        // Flow records cost an object each: build them only when someone reads them.
        ...(writeJson || flowsOut !== undefined || fed !== undefined
          ? {
              onFlow: (f: FlowRecord) => {
                fed?.onFlow?.(f);
                if (!writeJson && flowsOut === undefined) return;
                const line = `${JSON.stringify({ type: 'flow', ...f })}\n`;
                if (flowsOut !== undefined) flowsOut.write(line);
                if (writeJson) out.write(line);
              },
            }
          : {}),
      },
      onChunk,
    );
  } finally {
    bar?.stop();
    if (flowsOut !== undefined) await new Promise<void>((r) => flowsOut.end(r));
  }
  const seconds = (performance.now() - started) / 1000;
  const { report, error } = result;
  if (error !== undefined) {
    const where = error.frame > 0 ? `offset ${error.offset}, frame ${error.frame}` : `offset ${error.offset}`;
    process.stderr.write(`${pc.yellow('vigil:')} ${name}: ${error.message} (${where})\n`);
    // Nothing read at all is a failure, said in one line; a capture that stopped part-way still produced results.
    if (report.frames === 0) return 1;
  }
  let hostText = '';
  if (!writeJson && hosts !== undefined) {
    const { total, hosts: top } = hosts.hosts(o.hosts ?? 40);
    hostText = `${formatHosts(total, top)}\n\n`;
  }
  const analysis = await state?.judge(result, { ...(o.asOf !== undefined ? { asOf: o.asOf } : {}), ...(o.learn !== undefined ? { learn: o.learn } : {}), ...(o.knowledgeDir !== undefined ? { knowledgeDir: o.knowledgeDir } : {}) });
  const inv = analysis?.inventory;
  if (inv !== undefined && o.csv !== undefined && o.csv !== '-') await writeFile(o.csv, inventoryCsv(inv.devices));
  if (o.csv === '-' && inv !== undefined) {
    out.write(inventoryCsv(inv.devices));
    process.stderr.write(`${formatReport(report, seconds)}\n`);
    return 0;
  }
  const reconFindings = analysis?.recon ?? [];
  const behaviour = analysis?.behaviour ?? [];
  const learning = state?.behaviour === true ? state.learningOnly(o.learn) : undefined;
  if (writeJson && inv !== undefined) {
    for (const d of inv.devices) out.write(`${JSON.stringify({ type: 'device', device: d })}\n`);
    out.write(`${JSON.stringify({ type: 'inventory', ...inv.summary })}\n`);
  }
  if (writeJson) for (const r of reconFindings) out.write(`${JSON.stringify({ type: 'recon', ...r })}\n`);
  if (writeJson) for (const b of behaviour) out.write(`${JSON.stringify({ type: 'behaviour', alert: b })}\n`);
  const anomalies = analysis?.anomalies ?? [];
  if (writeJson) for (const m of anomalies) out.write(`${JSON.stringify({ type: 'anomaly', alert: m })}\n`);
  if (writeJson) for (const m of analysis?.unconfirmedAnomalies ?? []) out.write(`${JSON.stringify({ type: 'anomaly', unconfirmed: true, alert: m })}\n`);
  const invText = !writeJson && inv !== undefined ? `${formatInventory(inv, o.devices ?? 40)}\n\n${formatFindings(inv, reconFindings, behaviour, learning, anomalies)}` : '';
  const summary = `${hostText}${invText}${formatReport(report, seconds)}\n`;
  if (writeJson) {
    out.write(`${JSON.stringify({ type: 'summary', source: name, seconds, ...report })}\n`);
    process.stderr.write(summary);
  } else out.write(summary);
  return 0;
}

async function progressBar(source: ByteSource): Promise<{ update(v: number, p: Record<string, string>): void; stop(): void }> {
  // require, not import(): the bundle is a script and cannot import (see scripts/build.mjs).
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const total = source.size;
  const bar = new cliProgress.SingleBar(
    {
      format:
        total !== undefined
          ? 'reading |{bar}| {percentage}% · {value}/{total} · {packets} packets · {pps} pkt/s · ETA {eta_formatted}'
          : 'reading {value} · {packets} packets · {pps} pkt/s',
      formatValue: (v, _opts, type) => (type === 'value' || type === 'total' ? fmtBytes(v) : String(v)),
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total ?? 0, 0, { packets: '0', pps: '0' });
  return bar;
}
