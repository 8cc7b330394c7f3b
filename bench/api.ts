/**
 * The server's speed, on SQLite and on PostgreSQL (issue 7):
 *  1. ingest: a capture analysed (sensor → inventory → findings → traffic summaries) and its results
 *     written through the batched writer into a fresh store — the write time against the analysis
 *     time, so "ingest keeps up with the sensor" is a ratio, not a hope;
 *  2. queries: 100,000 devices and 1,000,000 alerts stored, `vigil serve` started on them, and
 *     autocannon on loopback against the device list, device search, filtered lists and the alert
 *     queue. Goals: device list/search p95 < 50 ms, alert list p95 < 100 ms. autocannon reports
 *     p97.5 and p99 (not p95); both are upper bounds of p95, and the verdict is taken on p97.5.
 *
 *   node --import tsx bench/api.ts [--capture FILE] [--devices N] [--alerts N] [--engines sqlite,postgres] [--seconds S]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { seedAlerts, seedDevices } from './seed.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { openPostgresStore } from '../src/store/postgres.ts';
import type { SqlStore } from '../src/store/store.ts';
import { BatchedWriter } from '../src/store/writer.ts';
import { analyse, alertsOf } from '../src/cli/pipeline.ts';
import { fileSource } from '../src/capture/source.ts';

const { values: opts } = parseArgs({
  options: {
    capture: { type: 'string' },
    devices: { type: 'string', default: '100000' },
    alerts: { type: 'string', default: '1000000' },
    engines: { type: 'string', default: 'sqlite,postgres' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '4' },
  },
});
const repo = resolve(import.meta.dirname, '..');
const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const cleanups: (() => Promise<void> | void)[] = [];

async function pgDatabase(): Promise<string> {
  const name = `vigil_bench_${process.pid}_${Date.now()}`;
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  cleanups.push(async () => {
    const d = new pg.Client({ connectionString: PG_ADMIN });
    await d.connect();
    await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await d.end();
  });
  return `postgres://postgres@127.0.0.1:5432/${name}`;
}

async function openEngine(engine: string): Promise<{ store: SqlStore; args: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-api-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  if (engine === 'sqlite') return { store: await openSqliteStore(join(dir, 'vigil.db')), args: ['--data-dir', dir] };
  const url = await pgDatabase();
  return { store: await openPostgresStore(url), args: ['--data-dir', dir, '--database', url] };
}

async function ingest(engine: string, capture: string): Promise<void> {
  const t0 = performance.now();
  const a = await analyse(await fileSource(capture), { traffic: true });
  const analysis = (performance.now() - t0) / 1000;
  const { store } = await openEngine(engine);
  const writer = new BatchedWriter(store);
  const alerts = [...alertsOf(a)];
  const t1 = performance.now();
  for (const d of a.inventory.devices) writer.device(d);
  for (const al of alerts) writer.alert(al);
  for (const t of a.traffic) writer.traffic({ source: capture, ...t });
  await writer.close();
  const write = (performance.now() - t1) / 1000;
  await store.close();
  const rows = a.inventory.devices.length + alerts.length + a.traffic.length;
  console.log(
    `  ingest ${engine}: analysis ${analysis.toFixed(2)} s (${a.run.report.frames.toLocaleString('en')} frames), store writes ${write.toFixed(2)} s ` +
      `(${a.inventory.devices.length} devices, ${alerts.length} alerts, ${a.traffic.length} traffic rows; ${Math.round(rows / write).toLocaleString('en')} rows/s) → writing takes ${((write / analysis) * 100).toFixed(1)}% of the analysis time ${write < analysis ? 'PASS (keeps up)' : 'FAIL'}`,
  );
}

async function startServe(args: string[]): Promise<{ child: ChildProcess; url: string; token: string }> {
  const child = spawn(process.execPath, [join(repo, 'bin/vigil.js'), 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => void child.kill('SIGTERM'));
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const t0 = performance.now();
  for (let i = 0; i < 1800 && !/serving on/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  console.log(`  vigil serve ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (migrations, the device list index loaded)`);
  const url = /serving on (http:\/\/[0-9.:]+)/.exec(out)?.[1];
  const password = /password (\S+) \(shown once/.exec(out)?.[1];
  if (url === undefined || password === undefined) throw new Error(`vigil serve did not start: ${out}`);
  const r = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password }) });
  return { child, url, token: ((await r.json()) as { token: string }).token };
}

interface Scenario {
  name: string;
  goalMs: number;
  paths: string[];
}

const SCENARIOS: Scenario[] = [
  { name: 'device list (riskiest first, page of 100)', goalMs: 50, paths: ['/api/devices?limit=100', '/api/devices?limit=100&offset=5000', '/api/devices?limit=100&sort=vendor&order=asc'] },
  { name: 'device search (any identity field)', goalMs: 50, paths: ['/api/devices?search=pump-00123', '/api/devices?search=10.40.3.', '/api/devices?search=revolution', '/api/devices?search=00:1b:00:01:2c', '/api/devices?search=windows%207'] },
  { name: 'device filters (category, OS, subnet, VLAN, EOL, risk)', goalMs: 50, paths: ['/api/devices?category=imaging&limit=100', '/api/devices?os=windows%207&eol=eol', '/api/devices?subnet=10.40.0.0/16&limit=100', '/api/devices?vlan=31&minRisk=60', '/api/devices?vendor=baxter&sort=risk'] },
  { name: 'alert queue (newest, open, by team, by severity)', goalMs: 100, paths: ['/api/alerts?limit=100', '/api/alerts?open=true&limit=100', '/api/alerts?team=clinical-engineering&open=true&limit=100', '/api/alerts?severity=critical&limit=100', '/api/alerts?status=new&limit=100&offset=2000'] },
];

async function load(url: string, token: string, s: Scenario, seconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    requests: s.paths.map((path) => ({ method: 'GET' as const, path })),
  });
}

async function main(): Promise<void> {
  const engines = (opts.engines ?? '').split(',').filter((e) => e === 'sqlite' || e === 'postgres');
  const devices = Number(opts.devices);
  const alerts = Number(opts.alerts);
  console.log(`Vigil API benchmark — ${devices.toLocaleString('en')} devices, ${alerts.toLocaleString('en')} alerts, loopback, autocannon ${opts.connections} connections × ${opts.seconds} s per scenario`);
  const verdicts: boolean[] = [];
  for (const engine of engines) {
    console.log(`\n${engine}`);
    if (opts.capture !== undefined) await ingest(engine, opts.capture);
    const { store, args } = await openEngine(engine);
    const t0 = performance.now();
    const ids = await seedDevices(store, devices);
    const t1 = performance.now();
    await seedAlerts(store, ids, alerts);
    await store.optimize(); // what the server does hourly (and PostgreSQL's autovacuum soon after a bulk load)
    const t2 = performance.now();
    console.log(`  seeded: ${devices.toLocaleString('en')} devices through the store's upsert in ${((t1 - t0) / 1000).toFixed(1)} s (${Math.round(devices / ((t1 - t0) / 1000)).toLocaleString('en')} devices/s); ${alerts.toLocaleString('en')} alerts in bulk in ${((t2 - t1) / 1000).toFixed(1)} s`);
    await store.close();
    const server = await startServe(args);
    for (const s of SCENARIOS) {
      // Check each path answers before loading it: a 4xx under load would be a fast lie.
      for (const p of s.paths) {
        const r = await fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${server.token}` } });
        if (r.status !== 200) throw new Error(`${p}: HTTP ${r.status} ${await r.text()}`);
      }
      const r = await load(server.url, server.token, s, Number(opts.seconds), Number(opts.connections));
      const ok = r.latency.p97_5 < s.goalMs && r.non2xx === 0 && r.errors === 0;
      verdicts.push(ok);
      console.log(
        `  ${s.name.padEnd(56)} ${String(r.requests.total).padStart(6)} req  p50 ${String(r.latency.p50).padStart(4)} ms  p97.5 ${String(r.latency.p97_5).padStart(4)} ms  p99 ${String(r.latency.p99).padStart(4)} ms  ` +
          `(goal p95 < ${s.goalMs} ms) ${ok ? 'PASS' : 'FAIL'}${r.non2xx + r.errors > 0 ? ` — ${r.non2xx} non-2xx, ${r.errors} errors` : ''}`,
      );
    }
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
  console.log(`\n${verdicts.every(Boolean) ? 'all goals met' : 'some goals missed'}`);
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await c();
}
