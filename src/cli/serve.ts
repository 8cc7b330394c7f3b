/**
 * `vigil serve`: the store, the API, and the analysis feeding them. With no configuration it uses
 * the embedded database in the data directory; the first start creates an `admin` with a random
 * password printed once (there is no default password).
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileSource, streamSource } from '../capture/source.ts';
import { installRoot } from '../knowledge/paths.ts';
import { buildApp } from '../server/app.ts';
import { hashPassword, randomPassword } from '../server/auth.ts';
import { BatchedWriter } from '../store/writer.ts';
import { followDeviceList } from '../store/device-index.ts';
import { AnalysisState, type Analysis } from './pipeline.ts';
import { Keeper, WINDOW_MODEL } from './keep.ts';
import { mergeBaselineParts, type BaselineLedger, type BaselineSnapshot } from '../behavior/baseline.ts';
import { WindowModel, type WindowModelSnapshot } from '../behavior/window.ts';
import type { SqlStore } from '../store/store.ts';
import { startLiveCapture } from '../capture/live.ts';
import { runSensor } from '../sensor/run.ts';
import { Sensor, type SensorReport } from '../sensor/sensor.ts';
import { defaultDataDir, openStore } from './users.ts';
import { fmtInt } from './format.ts';

export interface ServeOptions {
  port: number;
  host: string;
  dataDir?: string;
  database?: string;
  read?: string;
  /** Simulate a hospital (with incidents) into the data directory and read it: the demo. */
  demo?: boolean;
  /** A directory a capture tool rotates files into: each finished file is analysed into the store. */
  watch?: string;
  /** Capture live from this interface (receive-only, via tcpdump) and analyse continuously. */
  interface?: string;
  /** Seconds between the live analysis's writes to the store (default 60). */
  checkpoint?: number;
  /** Days of traffic summaries kept (default 30). */
  retentionDays?: number;
  /** Capture time that learns normal behaviour (seconds; default 24 h, the demo 4 h). */
  learn?: number;
  /** Trust the X-Forwarded-* headers of a reverse proxy in front. */
  trustProxy?: boolean;
}

