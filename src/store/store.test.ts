/**
 * One suite, both engines: SQLite in a temporary file, and PostgreSQL on this machine
 * (127.0.0.1:5432, trust auth) in a database made for the run and dropped after. The suite starts
 * PostgreSQL if it is down.
 */
import { after, describe, test } from 'node:test';
import { assessedDevice, riskOf } from '../../test/helpers/devices.ts';
import type { AssessedDevice } from '../inventory/inventory.ts';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { postgresUrl } from '../../test/helpers/postgres.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from './sqlite.ts';
import { openPostgresStore } from './postgres.ts';
import { QueryError, type Alert, type SqlStore } from './store.ts';
import { MIGRATIONS } from './migrations.ts';
import { hashPassword, newToken, tokenHash, verifyPassword } from '../server/auth.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function device(id: string, over: Partial<AssessedDevice> = {}): AssessedDevice {
  return assessedDevice(id, {
    macs: [id.replace(/^mac:/, '')],
    ips: ['10.1.0.5'],
    hostnames: ['CT-03'],
    firstSeen: 1000,
    lastSeen: 2000,
    vendor: { value: 'GE Healthcare', confidence: 0.9, rule: 'r', evidence: [] },
    type: { value: 'CT scanner', confidence: 0.7, rule: 'r', evidence: [] },
    category: { value: 'imaging', confidence: 0.7, rule: 'r', evidence: [] },
    criticality: 'diagnostic',
    observations: 12,
    lifecycle: { state: 'eol', since: '2020-01-14', basis: 'b' },
    risk: riskOf(40),
    ...over,
  });
}

const engines: [string, () => Promise<SqlStore | undefined>][] = [
  ['sqlite', () => openSqliteStore(join(dir, `v-${Math.random().toString(36).slice(2)}.db`))],
  [
    'postgres',
    async () => {
      const url = await postgresUrl();
      return url === undefined ? undefined : openPostgresStore(url);
    },
  ],
];

