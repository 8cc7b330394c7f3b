import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { snmp } from './snmp.ts';
import { ssdp } from './ssdp.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import { snmpGetSystem, snmpSystemResponse } from '../simulate/payloads/snmp.ts';
import { ssdpNotify } from '../simulate/payloads/ssdp.ts';

test('SNMP agents: sysName and sysLocation agree with tshark; the default community is flagged, never stored otherwise', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const path = corpus('pcaps/identity/ndpi/snmp.pcap');
  const { observations } = await observeCapture(path, { dissectors: [snmp] });
  const rows = tsharkFields(path, ['snmp.name', 'snmp.value.octets'], { filter: 'snmp.get_response_element' });
  const theirs = new Set<string>();
  for (const [names, octets] of rows) {
    const n = (names ?? '').split(',');
    const v = (octets ?? '').split(',');
    n.forEach((oid, i) => {
      if (oid === '1.3.6.1.2.1.1.5.0' || oid === '1.3.6.1.2.1.1.6.0') theirs.add(Buffer.from(v[i] ?? '', 'hex').toString('latin1'));
    });
  }
  const ours = new Set([...values(observations, 'snmp.sys_name'), ...values(observations, 'snmp.sys_location')]);
  assert.ok(theirs.size > 0);
  for (const t of theirs) assert.ok(ours.has(t), `${t}`);
  assert.ok(values(observations, 'snmp.community_default').every((c) => c === 'public'));
});

test('round trip: sysDescr and sysObjectID from a GetResponse, about the agent', () => {
  const ctx = new FakeContext();
  ctx.serverPort = 161;
  snmp.datagram?.(snmpGetSystem(42), ctx);
  ctx.dir = 1;
  snmp.datagram?.(snmpSystemResponse(42, { descr: 'Linux 4.9.206 AXIS P3245-V', objectId: '1.3.6.1.4.1.368.4', uptimeTicks: 123456, name: 'CAM07' }), ctx);
  const server = (a: string) => ctx.drafts.filter((d) => d.side === 'server' && d.attribute === a).map((d) => d.value);
  assert.deepEqual(server('snmp.sys_descr'), ['Linux 4.9.206 AXIS P3245-V']);
  assert.deepEqual(server('snmp.sys_object_id'), ['1.3.6.1.4.1.368.4']);
  assert.deepEqual(server('snmp.sys_name'), ['CAM07']);
  assert.ok(server('snmp.community_default').includes('public'));
});

test('SSDP: M-SEARCH user agent as tshark reads it; NOTIFY server, USN and location', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const path = corpus('pcaps/identity/ndpi/ssdp-m-search-ua.pcap');
  const { observations } = await observeCapture(path, { dissectors: [ssdp] });
  const [ua] = tsharkFields(path, ['http.user_agent'], { filter: 'ssdp' })[0] ?? [];
  assert.deepEqual(values(observations, 'ssdp.user_agent'), [ua]);
  const ctx = new FakeContext();
  ssdp.datagram?.(ssdpNotify({ location: 'http://10.70.1.12:80/desc.xml', server: 'Linux/4.9, UPnP/1.0, Axis P3245-V/10.12', usn: 'uuid:1::urn:schemas-upnp-org:device:Basic:1', nt: 'urn:schemas-upnp-org:device:Basic:1' }), ctx);
  assert.deepEqual(ctx.values('ssdp.server'), ['Linux/4.9, UPnP/1.0, Axis P3245-V/10.12']);
  assert.deepEqual(ctx.values('ssdp.location'), ['http://10.70.1.12:80/desc.xml']);
});

test('property: random and mutated SNMP and SSDP datagrams never throw', () => {
  const seeds = [snmpSystemResponse(1, { descr: 'd', objectId: '1.3.6.1.4.1.9.1.1', uptimeTicks: 5, name: 'n' }), snmpGetSystem(3), ssdpNotify({ location: 'l', server: 's', usn: 'u', nt: 'n' })];
  const ctx = new FakeContext();
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 })).map(([s, e]) => {
      const b = Buffer.from(s);
      for (const [i, v] of e) b[i % b.length] = v;
      return b;
    })), (b) => {
      for (const d of [snmp, ssdp]) {
        d.probe(b, 0, true);
        d.datagram?.(b, ctx);
      }
    }),
    { numRuns: 2000 },
  );
});
