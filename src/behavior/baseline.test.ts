import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BaselineLedger, baselineParts, detectBaselineDeviations, mergeBaselineParts, type BaselineDevice, type BaselineSnapshot, type BaselineSnapshotV1 } from './baseline.ts';
import type { FlowRecord } from '../flow/flow.ts';
import type { Observation } from '../protocols/observation.ts';

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
  assert.throws(() => BaselineLedger.fromJSON({ ...ledger.toJSON(), version: 3 } as unknown as ReturnType<BaselineLedger['toJSON']>), /known version/);
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

// ---- protocol usage: DNS names, DICOM, HL7 --------------------------------------------------------

const STUDY_MOVE = '1.2.840.10008.5.1.4.1.2.2.2 (Study Root Query/Retrieve Information Model - MOVE)';
const CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2 (CT Image Storage)';
const VERIFICATION = '1.2.840.10008.1.1 (Verification)';

function obs(ip: string, attribute: string, value: string, time: number): Observation {
  return { time, frame: 1, flow: 1, protocol: attribute.split('.')[0]!, ip, attribute, value, confidence: 0.9 };
}

/**
 * The CT hospital, with what its devices say in their protocols while learning: the CTs store images
 * and echo, one resolves its vendor's service host; four infusion pumps (one resolves its vendor's
 * cloud); two chemistry analysers sending results over HL7; twenty office PCs browsing twenty
 * domains; the DC answering DNS (and forwarding what it is asked).
 */
function talkingHospital(): { ledger: BaselineLedger; devices: BaselineDevice[] } {
  const { ledger, devices } = hospital();
  const more: BaselineDevice[] = [
    ...[1, 2, 3, 4].map((i) => ({ id: `pump${i}`, ips: [`10.3.0.${i}`], name: `PUMP-0${i}`, group: 'infusion pump' })),
    ...[1, 2].map((i) => ({ id: `lab${i}`, ips: [`10.4.0.${i}`], name: `LAB-0${i}`, group: 'Chemistry analyser' })),
    ...Array.from({ length: 20 }, (_, i) => ({ id: `pc${i}`, ips: [`10.5.0.${i + 1}`], name: `PC-${i}`, group: 'Windows computer' })),
  ];
  for (let h = 0; h < 24; h++) {
    for (const d of more) ledger.flow(flow(d.ips[0]!, '10.6.0.15', 53, T0 + h * H + 200, 'dns'));
    for (const d of more.filter((x) => x.group === 'Windows computer')) ledger.flow(flow(d.ips[0]!, '203.0.113.200', 443, T0 + h * H + 300, 'tls'));
  }
  const t = T0 + 3600;
  for (const ct of ['10.1.0.11', '10.1.0.12', '10.1.0.13']) {
    ledger.observation(obs(ct, 'dicom.command', 'C-STORE-RQ', t));
    ledger.observation(obs(ct, 'dicom.command', 'C-ECHO-RQ', t));
    ledger.observation(obs(ct, 'dicom.abstract_syntax', CT_STORAGE, t));
    ledger.observation(obs(ct, 'dicom.abstract_syntax', VERIFICATION, t));
  }
  ledger.observation(obs('10.1.0.11', 'dns.query', 'insite.gehealthcare.com', t));
  ledger.observation(obs('10.6.0.10', 'dicom.command', 'C-STORE-RSP', t));
  ledger.observation(obs('10.3.0.1', 'dns.query', 'api.pumpvendor.example', t));
  for (const lab of ['10.4.0.1', '10.4.0.2']) ledger.observation(obs(lab, 'hl7.message_type', 'ORU^R01', t));
  for (let i = 0; i < 20; i++) ledger.observation(obs(`10.5.0.${i + 1}`, 'dns.query', `www.site${i}.example`, t + i));
  ledger.observation(obs('10.6.0.15', 'dns.server', 'recursive', t));
  ledger.observation(obs('10.6.0.15', 'dns.query', 'www.site1.example', t));
  ledger.observation(obs('10.5.0.1', 'dns.resolved', 'emr.simhosp.example A 10.6.0.20', t));
  return { ledger, devices: [...devices, ...more] };
}