export async function serveCommand(o: ServeOptions): Promise<number> {
  // The server runs one analysis: two live sources at once would interleave their flows out of time
  // order in it (a file read first, with --read, is fine: it is finished before the live one starts).
  if (o.watch !== undefined && o.interface !== undefined) {
    process.stderr.write('vigil serve: --watch and --interface are two continuous sources; run one server for each\n');
    return 2;
  }
  let store;
  try {
    store = await openStore(o);
  } catch (e) {
    process.stderr.write(`vigil serve: cannot open the store (${o.database !== undefined ? 'PostgreSQL' : `${o.dataDir ?? defaultDataDir()}/vigil.db`}): ${(e as Error).message}\n`);
    return 1;
  }
  let firstPassword: string | undefined;
  if ((await store.userCount()) === 0) {
    firstPassword = randomPassword();
    await store.addUser('admin', 'admin', await hashPassword(firstPassword), 'first start');
  }
  const writer = new BatchedWriter(store);
  // What the capture side is doing: on /api/health, and pushed to the dashboard as it changes.
  const ingest: Record<string, unknown> = { state: 'idle' };
  const ingestEvents = new EventEmitter<{ ingest: [Record<string, unknown>] }>();
  const setIngest = (patch: Record<string, unknown>) => {
    Object.assign(ingest, patch);
    ingestEvents.emit('ingest', { ...ingest });
  };
  const deviceIndex = await followDeviceList(store);
  const learn = o.learn ?? (o.demo === true ? 4 * 3600 : undefined);
  const app = await buildApp({ store, deviceIndex, ingestEvents, trustProxy: o.trustProxy === true, ...(learn !== undefined ? { learnSeconds: learn } : {}), writer: () => writer.health, ingest: () => ingest });
  let address: string;
  try {
    address = await app.listen({ port: o.port, host: o.host });
  } catch (e) {
    process.stderr.write(`vigil serve: cannot listen on ${o.host}:${o.port}: ${(e as Error).message}\n`);
    await store.close();
    return 1;
  }
  process.stdout.write(`vigil: serving on ${address} (API at ${address}/api, OpenAPI at ${address}/api/openapi.json)\n`);
  if (firstPassword !== undefined) process.stdout.write(`vigil: first start — user "admin", password ${firstPassword} (shown once: keep it, then add named users)\n`);

  const stop = async () => {
    await app.close();
    await writer.close().catch((e: Error) => process.stderr.write(`vigil serve: ${e.message}\n`));
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  // One analysis for the server's lifetime: every file and the live feed build the same inventory
  // and the same behaviour, which resumes from what the store learnt before a restart.
  const state = new AnalysisState({ traffic: true, ...(learn !== undefined ? { learn } : {}), ...(await restoreBehaviour(store)) });
  // Only what changed since the last judgement is written, in slices (keep.ts).
  const keeper = new Keeper(writer, state);
  const keep = (a: Analysis) => keeper.keep(a);

  // A file is marked analysed only once its results are committed; a crash before that reads it
  // again on the next start, and every write is idempotent (devices and traffic totals replace,
  // an open alert is seen again rather than duplicated), so nothing is lost or counted twice.
  const ingestFile = async (file: string) => {
    // stdin ('-') is read once, as it comes: there is no file to mark or to read again.
    const stdin = file === '-';
    const path = stdin ? `stdin:${new Date().toISOString()}` : resolve(file);
    let size = 0;
    if (!stdin) {
      try {
        size = statSync(path).size;
      } catch (e) {
        setIngest({ state: 'failed', error: (e as Error).message });
        process.stderr.write(`vigil serve: ${file}: ${(e as Error).message}\n`);
        return;
      }
      const before = await store.ingested(path);
      if (before !== undefined && before.size === size) {
        process.stdout.write(`vigil: ${file}: already analysed (${fmtInt(before.frames)} frames), skipped\n`);
        return;
      }
    }
    setIngest({ state: 'reading', source: stdin ? 'stdin' : file });
    try {
      const run = await runSensor(stdin ? streamSource(process.stdin) : await fileSource(path), state.sensorOptions());
      const a = await state.judge(run, learn !== undefined ? { learn } : {});
      const alertCount = await keep(a);
      for (const t of a.traffic) writer.traffic({ source: path, ...t });
      // The file's traffic is written under its own name: the next file starts from zero.
      state.traffic?.clear();
      await writer.flush();
      if (writer.health.state !== 'ok') throw new Error(`the store is unavailable (${writer.health.lastError ?? 'unknown'}); the results stay queued and the file will be read again on the next start`);
      if (!stdin) await store.markIngested(path, size, a.run.report.frames);
      setIngest({ state: 'done', frames: a.run.report.frames, devices: a.inventory.devices.length, alerts: alertCount, ...(a.run.error !== undefined ? { warning: a.run.error.message } : {}) });
      process.stdout.write(`vigil: ${file}: ${fmtInt(a.run.report.frames)} frames, ${a.inventory.devices.length} devices, ${alertCount} alerts stored\n`);
    } catch (e) {
      setIngest({ state: 'failed', error: (e as Error).message });
      process.stderr.write(`vigil serve: ${file}: ${(e as Error).message}\n`);
    }
  };
  if (o.read !== undefined) await ingestFile(o.read);
  if (o.demo === true && (await store.devices({ limit: 1 })).total === 0) {
    // A morning in a 60-device hospital with labelled incidents; the first 4 hours learn behaviour.
    // The capture (~1 GB) is analysed from a temporary file and removed: the store keeps the results.
    const tmp = mkdtempSync(join(tmpdir(), 'vigil-demo-'));
    try {
      process.stdout.write('vigil: simulating a 60-device hospital (06:00–12:00, with labelled incidents) for the demo …\n');
      const { simulate } = await import('../simulate/simulate.ts');
      const file = join(tmp, 'hospital.pcap');
      await simulate({ devices: 60, duration: 6 * 3600, seed: 'demo', start: Date.parse('2026-11-23T06:00:00Z') / 1000, out: file, catalogue: join(installRoot(), 'data', 'simulator', 'catalogue.json'), incidents: 'all' });
      await ingestFile(file);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (o.watch !== undefined) watchDirectory(o.watch, ingestFile);
  if (o.interface !== undefined) {
    // Live: the sensor runs for as long as the capture does; every checkpoint judges what has been
    // gathered and writes it through the batched writer.
    const live = startLiveCapture({ interface: o.interface });
    const source = `live:${o.interface}:${Math.floor(Date.now() / 1000)}`;
    let sensor: Sensor | undefined;
    setIngest({ state: 'capturing', source: `interface ${o.interface}` });
    const running = runSensor(live.source, state.sensorOptions(), (s) => {
      sensor = s;
    });
    // Judging awaits the knowledge (user-imported advisories are validated): checkpoints run one after
    // another, never interleaved.
    let checkpoints = Promise.resolve();
    const judgeNow = async () => {
      const a = await state.judge({ report: sensor?.report() ?? emptyReport() }, learn !== undefined ? { learn } : {});
      await keep(a);
      for (const t of a.traffic) writer.traffic({ source, ...t });
      // Hours before the last are final (a flow counts in the hour it ended): written, forgotten.
      const last = sensor?.report().lastTime;
      if (last !== undefined) state.traffic?.forgetBefore(Math.floor(last / 3600) * 3600 - 3600);
      setIngest({ frames: sensor?.frames ?? 0, devices: a.inventory.devices.length, checkpointAt: Date.now() / 1000 });
    };
    const checkpoint = (): Promise<void> =>
      (checkpoints = checkpoints.then(judgeNow).catch((e: Error) => {
        process.stderr.write(`vigil serve: checkpoint: ${e.message}\n`);
      }));
    const timer = setInterval(() => void checkpoint(), (o.checkpoint ?? 60) * 1000);
    timer.unref();
    void running.then(
      async () => {
        clearInterval(timer);
        await checkpoint();
        setIngest({ state: 'stopped' });
      },
      (e: Error) => setIngest({ state: 'failed', error: e.message }),
    );
    void live.exited.then((ex) => {
      if (ex.code !== 0 && ex.code !== null) {
        setIngest({ state: 'failed', error: ex.stderr.split('\n').filter((l) => l.trim() !== '').pop() ?? `tcpdump exited with ${ex.code}` });
        process.stderr.write(`vigil serve: capture on ${o.interface} failed: ${String(ingest.error)}\n`);
      }
    });
  }
  // The retention limit on traffic summaries, applied now and every hour; fresh planner statistics.
  const retention = async () => {
    try {
      await store.optimize();
      const n = await store.pruneTraffic((o.retentionDays ?? 30) * 86400);
      if (n > 0) process.stdout.write(`vigil: retention: ${n} traffic rows older than ${o.retentionDays ?? 30} days removed\n`);
    } catch (e) {
      process.stderr.write(`vigil serve: retention: ${(e as Error).message}\n`);
    }
  };
  void retention();
  setInterval(() => void retention(), 3600_000).unref();
  // Keep serving until a signal.
  return new Promise<number>(() => undefined);
}

/**
 * Polls a directory that a capture tool (tcpdump -G/-C, dumpcap -b) rotates files into. A file is
 * taken once its size has stopped changing for two polls (the tool has moved on to the next), and
 * each file is analysed once, in name order.
 */
function watchDirectory(dir: string, ingestFile: (file: string) => Promise<void>): void {
  const done = new Set<string>();
  const sizes = new Map<string, { size: number; stable: number }>();
  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      const names = readdirSync(dir).filter((n) => /\.(pcap|pcapng|cap)(\.\d+)?$|\d$/.test(n)).sort();
      for (const n of names) {
        const file = join(dir, n);
        if (done.has(file)) continue;
        const size = statSync(file).size;
        const s = sizes.get(file);
        if (s === undefined || s.size !== size) {
          sizes.set(file, { size, stable: 0 });
          continue;
        }
        if (++s.stable < 2 || size === 0) continue;
        done.add(file);
        sizes.delete(file);
        await ingestFile(file);
      }
    } catch (e) {
      process.stderr.write(`vigil serve: --watch ${dir}: ${(e as Error).message}\n`);
    } finally {
      busy = false;
    }
  };
  setInterval(() => void poll(), 1000).unref();
  void poll();
}

function emptyReport(): SensorReport {
  return new Sensor({ dissectors: [] }).report();
}

/**
 * What the store learnt before: the baseline from its per-device pieces and the rest, the online
 * model whole. A piece in an unknown format is reported and left out (learning starts afresh for
 * it), never a reason not to start.
 */
async function restoreBehaviour(store: SqlStore): Promise<{ baseline?: BaselineLedger; windows?: WindowModel }> {
  const out: { baseline?: BaselineLedger; windows?: WindowModel } = {};
  const parts = (await store.models('baseline')).map((m) => m.data as BaselineSnapshot);
  if (parts.length > 0) {
    try {
      out.baseline = mergeBaselineParts(parts);
    } catch (e) {
      process.stderr.write(`vigil serve: the stored behaviour baseline could not be read (${(e as Error).message}); learning again\n`);
    }
  }
  const wm = await store.model(WINDOW_MODEL);
  if (wm !== undefined) {
    try {
      out.windows = WindowModel.fromJSON(wm.data as WindowModelSnapshot);
    } catch (e) {
      process.stderr.write(`vigil serve: the stored online model could not be read (${(e as Error).message}); learning again\n`);
    }
  }
  if (out.baseline !== undefined || out.windows !== undefined) process.stdout.write(`vigil: behaviour resumed from the store (${parts.length} baseline pieces${out.windows !== undefined ? ', the online model' : ''})\n`);
  return out;
}

