import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BaselineLedger, baselineParts, detectBaselineDeviations, mergeBaselineParts, type BaselineDevice } from './baseline.ts';
import type { FlowRecord } from '../flow/flow.ts';

const H = 3600;
const T0 = 1_800_000_000;
let id = 0;
function flow(client: string, server: string, port: number, t: number, app?: string, answered = true): FlowRecord {
  const f: FlowRecord = { id: ++id, start: t, end: t + 1, proto: 'tcp', ipVersion: 4, clientIp: client, clientPort: 50000, serverIp: server, serverPort: port, clientPackets: 5, serverPackets: answered ? 5 : 0, clientBytes: 500, serverBytes: 500, clientPayloadBytes: 100, serverPayloadBytes: 100, reason: 'closed', firstFrame: id };
  if (app !== undefined) f.app = app;
  return f;
}

/** Three CT scanners sending studies to the PACS and logging on to the DC for two days. */
function hospital(): { ledger: BaselineLedger; devices: BaselineDevice[] } {
  const ledger = new BaselineLedger();
  const devices: BaselineDevice[] = [
    { id: 'ct1', ips: ['10.1.0.11'], name: 'CT-01', group: 'CT scanner' },
    { id: 'ct2', ips: ['10.1.0.12'], name: 'CT-02', group: 'CT scanner' },
    { id: 'ct3', ips: ['10.1.0.13'], name: 'CT-03', group: 'CT scanner' },
    { id: 'pacs', ips: ['10.6.0.10'], name: 'PACS01', group: 'PACS' },
    { id: 'dc', ips: ['10.6.0.15'], name: 'DC01', group: 'Windows server' },
  ];
  for (let h = 0; h < 48; h++) {
    for (const ct of ['10.1.0.11', '10.1.0.12']) {
      ledger.flow(flow(ct, '10.6.0.10', 104, T0 + h * H + 60, 'dicom'));
      if (h % 8 === 0) ledger.flow(flow(ct, '10.6.0.15', 445, T0 + h * H + 120, 'smb'));
    }
    // CT-03 only ever sends studies; it never logged on to the DC during learning.
    ledger.flow(flow('10.1.0.13', '10.6.0.10', 104, T0 + h * H + 90, 'dicom'));
  }
  return { ledger, devices };
}

test('ordinary habits, learned per device and per group, raise nothing — even a habit only its peers had', () => {
  const { ledger, devices } = hospital();
  // After learning CT-03 logs on to the DC, as its peers always did: the group's baseline covers it.
  ledger.flow(flow('10.1.0.13', '10.6.0.15', 445, T0 + 30 * H, 'smb'));
  assert.deepEqual(detectBaselineDeviations(ledger, devices), []);
});

test('a CT scanner that opens SMB to another scanner, DICOM to the Internet, and a newcomer with no group', () => {
  const { ledger, devices } = hospital();
  ledger.flow(flow('10.1.0.11', '10.1.0.12', 445, T0 + 30 * H, 'smb'));
  ledger.flow(flow('10.1.0.12', '203.0.113.2', 11112, T0 + 31 * H, 'dicom'));
  ledger.flow(flow('10.1.0.99', '10.1.0.11', 22, T0 + 32 * H));
  // A scan's unanswered probes are not habits and not alerts here (the scan is the recon detector's).
  ledger.flow(flow('10.1.0.11', '10.6.0.99', 23, T0 + 33 * H, undefined, false));
  const all = [...devices, { id: 'rogue', ips: ['10.1.0.99'], name: '10.1.0.99', group: '' }];
  const alerts = detectBaselineDeviations(ledger, all);
  assert.deepEqual(
    alerts.map((a) => `${a.kind} ${a.device}`),
    ['new-destination ct1', 'new-service ct2', 'new-device rogue'],
  );
  assert.match(alerts[0]?.text ?? '', /^CT-01 \(CT scanner\) talked to a destination no CT scanner talked to in the learning period: tcp\/445 \(smb\) to CT-02$/);
  assert.match(alerts[1]?.text ?? '', /never seen for it or any of its 2 peers \(CT scanner\).*tcp\/11112 \(dicom\) to 203\.0\.113\.2/);
  assert.match(alerts[2]?.text ?? '', /type unknown/);
});

test('memory is bounded: edges per client and clients', () => {
  const ledger = new BaselineLedger({ clients: 10, edgesPerClient: 5 });
  for (let i = 0; i < 50; i++) ledger.flow(flow('10.0.0.1', `10.9.0.${i}`, 80, T0 + i));
  for (let i = 0; i < 50; i++) ledger.flow(flow(`10.0.1.${i}`, '10.9.0.1', 80, T0 + i));
  const { clients } = ledger.view();
  assert.ok(clients.size <= 10);
  assert.equal(clients.get('10.0.0.1')?.edges.size, 5);
  assert.equal(clients.get('10.0.0.1')?.overflow, 45);
  assert.ok(ledger.dropped > 0);
});

function bulk(client: string, server: string, port: number, t: number, bytes: number, app = 'dicom'): FlowRecord {
  const f = flow(client, server, port, t, app);
  f.clientBytes = bytes;
  f.clientPackets = Math.ceil(bytes / 1460);
  return f;
}

/** The hospital above, with real study sizes: each CT sends 80–120 MB an hour to the PACS. */
function busyHospital(): { ledger: BaselineLedger; devices: BaselineDevice[] } {
  const { ledger, devices } = hospital();
  for (let h = 0; h < 48; h++) for (const [k, ct] of ['10.1.0.11', '10.1.0.12', '10.1.0.13'].entries()) ledger.flow(bulk(ct, '10.6.0.10', 104, T0 + h * H + 300 + k, 80e6 + ((h * 7 + k * 13) % 5) * 10e6));
  return { ledger, devices };
}