test('protocol habits of the device or its group raise nothing after learning — nor do a new storage class, a cancel, a new trigger, CDN hosts, local names, a resolver', () => {
  const { ledger, devices } = talkingHospital();
  const t = T0 + 30 * H;
  ledger.observation(obs('10.1.0.12', 'dicom.abstract_syntax', '1.2.840.10008.5.1.4.1.1.7 (Secondary Capture Image Storage)', t));
  ledger.observation(obs('10.1.0.12', 'dicom.command', 'C-CANCEL-RQ', t));
  ledger.observation(obs('10.4.0.2', 'hl7.message_type', 'ORU^R30', t));
  ledger.observation(obs('10.3.0.4', 'dns.query', 'eu.api.pumpvendor.example', t)); // its group's domain
  ledger.observation(obs('10.3.0.4', 'dns.query', 'pacs.simhosp.example', t)); // the hospital's own
  ledger.observation(obs('10.3.0.4', 'dns.query', '9.0.6.10.in-addr.arpa', t));
  ledger.observation(obs('10.6.0.15', 'dns.query', 'update.evil.example', t)); // the resolver forwarding
  ledger.observation(obs('10.5.0.3', 'dns.query', 'www.newsite.example', t)); // an office PC browsing: no alert alone
  assert.deepEqual(detectBaselineDeviations(ledger, devices), []);
});

test('a CT scanner sending C-MOVE, a pump resolving a new domain, an analyser sending ADT: one alert each, in words', () => {
  const { ledger, devices } = talkingHospital();
  ledger.observation(obs('10.1.0.13', 'dicom.abstract_syntax', STUDY_MOVE, T0 + 30 * H));
  ledger.observation(obs('10.1.0.13', 'dicom.command', 'C-MOVE-RQ', T0 + 30 * H + 1));
  ledger.observation(obs('10.3.0.2', 'dns.query', 'update.evil.example', T0 + 31 * H));
  ledger.observation(obs('10.3.0.2', 'dns.query', 'c2.evil.example', T0 + 31 * H + 5));
  ledger.observation(obs('10.4.0.1', 'hl7.message_type', 'ADT^A01', T0 + 32 * H));
  const alerts = detectBaselineDeviations(ledger, devices);
  assert.deepEqual(alerts.map((a) => `${a.kind} ${a.device}`), ['new-dicom ct3', 'new-dns pump2', 'new-hl7 lab1']);
  assert.equal(alerts[0]!.text, 'CT-03 (CT scanner) proposed DICOM Study Root Query/Retrieve Information Model - MOVE; sent DICOM C-MOVE requests — never used by it or any of its 2 peers in the learning period (it used C-STORE, C-ECHO)');
  assert.equal(alerts[0]!.time, T0 + 30 * H);
  assert.equal(alerts[1]!.text, 'PUMP-02 (infusion pump) resolved update.evil.example, c2.evil.example — no infusion pump resolved a name under evil.example while learning (it resolved none; its group resolved names under pumpvendor.example)');
  assert.equal(alerts[2]!.text, 'LAB-01 (Chemistry analyser) sent HL7 ADT^A01 messages — never sent by it or any of its 1 peer in the learning period (it sent ORU^R01)');
});

