/** The inventory as `vigil analyze` delivers it: the table, --json device lines, --csv, and knowledge import. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpus, hasCorpus } from './helpers/observe.ts';
import type { AssessedDevice } from '../src/inventory/inventory.ts';

const VIGIL = new URL('../bin/vigil.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'vigil-inv-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const skip = hasCorpus() ? false : 'needs ../shared/corpus';

function vigil(args: string[]) {
  const r = spawnSync(process.execPath, [VIGIL, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, VIGIL_DATA_DIR: tmp, NO_COLOR: '1', FORCE_COLOR: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a Windows 7 SMB server (real capture): EOL, EternalBlue from KEV with its reasons, a risk that explains itself', { skip }, () => {
  const r = vigil(['analyze', corpus('pcaps/identity/ndpi/smbv1.pcap'), '--json', '--as-of', '2026-11-30']);
  assert.equal(r.code, 0, r.stderr);
  const devices = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; device?: AssessedDevice })
    .filter((l) => l.type === 'device')
    .map((l) => l.device as AssessedDevice);
  const w7 = devices.find((d) => d.ips.includes('10.128.0.243'));
  assert.ok(w7, 'the SMB server is a device');
  assert.equal(w7.os?.family, 'Windows');
  assert.match(w7.os?.value ?? '', /Windows 7/);
  assert.ok((w7.os?.confidence ?? 0) >= 0.8);
  assert.ok(w7.os?.evidence.some((e) => e.protocol === 'smb' || e.protocol === 'ntlmssp'));
  assert.equal(w7.lifecycle.state, 'eol');
  const eb = w7.vulnerabilities.find((v) => v.cves.includes('CVE-2017-0144'));
  assert.ok(eb, 'EternalBlue');
  assert.equal(eb.kev, true);
  assert.match(eb.why, /445/);
  assert.ok(w7.risk.score > 0);
  assert.match(w7.risk.explanation, /exploitability .* impact .* exposure/);
  // The scanner that claims "Windows 2000" is kept apart from the server.
  assert.ok(!devices.some((d) => d !== w7 && d.ips.includes('10.128.0.243')));
});

test('--csv writes one row per device with a header, and neutralises formulas', { skip }, () => {
  const out = join(tmp, 'inventory.csv');
  const r = vigil(['analyze', corpus('pcaps/identity/ndpi/smbv1.pcap'), '--csv', out]);
  assert.equal(r.code, 0, r.stderr);
  const rows = readFileSync(out, 'utf8').trim().split('\r\n');
  assert.match(rows[0] ?? '', /^id,risk,category,criticality,type,/);
  assert.ok(rows.length >= 3);
  assert.ok(rows.some((row) => row.includes('10.128.0.243') && /CVE-2017-0144/.test(row)));
  assert.match(r.stdout, /Inventory: \d+ devices/);
});

test('the table and the EOL forecast on the sample capture', () => {
  const r = vigil(['analyze', new URL('../samples/hospital-sample.pcap', import.meta.url).pathname, '--as-of', '2026-11-30']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Inventory: \d+ devices/);
  assert.match(r.stdout, /RISK +DEVICE +ADDRESS +VENDOR +TYPE +OS +LIFECYCLE/);
  assert.match(r.stdout, /End-of-life forecast/);
  assert.match(r.stdout, /2026-11-30 .*\n.*2027-05-30/);
});

test('--no-behaviour: the same inventory, without learning behaviour', () => {
  const sample = new URL('../samples/hospital-sample.pcap', import.meta.url).pathname;
  const full = vigil(['analyze', sample, '--as-of', '2026-11-30', '--json']);
  const lean = vigil(['analyze', sample, '--as-of', '2026-11-30', '--json', '--no-behaviour']);
  assert.equal(lean.code, 0, lean.stderr);
  const devices = (out: string) => out.split('\n').filter((l) => l.startsWith('{"type":"device"'));
  assert.ok(devices(full.stdout).length > 10);
  assert.deepEqual(devices(lean.stdout), devices(full.stdout));
  assert.match(vigil(['analyze', sample]).stdout, /Behaviour/);
  assert.doesNotMatch(vigil(['analyze', sample, '--no-behaviour']).stdout, /Behaviour/);
});

test('knowledge import: a good KEV file is kept, a file that is not advisories is named in one line, exit 1', () => {
  const kev = join(tmp, 'kev.json');
  writeFileSync(
    kev,
    JSON.stringify({
      title: 'CISA Catalog of Known Exploited Vulnerabilities',
      catalogVersion: '2026.11.30',
      dateReleased: '2026-11-30T00:00:00.000Z',
      count: 1,
      vulnerabilities: [
        {
          cveID: 'CVE-2099-0001',
          vendorProject: 'Examplemed',
          product: 'Pump',
          vulnerabilityName: 'Examplemed Pump test entry',
          dateAdded: '2026-11-30',
          shortDescription: 'test',
          requiredAction: 'Apply updates.',
          dueDate: '2026-12-21',
          knownRansomwareCampaignUse: 'Unknown',
          notes: '',
        },
      ],
    }),
  );
  const bad = join(tmp, 'notes.json');
  writeFileSync(bad, JSON.stringify({ hello: 'world' }));
  const r = vigil(['knowledge', 'import', kev, bad, '--data-dir', tmp]);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /kev\.json.*(KEV|1)/i);
  assert.equal(`${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('notes.json')).length, 1);
});

test('report disclosure on a simulated hospital under reconnaissance: per-vendor reports without addresses, and the summary', () => {
  const cap = join(tmp, 'recon.pcap');
  const sim = vigil(['simulate', '-n', '60', '-d', '3h', '--seed', 'disclosure', '--incidents', 'recon-error-pages', '-o', cap]);
  assert.equal(sim.code, 0, sim.stderr);
  const truth = JSON.parse(readFileSync(cap.replace(/\.pcap$/, '.truth.json'), 'utf8')) as { devices: { id: string; ips: string[]; mac: string }[]; incidents: { kind: string; victims: string[] }[] };
  const out = join(tmp, 'reports');
  const r = vigil(['report', 'disclosure', cap, '--out', out, '--hospital', 'St. Example']);
  assert.equal(r.code, 0, r.stderr);
  const summary = readFileSync(join(out, 'summary.md'), 'utf8');
  assert.match(summary, /St\. Example/);
  const files = r.stdout.split('\n').filter((l) => /\.md\b/.test(l));
  assert.ok(files.length >= 2, r.stdout);
  // The victims' addresses never appear in what a hospital sends out.
  const victims = truth.devices.filter((d) => truth.incidents.some((i) => i.kind === 'recon-error-pages' && i.victims.includes(d.id)));
  assert.ok(victims.length > 0);
  const all = [summary, ...readdirSync(out).map((f) => readFileSync(join(out, f), 'utf8'))].join('\n');
  for (const v of victims) {
    for (const ip of v.ips) assert.ok(!all.includes(ip), `${ip} must not be in the reports`);
    assert.ok(!all.toLowerCase().includes(v.mac.toLowerCase()));
  }
  assert.match(all, /ASP\.NET|Oracle|Tomcat/);
  // And analyze names the probing host.
  const a = vigil(['analyze', cap, '--devices', '5']);
  assert.match(a.stdout, /Reconnaissance: 1 host/);
  assert.match(a.stdout, /Leaks: \d+ device\(s\) disclose/);
});

test('behaviour: a short capture only learns, and says how to detect sooner; --learn detects after it', () => {
  const cap = join(tmp, 'short.pcap');
  assert.equal(vigil(['simulate', '-n', '40', '-d', '2h', '--seed', 'learn', '--incidents', 'smb-lateral-movement', '-o', cap]).code, 0);
  const a = vigil(['analyze', cap, '--devices', '1']);
  assert.match(a.stdout, /Behaviour learning only: the capture spans .*--learn \d+[mh]/);
  const b = vigil(['analyze', cap, '--devices', '1', '--learn', '1h', '--json']);
  assert.equal(b.code, 0, b.stderr);
  const alerts = b.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; alert?: { kind: string; text: string } })
    .filter((l) => l.type === 'behaviour');
  // The lateral movement: one workstation opening SMB to several modalities after the learning hour.
  assert.ok(alerts.some((l) => /tcp\/445 \(smb\) to [A-Z].*tcp\/445 \(smb\) to [A-Z].*tcp\/445 \(smb\) to [A-Z]/.test(l.alert?.text ?? '')), JSON.stringify(alerts.map((l) => l.alert?.text)));
});