for (const [name, open] of engines) {
  describe(`store on ${name}`, () => {
    test('migrations are versioned and idempotent', async () => {
      const s = await open();
      assert.ok(s, `${name} is not available`);
      assert.equal(await s.migrate(), MIGRATIONS.length);
      assert.equal(await s.migrate(), MIGRATIONS.length);
      await s.close();
    });

    test('devices: upsert keeps the earliest first-seen, search any identity field, filter, sort, paginate', async () => {
      const s = await open();
      assert.ok(s);
      await s.upsertDevices([
        device('mac:00:1b:2c:00:00:01'),
        device('mac:00:1b:2c:00:00:02', { ips: ['10.1.0.6'], hostnames: ['MR-01'], type: { value: 'MR scanner', confidence: 0.7, rule: 'r', evidence: [] }, risk: { score: 70, exploitability: 1, impact: 1, exposure: 1, factors: [], explanation: 'e' } }),
        device('mac:00:09:fb:00:00:03', { ips: ['10.4.0.9'], hostnames: ['PUMP_7'], vendor: { value: 'Baxter', confidence: 0.8, rule: 'r', evidence: [] }, category: { value: 'infusion', confidence: 0.8, rule: 'r', evidence: [] }, criticality: 'life-sustaining', lifecycle: { state: 'unknown', basis: 'b' }, risk: { score: 10, exploitability: 0.1, impact: 1, exposure: 0.6, factors: [], explanation: 'e' } }),
      ]);
      // Seen again later, and earlier: first/last seen widen, the rest is replaced.
      await s.upsertDevices([device('mac:00:1b:2c:00:00:01', { firstSeen: 500, lastSeen: 3000, hostnames: ['CT-03', 'ct03.hosp.local'] })]);
      const one = await s.device('mac:00:1b:2c:00:00:01');
      assert.deepEqual(one?.hostnames, ['CT-03', 'ct03.hosp.local']);
      const all = await s.devices();
      assert.equal(all.total, 3);
      assert.deepEqual(all.items.map((d) => d.risk), [70, 40, 10]);
      assert.equal(all.items[1]?.firstSeen, 500);
      assert.equal(all.items[1]?.lastSeen, 3000);
      assert.deepEqual((await s.devices({ search: 'mr-0' })).items.map((d) => d.id), ['mac:00:1b:2c:00:00:02']);
      assert.deepEqual((await s.devices({ search: '10.4.0.9' })).items.map((d) => d.id), ['mac:00:09:fb:00:00:03']);
      assert.deepEqual((await s.devices({ search: 'BAXTER' })).items.map((d) => d.id), ['mac:00:09:fb:00:00:03']);
      assert.equal((await s.devices({ search: '100%' })).total, 0, 'LIKE wildcards in a search are literal');
      assert.deepEqual((await s.devices({ category: 'infusion' })).items.map((d) => d.id), ['mac:00:09:fb:00:00:03']);
      assert.equal((await s.devices({ eol: 'eol' })).total, 2);
      const page = await s.devices({ sort: 'id', limit: 2, offset: 1 });
      assert.equal(page.total, 3);
      assert.deepEqual(page.items.map((d) => d.id), ['mac:00:1b:2c:00:00:01', 'mac:00:1b:2c:00:00:02']);
      assert.equal(await s.device('nope'), undefined);
      await s.close();
    });

    test('alerts: raised once per key, assigned and resolved with an audit trail of before and after', async () => {
      const s = await open();
      assert.ok(s);
      const base = { key: 'leak|mac:a|aspnet', deviceId: 'mac:a', kind: 'leak', severity: 'high' as const, title: 'ASP.NET error page with a stack trace', detail: { facts: ['ASP.NET 4.0'] }, teams: ['clinical-engineering', 'it-security'], at: 100 };
      assert.equal(await s.raiseAlerts([base, { ...base, at: 200 }, { ...base, key: 'recon|10.0.0.9', kind: 'recon', deviceId: null, title: 'probing' }]), 2);
      const open1 = await s.alerts({ status: 'new' });
      assert.equal(open1.length, 2);
      const leak = open1.find((a) => a.kind === 'leak');
      assert.ok(leak);
      assert.equal(leak.lastSeen, 200);
      assert.deepEqual(leak.teams, ['clinical-engineering', 'it-security']);
      assert.equal((await s.alerts({ team: 'clinical-engineering' })).length, 2);
      await s.updateAlert(leak.id, { status: 'assigned', assignee: 'biomed.jane' }, 'it.bob', 300);
      const done = await s.updateAlert(leak.id, { status: 'resolved', resolution: 'vendor patch applied' }, 'biomed.jane', 400);
      assert.equal(done.status, 'resolved');
      const trail = await s.auditLog({ entity: 'alert', entityId: String(leak.id) });
      assert.deepEqual(
        trail.map((t) => [t.actor, (t.before as { status: string }).status, (t.after as { status: string }).status]),
        [
          ['biomed.jane', 'assigned', 'resolved'],
          ['it.bob', 'new', 'assigned'],
        ],
      );
      // Resolved, then seen again: a new alert, not a silent reopening.
      assert.equal(await s.raiseAlerts([{ ...base, at: 500 }]), 1);
      await assert.rejects(() => s.updateAlert(99999, { status: 'acknowledged' }, 'x'), /no alert 99999/);
      await s.close();
    });

    test('users and tokens: unique names, audited creation, sessions that expire, revocation, disabled users', async () => {
      const s = await open();
      assert.ok(s);
      const hash = await hashPassword('correct horse battery staple');
      const u = await s.addUser('jane', 'clinical-engineer', hash, 'system', 100);
      assert.equal(u.role, 'clinical-engineer');
      await assert.rejects(() => s.addUser('jane', 'admin', hash, 'system'), /user jane exists/);
      assert.equal(await s.userCount(), 1);
      const found = await s.userByName('jane');
      assert.ok(found !== undefined && (await verifyPassword('correct horse battery staple', found.passwordHash)));
      const session = newToken();
      await s.addToken(session.hash, u.id, 'session', null, 1000, 100);
      assert.equal((await s.tokenUser(session.hash, 500))?.name, 'jane');
      assert.equal(await s.tokenUser(session.hash, 1001), undefined, 'expired');
      const api = newToken();
      await s.addToken(api.hash, u.id, 'api', 'SIEM export', null, 100, 'jane');
      assert.equal((await s.tokenUser(tokenHash(api.token), 1e12))?.name, 'jane', 'an API token lasts until revoked');
      await s.revokeToken(api.hash);
      assert.equal(await s.tokenUser(api.hash), undefined);
      const trail = await s.auditLog({ entity: 'user' });
      assert.deepEqual(
        trail.map((t) => [t.actor, t.action, t.after]),
        [
          ['jane', 'token.create', { label: 'SIEM export' }],
          ['system', 'user.add', { name: 'jane', role: 'clinical-engineer' }],
        ],
      );
      await s.close();
    });

    test('device filters: vendor, OS, subnet, VLAN, risk range; the list carries model, MACs and VLAN; stats aggregate in the database', async () => {
      const s = await open();
      assert.ok(s);
      await s.upsertDevices([
        device('mac:00:1b:2c:00:00:11', { ips: ['10.2.3.4', 'fe80::1'], vlan: 20, model: { value: 'Revolution CT', confidence: 0.8, rule: 'r', evidence: [] }, os: { value: 'Windows 7', confidence: 0.9, rule: 'r', evidence: [], releases: [{ product: 'windows', cycle: '7', name: 'Windows 7', eol: '2020-01-14' }], conflicts: [] } as unknown as AssessedDevice['os'] }),
        device('mac:00:09:fb:00:00:12', { ips: ['10.4.0.9'], vlan: 40, vendor: { value: 'Baxter', confidence: 0.8, rule: 'r', evidence: [] }, category: { value: 'infusion', confidence: 0.8, rule: 'r', evidence: [] }, lifecycle: { state: 'supported', basis: 'b' }, risk: riskOf(75) }),
      ]);
      const ids = async (q: Parameters<SqlStore['devices']>[0]) => (await s.devices(q)).items.map((d) => d.id);
      assert.deepEqual(await ids({ vendor: 'baxt' }), ['mac:00:09:fb:00:00:12']);
      assert.deepEqual(await ids({ os: 'windows 7' }), ['mac:00:1b:2c:00:00:11']);
      assert.deepEqual(await ids({ subnet: '10.2.0.0/16' }), ['mac:00:1b:2c:00:00:11']);
      assert.deepEqual(await ids({ subnet: '10.4.0.9' }), ['mac:00:09:fb:00:00:12'], 'a bare address is a /32');
      assert.deepEqual(await ids({ subnet: '10.0.0.0/8', vlan: 40 }), ['mac:00:09:fb:00:00:12']);
      assert.deepEqual(await ids({ minRisk: 50, maxRisk: 80 }), ['mac:00:09:fb:00:00:12']);
      await assert.rejects(() => s.devices({ subnet: '10.2.0.0/33' }), QueryError);
      const row = (await s.devices({ search: 'revolution' })).items[0];
      assert.equal(row?.model, 'Revolution CT');
      assert.equal(row?.vlan, 20);
      assert.deepEqual(row?.macs, ['00:1b:2c:00:00:11']);
      assert.deepEqual(row?.ips, ['10.2.3.4', 'fe80::1']);
      // Re-written with a new address: the old one no longer matches.
      await s.upsertDevices([device('mac:00:09:fb:00:00:12', { ips: ['10.5.0.1'], vlan: 40, category: { value: 'infusion', confidence: 0.8, rule: 'r', evidence: [] }, risk: riskOf(75) })]);
      assert.deepEqual(await ids({ subnet: '10.4.0.0/16' }), []);
      const stats = await s.deviceStats();
      assert.equal(stats.devices, 2);
      assert.deepEqual(stats.bands, { '0-29': 0, '30-59': 1, '60-100': 1 });
      assert.equal(stats.byCategory.imaging?.eol, 1);
      const win7 = stats.ends.find((e) => e.category === 'imaging');
      assert.equal(win7?.end, Date.parse('2020-01-14'));
      await s.close();
    });

    test('traffic: totals per source replace (a re-read file is not counted twice); peers, activity, retention', async () => {
      const s = await open();
      assert.ok(s);
      await s.upsertDevices([device('mac:00:1b:2c:00:00:21', { ips: ['10.2.0.21'] }), device('mac:00:1b:2c:00:00:22', { ips: ['10.2.0.22'], hostnames: ['PACS-1'] })]);
      const row = { source: 'a.pcap', deviceId: 'mac:00:1b:2c:00:00:21', hour: 7200, peer: '10.2.0.22', service: 'tcp/104 dicom', packets: 100, bytes: 50_000, flows: 2, firstSeen: 7300, lastSeen: 7400 };
      await s.putTraffic([row, { ...row, hour: 10_800, bytes: 1000, flows: 1 }, { ...row, peer: '8.8.8.8', service: 'udp/53 dns', bytes: 300, packets: 2, flows: 1 }]);
      await s.putTraffic([row]); // the same file again
      await s.putTraffic([{ ...row, source: 'b.pcap', bytes: 5000 }]);
      const peers = await s.devicePeers('mac:00:1b:2c:00:00:21');
      assert.deepEqual(
        peers.map((p) => [p.peer, p.service, p.bytes, p.flows, p.peerDeviceId, p.peerName, p.external]),
        [
          ['10.2.0.22', 'tcp/104 dicom', 56_000, 5, 'mac:00:1b:2c:00:00:22', 'PACS-1', false],
          ['8.8.8.8', 'udp/53 dns', 300, 1, null, null, true],
        ],
      );
      assert.deepEqual(
        (await s.deviceActivity('mac:00:1b:2c:00:00:21')).map((h) => [h.at, h.bytes]),
        [
          [7200, 55_300],
          [10_800, 1000],
        ],
      );
      assert.equal(await s.pruneTraffic(1800), 3, 'hours more than 30 min before the newest go');
      assert.deepEqual((await s.deviceActivity('mac:00:1b:2c:00:00:21')).map((h) => h.at), [10_800]);
      await s.close();
    });

    test('models, ingested files, user changes, alert counts and the live alert feed', async () => {
      const s = await open();
      assert.ok(s);
      await s.saveModels([{ subject: 'device:mac:a', kind: 'baseline', data: { v: 1, peers: ['10.0.0.1'] } }], 100);
      await s.saveModels([{ subject: 'device:mac:a', kind: 'baseline', data: { v: 1, peers: ['10.0.0.1', '10.0.0.2'] } }], 200);
      assert.deepEqual(await s.model('device:mac:a'), { subject: 'device:mac:a', kind: 'baseline', data: { v: 1, peers: ['10.0.0.1', '10.0.0.2'] }, updatedAt: 200 });
      assert.equal((await s.models('baseline')).length, 1);
      assert.equal(await s.ingested('/cap/1.pcap'), undefined);
      await s.markIngested('/cap/1.pcap', 1234, 10, 300);
      assert.deepEqual(await s.ingested('/cap/1.pcap'), { size: 1234, frames: 10, doneAt: 300 });
      const u = await s.addUser('bob', 'analyst', 'x', 'system');
      const session = newToken();
      await s.addToken(session.hash, u.id, 'session', null, null);
      const changed = await s.updateUser('bob', { role: 'read-only', disabled: true }, 'admin');
      assert.deepEqual([changed.role, changed.disabled], ['read-only', true]);
      assert.equal(await s.tokenUser(session.hash), undefined, 'a disabled user is logged out');
      await assert.rejects(() => s.updateUser('nobody', { disabled: true }, 'admin'), /no user nobody/);
      assert.deepEqual((await s.auditLog({ entity: 'user', entityId: String(u.id) }))[0]?.after, { role: 'read-only', disabled: true });
      const seen: Alert[] = [];
      s.events.on('alert', (a) => seen.push(a));
      const base = { key: 'k1', deviceId: null, kind: 'leak', severity: 'high' as const, title: 't', detail: {}, teams: ['it-security'], at: 1 };
      await s.raiseAlerts([base, { ...base, key: 'k2', severity: 'critical', teams: ['clinical-engineering', 'it-security'] }]);
      await s.raiseAlerts([base]); // seen again: no event
      assert.deepEqual(seen.map((a) => a.key).sort(), ['k1', 'k2']);
      const k1 = seen.find((a) => a.key === 'k1') as Alert;
      await s.updateAlert(k1.id, { status: 'resolved', resolution: 'fixed' }, 'bob');
      assert.equal(seen.at(-1)?.status, 'resolved');
      assert.deepEqual(await s.alertCounts(), { bySeverity: { critical: 1 }, byTeam: { 'clinical-engineering': 1, 'it-security': 1 }, open: 1 });
      assert.deepEqual((await s.alerts({ open: true, severity: 'critical' })).map((a) => a.key), ['k2']);
      await s.close();
    });

    test('a failed batch leaves nothing behind', async () => {
      const s = await open();
      assert.ok(s);
      const bad = device('mac:bad') as unknown as Record<string, unknown>;
      bad.category = { value: null };
      await assert.rejects(() => s.upsertDevices([device('mac:good'), bad as unknown as AssessedDevice]));
      assert.equal(await s.device('mac:good'), undefined);
      await s.close();
    });
  });
}

