/** `vigil serve` as a user meets it: first start prints the admin password once, --read fills the store, a restart keeps it all. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { postgresUrl } from './helpers/postgres.ts';
import { canCaptureOnLoopback } from './helpers/live.ts';

const VIGIL = new URL('../bin/vigil.js', import.meta.url).pathname;
const SAMPLE = new URL('../samples/hospital-sample.pcap', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'vigil-serve-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the server and collects its stdout until `until` matches (or 30 s pass). */
async function serve(args: string[], until: RegExp): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(process.execPath, [VIGIL, 'serve', '--port', '0', '--data-dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  children.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout; output so far: ${out}`)), 30_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (until.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { child, out };
}

/** A server whose output keeps accumulating in `state.out` (for tests that restart or kill it). */
function startServe(args: string[]): { child: ChildProcess; state: { out: string } } {
  const child = spawn(process.execPath, [VIGIL, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const state = { out: '' };
  child.stdout?.on('data', (b: Buffer) => (state.out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (state.out += b.toString()));
  return { child, state };
}

/** Waits (up to 60 s) until the output matches, and asserts it does. */
async function waitFor(state: { out: string }, re: RegExp): Promise<void> {
  for (let i = 0; i < 600 && !re.test(state.out); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(state.out, re);
}

async function login(url: string, password: string): Promise<string> {
  const r = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password }) });
  assert.equal(r.status, 200);
  return ((await r.json()) as { token: string }).token;
}

test('first start: an admin with a random password shown once; --read stores the inventory and alerts; a restart keeps them', async () => {
  const first = await serve(['--read', SAMPLE], /alerts stored/);
  const url = /serving on (http:\/\/[0-9.:]+)/.exec(first.out)?.[1];
  const password = /password (\S+) \(shown once/.exec(first.out)?.[1];
  assert.ok(url !== undefined && password !== undefined, first.out);
  assert.ok(password.length >= 24);
  const token = await login(url, password);
  const devices = (await (await fetch(`${url}/api/devices?limit=5`, { headers: { authorization: `Bearer ${token}` } })).json()) as { total: number; items: { risk: number }[] };
  assert.ok(devices.total > 10, JSON.stringify(devices).slice(0, 200));
  const health = (await (await fetch(`${url}/api/health`)).json()) as { status: string; ingest: { state: string } };
  assert.equal(health.status, 'ok');
  assert.equal(health.ingest.state, 'done');
  assert.equal((await fetch(`${url}/api/devices`)).status, 401);
  // The device page's communication peers come from the stored traffic summaries.
  const top = devices.items[0] as unknown as { id: string };
  const peers = (await (await fetch(`${url}/api/devices/${encodeURIComponent(top.id)}/peers`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { peer: string; bytes: number }[] };
  assert.ok(peers.items.length > 0 && peers.items.every((p) => p.bytes > 0), JSON.stringify(peers).slice(0, 300));
  first.child.kill('SIGTERM');
  await new Promise((r) => first.child.once('exit', r));

  const second = await serve(['--read', SAMPLE], /already analysed/);
  assert.doesNotMatch(second.out, /password/, 'the password is shown only at the first start');
  assert.match(second.out, /behaviour resumed from the store \(\d+ baseline pieces, the online model\)/);
  const url2 = /serving on (http:\/\/[0-9.:]+)/.exec(second.out)?.[1] as string;
  const token2 = await login(url2, password);
  const again = (await (await fetch(`${url2}/api/devices?limit=1`, { headers: { authorization: `Bearer ${token2}` } })).json()) as { total: number };
  assert.equal(again.total, devices.total);
  // What was learnt survived the restart: the device's normal peers and its hours.
  const learnt = (await (await fetch(`${url2}/api/devices/${encodeURIComponent(top.id)}/baseline`, { headers: { authorization: `Bearer ${token2}` } })).json()) as { state: string; peers: string[]; hours: unknown[] };
  assert.equal(learnt.state, 'learning', 'a sample of minutes is still in its learning day');
  assert.ok(learnt.hours.length > 0 || learnt.peers.length > 0, JSON.stringify(learnt).slice(0, 300));
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
});

test('--database postgres://…: the same server on PostgreSQL — it stores, serves, and keeps it all across a restart', async (t) => {
  const url = await postgresUrl();
  if (url === undefined) return t.skip('no PostgreSQL on this machine');
  const data = mkdtempSync(join(tmpdir(), 'vigil-pg-data-'));
  try {
    const run = (args: string[]) => startServe(['--data-dir', data, '--database', url, ...args]);
    const first = run(['--read', SAMPLE]);
    await waitFor(first.state, /alerts stored/);
    const base = /serving on (http:\/\/[0-9.:]+)/.exec(first.state.out)?.[1] as string;
    const password = /password (\S+) \(shown once/.exec(first.state.out)?.[1] as string;
    const token = await login(base, password);
    const auth = { authorization: `Bearer ${token}` };
    const devices = (await (await fetch(`${base}/api/devices?limit=3&subnet=0.0.0.0/0`, { headers: auth })).json()) as { total: number; items: { id: string }[] };
    assert.ok(devices.total > 10);
    const peers = (await (await fetch(`${base}/api/devices/${encodeURIComponent(devices.items[0]?.id ?? '')}/peers`, { headers: auth })).json()) as { items: unknown[] };
    assert.ok(peers.items.length > 0);
    const alerts = (await (await fetch(`${base}/api/alerts?limit=1`, { headers: auth })).json()) as { id: number }[];
    assert.equal(alerts.length, 1);
    assert.equal((await fetch(`${base}/api/alerts/${alerts[0]?.id}`, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'assigned', assignee: 'team:clinical-engineering' }) })).status, 200);
    first.child.kill('SIGTERM');
    await new Promise((r) => first.child.once('exit', r));
    const second = run(['--read', SAMPLE]);
    await waitFor(second.state, /already analysed/);
    const base2 = /serving on (http:\/\/[0-9.:]+)/.exec(second.state.out)?.[1] as string;
    const auth2 = { authorization: `Bearer ${await login(base2, password)}` };
    assert.equal(((await (await fetch(`${base2}/api/devices?limit=1`, { headers: auth2 })).json()) as { total: number }).total, devices.total);
    const trail = (await (await fetch(`${base2}/api/audit?entity=alert`, { headers: auth2 })).json()) as { actor: string; after: { assignee: string } }[];
    assert.equal(trail[0]?.after.assignee, 'team:clinical-engineering');
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('two continuous sources at once are refused with a clear message', () => {
  const r = spawnSync(process.execPath, [VIGIL, 'serve', '--port', '0', '--data-dir', dir, '--watch', dir, '--interface', 'lo'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--watch and --interface are two continuous sources/);
});

test('--read -: a capture piped in on stdin is analysed into the store', async () => {
  const data = mkdtempSync(join(tmpdir(), 'vigil-stdin-data-'));
  try {
    const child = spawn(process.execPath, [VIGIL, 'serve', '--port', '0', '--data-dir', data, '--read', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    child.stdin?.end(readFileSync(SAMPLE));
    for (let i = 0; i < 300 && !/alerts stored/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /vigil: -: [\d,]+ frames, \d+ devices, \d+ alerts stored/);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('--watch: a capture file that a capture tool finishes in the directory is analysed into the store', async () => {
  const watched = mkdtempSync(join(tmpdir(), 'vigil-watch-'));
  const data = mkdtempSync(join(tmpdir(), 'vigil-watch-data-'));
  try {
    const child = spawn(process.execPath, [VIGIL, 'serve', '--port', '0', '--data-dir', data, '--watch', watched], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    while (!/serving on/.test(out)) await new Promise((r) => setTimeout(r, 100));
    copyFileSync(SAMPLE, join(watched, 'ward7-0001.pcap'));
    for (let i = 0; i < 100 && !/ward7-0001\.pcap: .* devices/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /ward7-0001\.pcap: [\d,]+ frames, \d+ devices, \d+ alerts stored/);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  } finally {
    rmSync(watched, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});

test('kill -9 in the middle of ingest: nothing committed is lost, the restart resumes, nothing is counted twice', async () => {
  const watched = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
  const data = mkdtempSync(join(tmpdir(), 'vigil-crash-data-'));
  const files = ['a', 'b', 'c', 'd'].map((n) => `ward-${n}.pcap`);
  const start = () => startServe(['--data-dir', data, '--watch', watched]);
  try {
    for (const f of files) copyFileSync(SAMPLE, join(watched, f));
    const first = start();
    await waitFor(first.state, /ward-a\.pcap: .* alerts stored/);
    first.child.kill('SIGKILL'); // mid-way: the next file is being read or written
    await new Promise((r) => first.child.once('exit', r));

    const second = start();
    await waitFor(second.state, /ward-a\.pcap: already analysed/);
    await waitFor(second.state, /ward-d\.pcap: .* alerts stored|ward-d\.pcap: already analysed/);
    for (const f of files.slice(1)) await waitFor(second.state, new RegExp(`${f.replace('.', '\\.')}: (.* alerts stored|already analysed)`));
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));

    const db = new Database(join(data, 'vigil.db'), { readonly: true });
    try {
      const done = db.prepare('SELECT path FROM ingested_files ORDER BY path').all() as { path: string }[];
      assert.deepEqual(done.map((r) => r.path.split('/').pop()), files, 'every file analysed, each recorded once');
      // The four files are the same capture: each source's traffic totals must be equal — a file
      // half-written before the kill and read again after it would otherwise count more.
      const totals = db.prepare('SELECT source, SUM(bytes) AS bytes, COUNT(*) AS n FROM traffic GROUP BY source ORDER BY source').all() as { bytes: number; n: number }[];
      assert.equal(totals.length, 4);
      assert.ok(totals.every((t) => t.bytes === totals[0]?.bytes && t.n === totals[0]?.n), JSON.stringify(totals));
      const alerts = db.prepare("SELECT alert_key, COUNT(*) AS n FROM alerts WHERE status <> 'resolved' GROUP BY alert_key HAVING COUNT(*) > 1").all();
      assert.deepEqual(alerts, [], 'no alert raised twice');
    } finally {
      db.close();
    }
  } finally {
    rmSync(watched, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});

test('--interface: live capture (receive-only) analysed continuously, written at each checkpoint', { skip: !canCaptureOnLoopback() && 'needs tcpdump and root' }, async () => {
  const data = mkdtempSync(join(tmpdir(), 'vigil-live-data-'));
  try {
    const { child, out } = await serve(['--interface', 'lo', '--checkpoint', '1', '--data-dir', data], /password \S+ \(shown once/);
    const url = /serving on (http:\/\/[0-9.:]+)/.exec(out)?.[1] as string;
    const password = /password (\S+) \(shown once/.exec(out)?.[1] as string;
    // Our own requests to the API are traffic on the loopback interface: the sensor sees them, once
    // tcpdump is running (give it a moment, so the connection's handshake is captured too).
    await new Promise((r) => setTimeout(r, 2000));
    const token = await login(url, password);
    let total = 0;
    for (let i = 0; i < 60 && total === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      total = ((await (await fetch(`${url}/api/devices`, { headers: { authorization: `Bearer ${token}` } })).json()) as { total: number }).total;
    }
    assert.ok(total >= 1, `the loopback host became a device: ${JSON.stringify(await (await fetch(`${url}/api/health`)).json())}`);
    const health = (await (await fetch(`${url}/api/health`)).json()) as { ingest: { state: string; frames: number } };
    assert.equal(health.ingest.state, 'capturing');
    assert.ok(health.ingest.frames > 0);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
