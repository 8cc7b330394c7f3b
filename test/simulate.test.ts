/** The simulator: deterministic, valid on the wire (tshark finds nothing wrong), and readable by the sensor. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, type Truth } from '../src/simulate/simulate.ts';
import { INCIDENT_KINDS } from '../src/simulate/incidents.ts';
import { dataFile } from '../src/knowledge/paths.ts';
import { hasTshark, observeCapture } from './helpers/observe.ts';
import { execFileSync } from 'node:child_process';

const CATALOGUE = new URL('./fixtures/mini-catalogue.json', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'vigil-sim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(name: string, seed: string, devices = 30, duration = 6 * 3600, incidents = 'none'): Promise<{ path: string; truth: Truth; sha: string }> {
  const path = join(dir, `${name}.pcap`);
  const truth = await simulate({ devices, duration, seed, out: path, catalogue: CATALOGUE, incidents });
  return { path, truth, sha: createHash('sha256').update(readFileSync(path)).digest('hex') };
}

test('the same seed gives the same capture byte for byte; another seed does not', async () => {
  const a = await run('a', 'seed-1');
  const b = await run('b', 'seed-1');
  const c = await run('c', 'seed-2');
  assert.equal(a.sha, b.sha);
  assert.notEqual(a.sha, c.sha);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'a.truth.json'), 'utf8')), a.truth);
});

test('the capture reads back cleanly through the sensor, with the truth devices on it', async () => {
  const { path, truth } = await run('read', 'read-back');
  const r = await observeCapture(path, { dissectors: [] });
  assert.equal(r.error, undefined);
  assert.equal(r.report.frames, truth.packets);
  assert.deepEqual(r.report.skipped, {});
  assert.equal(truth.devices.length, 30);
  const macs = new Set(r.flows.flatMap((f) => [f.clientMac, f.serverMac]));
  for (const d of truth.devices) assert.ok(macs.has(d.mac), `${d.id} ${d.mac} appears in the capture`);
  // Time is in order, within the simulated window.
  assert.ok((r.report.firstTime as number) >= truth.start && (r.report.lastTime as number) <= truth.end);
});

test('valid on the wire: tshark reports no malformed packets, bad checksums or expert warnings', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const { path } = await run('wire', 'wire-check');
  const out = execFileSync(
    'tshark',
    ['-n', '-r', path, '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-q', '-z', 'expert,warn'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  assert.doesNotMatch(out, /Errors|Warnings|Malformed/, out);
});

test('incidents: every kind is injected after the learning period, with the frames it spans', async () => {
  const { path, truth } = await run('incidents', 'incidents', 40, 6 * 3600, 'all');
  assert.deepEqual(truth.incidents.map((i) => i.kind).sort(), [...INCIDENT_KINDS].sort());
  for (const i of truth.incidents) {
    assert.ok(i.firstFrame >= 1 && i.lastFrame <= truth.packets && i.firstFrame <= i.lastFrame, i.id);
    assert.ok(i.packets > 0 && i.packets <= i.lastFrame - i.firstFrame + 1, i.id);
    assert.ok(i.start >= truth.start + 0.6 * (truth.end - truth.start), `${i.id} after the learning period`);
  }
  assert.ok(truth.devices.some((d) => d.rogue === true));
  if (hasTshark()) {
    // Reset segments from the scans are expected warnings; nothing else may be.
    const out = execFileSync('tshark', ['-n', '-r', path, '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-q', '-z', 'expert,warn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const warnings = out.split('\n').filter((l) => /^\s+\d+\s+\S+\s+\S+\s+/.test(l) && !/Connection reset \(RST\)/.test(l));
    assert.deepEqual(warnings, [], out);
    assert.doesNotMatch(out, /Errors|Malformed/, out);
  }
});

test('the shipped catalogue’s hospital: what the sensor reads back matches the truth', async () => {
  const path = join(dir, 'hospital.pcap');
  const truth = await simulate({ devices: 80, duration: 4 * 3600, seed: 'end-to-end', out: path, catalogue: dataFile('simulator/catalogue.json'), incidents: 'all', start: Date.UTC(2026, 10, 23, 6) / 1000 });
  const { observations, report } = await observeCapture(path);
  for (const [name, s] of Object.entries(report.dissectors)) assert.equal(s.errors, 0, `${name} errors`);
  assert.deepEqual(report.skipped, {});
  const by = (attr: string) => {
    const m = new Map<string, Set<string>>();
    for (const o of observations) if (o.attribute === attr) for (const k of [o.mac, o.ip]) if (k !== undefined) (m.get(k) ?? m.set(k, new Set()).get(k))?.add(o.value);
    return m;
  };
  const hostnames = by('dhcp.hostname');
  const aes = by('dicom.calling_ae');
  const ntlm = by('ntlmssp.version');
  for (const d of truth.devices) {
    if (d.rogue === true) continue;
    // Every device introduced itself over DHCP with its hostname, keyed by its MAC.
    assert.ok(hostnames.get(d.mac)?.has(d.hostnames[0] as string), `${d.id}: DHCP hostname`);
    if (d.aeTitle !== undefined && d.category === 'imaging' && /CT|MR|X-ray|Ultrasound|Mammo/i.test(d.type)) assert.ok(aes.get(d.ips[0] as string)?.has(d.aeTitle), `${d.id}: AE title ${d.aeTitle}`);
  }
  // Windows devices that logged on over SMB told their exact version.
  const windows = truth.devices.filter((d) => d.os.family === 'windows' && ntlm.has(d.ips[0] as string));
  assert.ok(windows.length >= 5);
  for (const d of windows) assert.ok(ntlm.get(d.ips[0] as string)?.has(d.os.version), `${d.id}: NTLM ${d.os.version}`);
  // The recon incident's error pages reached the sensor as error bodies.
  assert.ok(observations.some((o) => o.attribute === 'http.error_body' && /Server Error in '\/' Application|ORA-00933|Fatal error/.test(o.value)));
  assert.ok(observations.some((o) => o.attribute === 'smb.ms17_010' && o.value === 'vulnerable'));
  assert.ok(observations.some((o) => o.attribute === 'http.basic_auth_user' && o.value === 'admin'));
});