test('a new domain of a device that resolves many is evidence on its alert of the hour, not an alert of its own', () => {
  const { ledger, devices } = talkingHospital();
  ledger.observation(obs('10.5.0.7', 'dns.query', 'drop.exfil.example', T0 + 30 * H));
  ledger.flow(flow('10.5.0.7', '203.0.113.9', 443, T0 + 30 * H + 40, 'tls'));
  // A new domain the day after, with nothing else that hour: not raised.
  ledger.observation(obs('10.5.0.8', 'dns.query', 'www.another.example', T0 + 40 * H));
  const alerts = detectBaselineDeviations(ledger, devices);
  assert.deepEqual(alerts.map((a) => `${a.kind} ${a.device}`), ['new-destination pc6']);
  assert.deepEqual(alerts[0]!.resolved, ['drop.exfil.example']);
  assert.match(alerts[0]!.text, /tcp\/443 \(tls\) to 203\.0\.113\.9 — within the hour it resolved drop\.exfil\.example, under a domain new for it and any Windows computer$/);
  // For an appliance too, the hour's alert carries the name instead of a second alert for one story.
  ledger.observation(obs('10.3.0.3', 'dns.query', 'upload.exfil.example', T0 + 33 * H));
  ledger.flow(flow('10.3.0.3', '203.0.113.10', 8443, T0 + 33 * H + 30));
  const again = detectBaselineDeviations(ledger, devices).filter((a) => a.device === 'pump3');
  assert.deepEqual(again.map((a) => a.kind), ['new-service']);
  assert.deepEqual(again[0]!.resolved, ['upload.exfil.example']);
  // A group of one (the PACS) has no peers to name; as a DNS client it is an appliance (no domains while learning).
  ledger.observation(obs('10.6.0.10', 'dns.query', 'files.exfil.example', T0 + 35 * H));
  const pacs = detectBaselineDeviations(ledger, devices).filter((a) => a.device === 'pacs');
  assert.deepEqual(pacs.map((a) => a.text), ['PACS01 (PACS) resolved files.exfil.example — it never resolved a name under exfil.example while learning (it resolved none)']);
});

test('a novelty shared by a fleet is told once, on its first device', () => {
  const { ledger, devices } = talkingHospital();
  for (const [k, ip] of ['10.3.0.3', '10.3.0.1', '10.3.0.4'].entries()) ledger.observation(obs(ip, 'dns.query', 'fw.newcdn.example', T0 + 30 * H + k * 600));
  const alerts = detectBaselineDeviations(ledger, devices);
  assert.deepEqual(alerts.map((a) => `${a.kind} ${a.device}`), ['new-dns pump3']);
  assert.match(alerts[0]!.text, /^PUMP-03 \(infusion pump\) resolved fw\.newcdn\.example \(and 2 other infusion pumps since\) — /);
  // Two are not yet a fleet: each is told.
  const two = talkingHospital();
  for (const ip of ['10.3.0.3', '10.3.0.1']) two.ledger.observation(obs(ip, 'dns.query', 'fw.newcdn.example', T0 + 30 * H));
  assert.deepEqual(detectBaselineDeviations(two.ledger, two.devices).map((a) => a.device), ['pump1', 'pump3']);
});

test('protocol usage persists: v2 round trip, per-device pieces, and a version 1 snapshot read with none learnt', () => {
  const { ledger, devices } = talkingHospital();
  ledger.observation(obs('10.1.0.13', 'dicom.command', 'C-MOVE-RQ', T0 + 30 * H));
  ledger.observation(obs('10.3.0.2', 'dns.query', 'update.evil.example', T0 + 31 * H));
  const a = detectBaselineDeviations(ledger, devices);
  assert.equal(a.length, 2);
  const snap = JSON.parse(JSON.stringify(ledger.toJSON())) as BaselineSnapshot;
  assert.equal(snap.version, 2);
  assert.deepEqual(detectBaselineDeviations(BaselineLedger.fromJSON(snap), devices), a);
  const parts = baselineParts(ledger, devices);
  assert.deepEqual(parts.find((p) => p.subject === 'device:ct3')!.data.usage.map((u) => u[0]), ['10.1.0.13']);
  assert.deepEqual(parts.find((p) => p.subject === 'baseline:rest')!.data.resolvers, ['10.6.0.15']);
  assert.ok(parts.filter((p) => p.subject !== 'baseline:rest').every((p) => p.data.resolvers.length === 0 && p.data.localDomains.length === 0));
  const back = mergeBaselineParts(parts.map((p) => JSON.parse(JSON.stringify(p.data)) as BaselineSnapshot));
  assert.deepEqual(detectBaselineDeviations(back, devices), a);
  // A piece read twice changes nothing.
  assert.deepEqual(mergeBaselineParts([...parts, ...parts].map((p) => p.data)).toJSON(), back.toJSON());

  // Version 1 (written before protocol usage was learnt): the rest reads as before, usage as none.
  const { usage: _u, resolvers: _r, localDomains: _l, ...rest } = snap;
  const { namesPerAddress: _n, messagesPerAddress: _m, ...limits } = snap.limits;
  const v1: BaselineSnapshotV1 = { ...rest, version: 1, limits };
  const old = BaselineLedger.fromJSON(JSON.parse(JSON.stringify(v1)) as BaselineSnapshotV1);
  assert.deepEqual(old.toJSON().usage, []);
  assert.equal(old.toJSON().limits.namesPerAddress, 256);
  assert.deepEqual(detectBaselineDeviations(old, devices), []);
  // It goes on learning: a usage seen after the restart is judged against what it learns from then on.
  old.observation(obs('10.1.0.13', 'dicom.command', 'C-MOVE-RQ', T0 + 40 * H));
  assert.deepEqual(detectBaselineDeviations(old, devices).map((x) => x.kind), ['new-dicom']);
  // Pieces of both versions merge.
  const mixed = mergeBaselineParts([v1, ...parts.filter((p) => p.subject === 'device:pump2').map((p) => p.data)]);
  assert.deepEqual(detectBaselineDeviations(mixed, devices).map((x) => `${x.kind} ${x.device}`), ['new-dns pump2']);
});

