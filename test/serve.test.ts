/** `vigil serve` as a user meets it: first start prints the admin password once, --read fills the store, a restart keeps it all. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  first.child.kill('SIGTERM');
  await new Promise((r) => first.child.once('exit', r));

  const second = await serve([], /serving on/);
  assert.doesNotMatch(second.out, /password/, 'the password is shown only at the first start');
  const url2 = /serving on (http:\/\/[0-9.:]+)/.exec(second.out)?.[1] as string;
  const token2 = await login(url2, password);
  const again = (await (await fetch(`${url2}/api/devices?limit=1`, { headers: { authorization: `Bearer ${token2}` } })).json()) as { total: number };
  assert.equal(again.total, devices.total);
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
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

function canCaptureOnLoopback(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

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