test('an hour far above the device\'s busiest, in words with the peer and the hour; ordinary hours raise nothing', () => {
  const { ledger, devices } = busyHospital();
  assert.deepEqual(detectBaselineDeviations(ledger, devices), []);
  // After learning CT-03 sends 4.1 GB to the PACS in one hour (hour 42: 02:00 UTC), on top of its usual 100 MB.
  ledger.flow(bulk('10.1.0.13', '10.6.0.10', 104, T0 + 42 * H + 600, 4.1e9));
  const alerts = detectBaselineDeviations(ledger, devices);
  assert.deepEqual(alerts.map((a) => `${a.kind} ${a.device}`), ['volume ct3']);
  assert.equal(alerts[0]!.text, 'CT-03 (CT scanner) sent 4.2 GB to PACS01 between 02:00 and 03:00 UTC; its busiest hour before was 120 MB');
});

test('a device first seen after learning starts from its group\'s baseline: its habits raise nothing, a flood does', () => {
  const { ledger, devices } = busyHospital();
  const ct4 = { id: 'ct4', ips: ['10.1.0.14'], name: 'CT-04', group: 'CT scanner' };
  for (let h = 30; h < 36; h++) {
    ledger.flow(bulk('10.1.0.14', '10.6.0.10', 104, T0 + h * H + 400, 100e6));
    ledger.flow(flow('10.1.0.14', '10.6.0.15', 445, T0 + h * H + 500, 'smb'));
  }
  assert.deepEqual(detectBaselineDeviations(ledger, [...devices, ct4]), []);
  ledger.flow(bulk('10.1.0.14', '10.6.0.10', 104, T0 + 37 * H + 400, 2e9));
  const alerts = detectBaselineDeviations(ledger, [...devices, ct4]);
  assert.deepEqual(alerts.map((a) => `${a.kind} ${a.device}`), ['volume ct4']);
  assert.match(alerts[0]!.text, /sent 2\.0 GB to PACS01 .*the busiest hour of any CT scanner in the learning period was 120 MB \(it has no history of its own yet\)/);
});

test('a snapshot through JSON judges exactly as the ledger that wrote it, and keeps its bounds', () => {
  const { ledger, devices } = busyHospital();
  ledger.flow(flow('10.1.0.11', '10.1.0.12', 445, T0 + 30 * H, 'smb'));
  ledger.flow(bulk('10.1.0.13', '10.6.0.10', 104, T0 + 42 * H + 600, 4.1e9));
  const back = BaselineLedger.fromJSON(JSON.parse(JSON.stringify(ledger.toJSON())) as ReturnType<BaselineLedger['toJSON']>);
  const a = detectBaselineDeviations(ledger, devices);
  assert.equal(a.length, 2);
  assert.deepEqual(detectBaselineDeviations(back, devices), a);
  // Learning goes on after a restart as if there had been none.
  for (const l of [ledger, back]) l.flow(flow('10.1.0.12', '10.9.9.9', 3389, T0 + 44 * H));
  assert.deepEqual(detectBaselineDeviations(back, devices), detectBaselineDeviations(ledger, devices));
  assert.throws(() => BaselineLedger.fromJSON({ ...ledger.toJSON(), version: 2 } as unknown as ReturnType<BaselineLedger['toJSON']>), /known version/);
  const small = new BaselineLedger({ hoursPerAddress: 24 });
  for (let h = 0; h < 100; h++) small.flow(bulk('10.1.0.11', '10.6.0.10', 104, T0 + h * H, 1e6));
  assert.equal(small.toJSON().volume[0]![1].length, 24);
});

test('stored per device and merged back after a restart, a ledger judges as before — a newcomer still starts from its group', () => {
  const { ledger, devices } = busyHospital();
  ledger.flow(flow('10.1.0.11', '10.1.0.12', 445, T0 + 30 * H, 'smb'));
  ledger.flow(flow('10.9.9.9', '10.6.0.10', 80, T0 + 31 * H));
  const parts = baselineParts(ledger, devices);
  assert.deepEqual(parts.map((p) => p.subject).sort(), ['baseline:rest', 'device:ct1', 'device:ct2', 'device:ct3', 'device:dc', 'device:pacs']);
  assert.ok(parts.find((p) => p.subject === 'device:ct3')!.data.clients.every((c) => c[0] === '10.1.0.13'));
  const back = mergeBaselineParts(parts.map((p) => JSON.parse(JSON.stringify(p.data)) as typeof p.data));
  assert.deepEqual(detectBaselineDeviations(back, devices), detectBaselineDeviations(ledger, devices));
  // A piece stored twice (a device renamed, a stale row) changes nothing.
  const twice = mergeBaselineParts([...parts, ...parts.filter((p) => p.subject !== 'baseline:rest')].map((p) => p.data));
  assert.deepEqual(twice.toJSON(), back.toJSON());
  // A CT scanner first seen after the restart: its group (rebuilt from the stored members) covers its habits.
  const ct4 = { id: 'ct4', ips: ['10.1.0.14'], name: 'CT-04', group: 'CT scanner' };
  back.flow(bulk('10.1.0.14', '10.6.0.10', 104, T0 + 46 * H, 100e6));
  back.flow(bulk('10.1.0.14', '10.6.0.10', 104, T0 + 47 * H, 3e9));
  const alerts = detectBaselineDeviations(back, [...devices, ct4]).filter((a) => a.device === 'ct4');
  assert.deepEqual(alerts.map((a) => a.kind), ['volume']);
});