test('SQLite: a kill -9 in the middle of ingest loses nothing committed', async () => {
  const file = join(dir, 'crash.db');
  const s = await openSqliteStore(file);
  await s.upsertDevices([device('mac:committed')]);
  await s.close();
  // A child writes batches forever; it is killed with SIGKILL while writing.
  const code = `
    const { openSqliteStore } = await import(${JSON.stringify(new URL('./sqlite.ts', import.meta.url).pathname)});
    const s = await openSqliteStore(${JSON.stringify(file)});
    process.stdout.write('ready\\n');
    for (let i = 0; ; i++) {
      const batch = Array.from({ length: 200 }, (_, j) => ({ id: 'mac:b' + i + '-' + j, macs: [], ips: [], hostnames: [], firstSeen: 1, lastSeen: 2, randomMac: false, category: { value: 'general-it', confidence: 0.3, rule: '', evidence: [] }, criticality: 'support', software: [], services: [], peers: { internal: 0, external: 0 }, observations: 0, lifecycle: { state: 'unknown', basis: '' }, leaks: [], vulnerabilities: [], risk: { score: 0, exploitability: 0, impact: 0.45, exposure: 0.55, factors: [], explanation: '' } }));
      await s.upsertDevices(batch);
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  await new Promise((r) => setTimeout(r, 400));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const again = await openSqliteStore(file);
  assert.ok(await again.device('mac:committed'), 'what was committed before is there');
  const n = (await again.devices({ limit: 1 })).total;
  assert.ok(n > 1, 'batches committed before the kill are there');
  assert.equal((n - 1) % 200, 0, 'no half batch: each batch is all there or not at all');
  await again.close();
});

test('SQLite: a store written at schema v4 upgrades to v5 with its devices intact and searchable', async () => {
  const file = join(dir, 'v4.db');
  const db = new Database(file);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)');
  for (const m of MIGRATIONS.filter((x) => x.version <= 4)) {
    for (const sql of m.sqlite) db.exec(sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, 0)').run(m.version);
  }
  const old = device('mac:00:1b:2c:00:00:99', { hostnames: ['OLD-CT'] });
  db.prepare("INSERT INTO devices (id, category, criticality, eol_state, risk, first_seen, last_seen, search, data) VALUES (?, 'imaging', 'diagnostic', 'eol', 40, 1, 2, 'mac:00:1b:2c:00:00:99 old-ct', ?)").run(old.id, JSON.stringify(old));
  db.close();
  const s = await openSqliteStore(file);
  assert.equal((await s.device(old.id))?.hostnames[0], 'OLD-CT');
  const found = await s.devices({ search: 'old-ct' });
  assert.deepEqual(found.items.map((d) => [d.id, d.hostnames[0]]), [[old.id, 'OLD-CT']], 'a row without the list column falls back to its document');
  await s.close();
});
