import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { osFromSysDescr, snmp } from './snmp.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import { snmpGetSystem, snmpSystemResponse } from '../simulate/payloads/snmp.ts';
import { pcapHeader, pcapRecord } from '../capture/writer.ts';
import { udpFrame } from '../packet/build.ts';

/** The pcaps these tests write for tshark, removed after them. */
const TMP = mkdtempSync(join(tmpdir(), 'vigil-snmp-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const SNMP_PCAP = 'pcaps/identity/ndpi/snmp.pcap';
const TRAP_PCAP = 'peer/suricata-verify/snmp-trap-oid/public-wiresharkwiki-c06-snmpv1-trap-app-r1-1-12.pcap';
const V3_PCAP = 'peer/suricata-verify/snmp-v3-unauth/snmp-v3-get-bulk-unauth.pcap';
const skip = !hasTshark() && 'tshark not installed';

/** The system-group OIDs and what we call them. */
const NAMES: Record<string, string> = { '1.3.6.1.2.1.1.1.0': 'snmp.sys_descr', '1.3.6.1.2.1.1.5.0': 'snmp.sys_name', '1.3.6.1.2.1.1.6.0': 'snmp.sys_location' };

/**
 * For every agent message tshark decodes: the system-group strings it shows (snmp.name paired with
 * snmp.value.octets — both lists run over the varbinds in order, octets only for string values).
 */
function tsharkSystem(path: string): Array<{ frame: number; attr: string; value: string }> {
  const out: Array<{ frame: number; attr: string; value: string }> = [];
  const rows = tsharkFields(path, ['frame.number', 'snmp.name', 'snmp.value.octets', 'snmp.value.oid', 'snmp.value.null'], { filter: 'snmp.get_response_element or snmp.trap_element or snmp.snmpV2_trap_element' });
  for (const [frame, names, octets] of rows) {
    const n = (names ?? '').split(',');
    const v = (octets ?? '').split(',').filter((x) => x !== '');
    // Only unambiguous rows: every varbind of the system group, one string each.
    if (n.length !== v.length) continue;
    n.forEach((oid, i) => {
      const attr = NAMES[oid];
      if (attr !== undefined) out.push({ frame: Number(frame), attr, value: Buffer.from(v[i] as string, 'hex').toString('latin1') });
    });
  }
  return out;
}

test(`SNMP agents' system group agrees with tshark frame by frame (v1, v2c and plaintext v3): ${SNMP_PCAP}`, { skip }, async () => {
  const path = corpus(SNMP_PCAP);
  const { observations, report } = await observeCapture(path, { dissectors: [snmp], allObservations: true });
  assert.equal(report.dissectors.snmp?.errors ?? 0, 0);
  const theirs = tsharkSystem(path);
  assert.ok(theirs.length >= 10);
  for (const t of theirs) {
    const ours = observations.filter((o) => o.frame === t.frame && o.attribute === t.attr).map((o) => o.value);
    assert.deepEqual(ours, [t.value], `frame ${t.frame} ${t.attr}`);
  }
  // Nothing we say about the system group that tshark does not.
  const sys = observations.filter((o) => Object.values(NAMES).includes(o.attribute));
  assert.equal(sys.length, theirs.length);
  // The agent is the responder: every observation of a response frame is about its source (port 161).
  const srcs = new Map(tsharkFields(path, ['frame.number', 'ip.src', 'udp.srcport']).map(([f, ip, port]) => [Number(f), [ip, port]]));
  for (const o of sys) assert.deepEqual(srcs.get(o.frame), [o.ip, '161'], `frame ${o.frame} subject`);
  // Versions as the agents speak them.
  const versions = new Set(tsharkFields(path, ['snmp.version', 'snmp.msgVersion'], { filter: 'snmp.get_response_element or snmp.report_element' }).map(([v, m]) => (v === '0' ? '1' : v === '1' ? '2c' : m)));
  assert.deepEqual(new Set(values(observations, 'snmp.version')), versions);
});

test('community strings: only the factory defaults are named, only as agents echo them; other communities never appear', { skip }, async () => {
  const path = corpus(SNMP_PCAP);
  const { observations } = await observeCapture(path, { dissectors: [snmp], allObservations: true });
  const communities = new Set(tsharkFields(path, ['snmp.community'], { filter: 'snmp.community' }).map(([c]) => c));
  assert.ok(communities.has('adsl') && communities.has('public2c'));
  const defaults = observations.filter((o) => o.attribute === 'snmp.community_default');
  assert.ok(defaults.length > 0);
  assert.ok(defaults.every((o) => o.value === 'public'));
  // Every frame the default was named in is a response or trap that tshark shows with "public".
  const pub = new Set(tsharkFields(path, ['frame.number'], { filter: 'snmp.community == "public" and (snmp.get_response_element or snmp.trap_element or snmp.snmpV2_trap_element)' }).map(([f]) => Number(f)));
  for (const o of defaults) assert.ok(pub.has(o.frame), `frame ${o.frame}`);
  const text = JSON.stringify(observations);
  assert.ok(!text.includes('adsl') && !text.includes('public2c'));
});

test('SNMPv3: the authoritative engine ID (and its enterprise and MAC) is about the agent; discovery probes name nobody', { skip }, async () => {
  const path = corpus(SNMP_PCAP);
  const { observations } = await observeCapture(path, { dissectors: [snmp], allObservations: true });
  const rows = tsharkFields(path, ['frame.number', 'snmp.msgAuthoritativeEngineID', 'udp.srcport', 'udp.dstport', 'ip.src', 'ip.dst'], { filter: 'snmp.msgVersion == 3' });
  let named = 0;
  for (const [frame, id, sport, dport, src, dst] of rows) {
    const ours = observations.filter((o) => o.frame === Number(frame) && o.attribute === 'snmp.engine_id');
    if (id === undefined || id === '' || id === '<MISSING>') {
      assert.deepEqual(ours, [], `frame ${frame}`);
      continue;
    }
    assert.deepEqual(ours.map((o) => o.value), [id], `frame ${frame}`);
    // The agent: the side on port 161, or the sender of a notification to port 162.
    const agent = sport === '161' || dport === '162' ? src : dst;
    assert.equal(ours[0]?.ip, agent, `frame ${frame} subject`);
    named++;
  }
  assert.ok(named > 20);
  assert.deepEqual(new Set(values(observations, 'snmp.engine_enterprise')), new Set(['9']));
  assert.deepEqual(new Set(values(observations, 'snmp.engine_mac')), new Set(['aa:bb:cc:00:01:00']));
  // The unauthenticated v3 capture: version 3, the agent's engine from its Reports.
  const v3 = corpus(V3_PCAP);
  const o3 = (await observeCapture(v3, { dissectors: [snmp], allObservations: true })).observations;
  const ids = new Set(tsharkFields(v3, ['snmp.msgAuthoritativeEngineID'], { filter: 'snmp.report_element' }).map(([i]) => i));
  assert.deepEqual(new Set(values(o3, 'snmp.engine_id')), ids);
  assert.deepEqual(new Set(values(o3, 'snmp.version')), new Set(['3']));
});

test('traps: v1 enterprise and v2 snmpTrapOID.0 as tshark (and suricata-verify snmp-trap-oid) read them', { skip }, async () => {
  const t1 = corpus(TRAP_PCAP);
  const o1 = (await observeCapture(t1, { dissectors: [snmp], allObservations: true })).observations;
  const traps = o1.filter((o) => o.attribute === 'snmp.trap_oid');
  assert.equal(traps.length, 7); // suricata-verify: 7 alerts with trap_oid 1.3.6.1.4.1.4.1.2.21
  assert.ok(traps.every((o) => o.value === '1.3.6.1.4.1.4.1.2.21' && o.ip === '192.168.0.2'));
  const ent = tsharkFields(t1, ['frame.number', 'snmp.enterprise'], { filter: 'snmp.trap_element' });
  assert.deepEqual(traps.map((o) => [String(o.frame), o.value]), ent.filter(([, e]) => e !== '').map(([f, e]) => [f, e]));
  // v2 traps in the nDPI capture (v2c and authNoPriv v3): the snmpTrapOID.0 value.
  const path = corpus(SNMP_PCAP);
  const { observations } = await observeCapture(path, { dissectors: [snmp], allObservations: true });
  const rows = tsharkFields(path, ['frame.number', 'snmp.value.oid', 'snmp.enterprise'], { filter: 'snmp.snmpV2_trap_element or snmp.trap_element' });
  assert.ok(rows.length >= 6);
  for (const [frame, oids, enterprise] of rows) {
    const expected = enterprise !== '' && enterprise !== undefined ? enterprise : (oids ?? '').split(',')[0];
    assert.deepEqual(observations.filter((o) => o.frame === Number(frame) && o.attribute === 'snmp.trap_oid').map((o) => o.value), [expected], `frame ${frame}`);
  }
});

/** Writes Ethernet/IPv4/UDP frames to a temporary pcap, for tshark to read the same bytes. */
function writeUdpPcap(name: string, packets: Array<{ src: string; dst: string; sport: number; dport: number; payload: Buffer }>): string {
  const opts = { linkType: 1 };
  const recs = packets.map((p, i) => pcapRecord(opts, 1_700_000_000 + i, 0, udpFrame({ src: `02:00:00:00:00:${p.src.endsWith('.5') ? '05' : '09'}`, dst: `02:00:00:00:00:${p.dst.endsWith('.5') ? '05' : '09'}` }, { src: p.src, dst: p.dst }, { srcPort: p.sport, dstPort: p.dport }, p.payload)));
  const path = join(TMP, name);
  writeFileSync(path, Buffer.concat([pcapHeader(opts), ...recs]));
  return path;
}

test('sysDescr, sysObjectID and the OS it states agree with tshark on a capture of the simulator’s poll (a Windows agent)', { skip }, async () => {
  const descr = 'Hardware: Intel64 Family 6 Model 85 Stepping 4 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build 17763 Multiprocessor Free)';
  const path = writeUdpPcap('poll.pcap', [
    { src: '10.0.0.9', dst: '10.0.0.5', sport: 40000, dport: 161, payload: snmpGetSystem(42) },
    { src: '10.0.0.5', dst: '10.0.0.9', sport: 161, dport: 40000, payload: snmpSystemResponse(42, { descr, objectId: '1.3.6.1.4.1.311.1.1.3.1.3', uptimeTicks: 99, name: 'PACS-01' }) },
  ]);
  const { observations } = await observeCapture(path, { dissectors: [snmp], allObservations: true });
  const [[names, octets, oids]] = tsharkFields(path, ['snmp.name', 'snmp.value.octets', 'snmp.value.oid'], { filter: 'snmp.get_response_element' }) as [[string, string, string]];
  assert.equal(names.split(',')[0], '1.3.6.1.2.1.1.1.0');
  assert.deepEqual(values(observations, 'snmp.sys_descr'), [Buffer.from(octets.split(',')[0] as string, 'hex').toString('latin1')]);
  assert.deepEqual(values(observations, 'snmp.sys_object_id'), [oids.split(',')[0]]);
  assert.deepEqual(values(observations, 'snmp.sys_name'), ['PACS-01']);
  assert.deepEqual(values(observations, 'os'), ['Windows 10 1809 / Server 2019 (10.0.17763)']);
  assert.ok(observations.every((o) => o.ip === '10.0.0.5' && o.mac === '02:00:00:00:00:05'), 'all about the agent');
});

test('sysDescr OS forms: Windows, Net-SNMP uname, Cisco IOS; others none', () => {
  assert.equal(osFromSysDescr('Hardware: x86 Family 6 Model 15 Stepping 11 AT/AT COMPATIBLE - Software: Windows Version 6.1 (Build 7601 Multiprocessor Free)'), 'Windows 7 / Server 2008 R2 SP1 (6.1.7601)');
  assert.equal(osFromSysDescr('Hardware: x86 Family 6 - Software: Windows 2000 Version 5.0 (Build 2195 Uniprocessor Free)'), 'Windows 2000 (5.0.2195)');
  assert.equal(osFromSysDescr('Linux pacs-gw 4.9.206-axis5 #1 PREEMPT Thu Jan 1 00:00:00 UTC 2020 armv7l'), 'Linux 4.9.206-axis5');
  assert.equal(osFromSysDescr('Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE4, RELEASE SOFTWARE (fc1)'), 'Cisco IOS 15.0(2)SE4');
  assert.equal(osFromSysDescr('Cisco NX-OS(tm) n9000, Software (n9000-dk9), Version 9.3(5), RELEASE SOFTWARE'), 'Cisco NX-OS 9.3(5)');
  assert.equal(osFromSysDescr('HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153'), undefined);
});

test('hand-fed: a request says nothing; a response with a non-default community is used but the community is not named', () => {
  const ctx = new FakeContext();
  ctx.serverPort = 161;
  snmp.datagram?.(snmpGetSystem(42, 'private'), ctx);
  assert.equal(ctx.drafts.length, 0);
  ctx.dir = 1;
  snmp.datagram?.(snmpSystemResponse(42, { descr: 'Linux cam 4.9.206 #1 SMP', objectId: '1.3.6.1.4.1.368.4', uptimeTicks: 1, name: 'CAM07' }, 'private'), ctx);
  snmp.datagram?.(snmpSystemResponse(43, { descr: 'x', objectId: '1.3.6.1.4.1.368.4', uptimeTicks: 1, name: 'CAM07' }, 'S3cr3t!'), ctx);
  assert.ok(ctx.drafts.every((d) => d.side === 'server'));
  assert.deepEqual(ctx.values('snmp.community_default'), ['private']);
  assert.deepEqual(ctx.values('snmp.version'), ['2c', '2c']);
  assert.deepEqual(ctx.values('os'), ['Linux 4.9.206']);
  assert.ok(!JSON.stringify(ctx.drafts).includes('S3cr3t'));
});

test('probe: SNMP shapes on its ports only; not DNS, not TLS, not LDAP-like BER', () => {
  assert.ok(snmp.probe(snmpGetSystem(1), 0, true));
  assert.ok(!snmp.probe(snmpGetSystem(1), 0, false));
  assert.ok(!snmp.probe(Buffer.from('3084000000100201010400', 'hex'), 0, true));
  assert.ok(!snmp.probe(Buffer.from('300c02010163070a010004000400', 'hex'), 0, true)); // LDAP: INTEGER then [APPLICATION]
  assert.ok(!snmp.probe(Buffer.from('16030100a5010000a10303', 'hex'), 0, true));
  assert.ok(!snmp.probe(Buffer.alloc(40), 0, true));
});

test('property: random and mutated SNMP datagrams never throw', () => {
  const seeds = [snmpSystemResponse(1, { descr: 'd', objectId: '1.3.6.1.4.1.9.1.1', uptimeTicks: 5, name: 'n' }), snmpGetSystem(3), Buffer.from('3081a3020103301102044365e5ae020300ffe304010102010304383036041180000009030000aabbcc000100020112020202cd040c4e4f415554484e4f5052495604000400304e041180000009030000aabbcc0001000400a23702041f6e75c502010002010030293027060a2b060102010203010b0300', 'hex')];
  const ctx = new FakeContext();
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }), fc.nat(40)).map(([s, e, cut]) => {
          const b = Buffer.from(s);
          for (const [i, v] of e) b[i % b.length] = v;
          return b.subarray(0, Math.max(0, b.length - cut));
        }),
      ),
      fc.boolean(),
      (b, reply) => {
        ctx.dir = reply ? 1 : 0;
        snmp.probe(b, ctx.dir, true);
        snmp.datagram?.(b, ctx);
      },
    ),
    { numRuns: 500 },
  );
});