test('protocol usage is bounded: names and messages per address (the rest counted), internal addresses only', () => {
  const ledger = new BaselineLedger({ namesPerAddress: 5, messagesPerAddress: 2, volumeAddresses: 3 });
  for (let i = 0; i < 12; i++) ledger.observation(obs('10.0.0.1', 'dns.query', `h${i}.example${i}.net`, T0 + i));
  for (const c of ['C-STORE-RQ', 'C-ECHO-RQ', 'C-FIND-RQ', 'C-MOVE-RQ']) ledger.observation(obs('10.0.0.1', 'dicom.command', c, T0));
  ledger.observation(obs('203.0.113.5', 'dns.query', 'x.example', T0));
  for (let i = 2; i < 10; i++) ledger.observation(obs(`10.0.0.${i}`, 'hl7.message_type', 'ORU^R01', T0));
  const u = ledger.view().usage;
  assert.equal(u.size, 3);
  assert.ok(!u.has('203.0.113.5'));
  assert.equal(u.get('10.0.0.1')!.items.dns.size, 5);
  assert.equal(u.get('10.0.0.1')!.overflow.dns, 7);
  assert.equal(u.get('10.0.0.1')!.items['dicom-command'].size, 2);
  assert.equal(u.get('10.0.0.1')!.overflow['dicom-command'], 2);
  // The snapshot keeps the bounds and the counts; a repeat keeps its earliest time.
  ledger.observation(obs('10.0.0.1', 'dns.query', 'h0.example0.net', T0 - 100));
  const back = BaselineLedger.fromJSON(JSON.parse(JSON.stringify(ledger.toJSON())) as BaselineSnapshot);
  assert.deepEqual(back.toJSON(), ledger.toJSON());
  assert.equal(back.view().usage.get('10.0.0.1')!.items.dns.get('h0.example0.net'), T0 - 100);
});

test('a server that only answered while learning: a connection it opens after is new for it, with the name it resolved', () => {
  const { ledger, devices } = talkingHospital();
  ledger.observation(obs('10.6.0.10', 'dns.query', 'files.exfil.example', T0 + 35 * H));
  ledger.flow(flow('10.6.0.10', '203.0.113.11', 443, T0 + 35 * H + 30, 'tls'));
  const alerts = detectBaselineDeviations(ledger, devices);
  assert.deepEqual(alerts.map((a) => a.text), ['PACS01 (PACS) used a service never seen for it in the learning period: tcp/443 (tls) to 203.0.113.11 — within the hour it resolved files.exfil.example, under a domain new for it']);
});
