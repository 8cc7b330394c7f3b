import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dhcp } from './dhcp.ts';
import { corpus, hasTshark, observeCapture, tsharkFields } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import { DhcpType, dhcpClientMessage, dhcpServerMessage } from '../simulate/payloads/dhcp.ts';
import type { OsProfile } from '../simulate/catalogue.ts';

const CAPTURES = ['peer/zeek/traces/dhcp__dhcp_time_and_nameserver.pcap', 'peer/zeek/traces/dhcp__hw-type0.pcap', 'peer/suricata-verify/dhcp-option-52-overload/input.pcap', 'pcaps/identity/ndpi/dhcp-fuzz.pcapng'];

for (const rel of CAPTURES) {
  test(`DHCP fields agree with tshark: ${rel}`, { skip: !hasTshark() && 'tshark not installed' }, async () => {
    const path = corpus(rel);
    const { observations, report } = await observeCapture(path, { dissectors: [dhcp], allObservations: true });
    assert.equal(report.dissectors.dhcp?.errors, 0);
    const rows = tsharkFields(path, ['frame.number', 'dhcp.option.hostname', 'dhcp.option.vendor_class_id', 'dhcp.option.request_list_item', 'dhcp.option.domain_name', 'dhcp.hw.mac_addr'], { filter: 'dhcp' });
    assert.ok(rows.length > 0);
    for (const [frame, host, vendor, prl, domain, mac] of rows) {
      const at = (a: string) => observations.filter((o) => o.frame === Number(frame) && o.attribute === a).map((o) => o.value);
      if (host !== '' && host !== undefined) assert.deepEqual(at('dhcp.hostname'), [host], `frame ${frame} hostname`);
      if (vendor !== '' && vendor !== undefined) assert.deepEqual(at('dhcp.vendor_class'), [vendor], `frame ${frame} vendor class`);
      if (prl !== '' && prl !== undefined) assert.deepEqual(at('dhcp.param_list'), [prl], `frame ${frame} parameter list`);
      if (domain !== '' && domain !== undefined) assert.deepEqual(at('dhcp.domain'), [domain.split(',')[0]], `frame ${frame} domain`);
      const subject = observations.find((o) => o.frame === Number(frame) && o.attribute === 'dhcp.message_type');
      if (subject !== undefined && mac !== undefined && mac !== '') assert.equal(subject.mac, mac.split(',')[0], `frame ${frame} chaddr`);
    }
  });
}

test('the simulator’s Windows 7 DORA: fingerprint, names and the lease, subject by chaddr', () => {
  const os: OsProfile = {
    name: 'Windows 7 SP1',
    version: '6.1.7601',
    family: 'windows',
    ttl: 128,
    tcp: { window: 8192, mss: 1460, options: 'mss', df: true },
    dhcp: { paramList: '1,15,3,6,44,46,47,31,33,121,249,43,252', vendorClass: 'MSFT 5.0', optionOrder: [61, 50, 12, 81, 60, 55] },
  };
  const mac = Buffer.from('0014220a0b0c', 'hex');
  const ctx = new FakeContext();
  ctx.clientIp = '0.0.0.0';
  dhcp.datagram?.(dhcpClientMessage(DhcpType.DISCOVER, { mac, hostname: 'CT-WS-07', os, xid: 7, requested: Buffer.from([10, 10, 1, 20]) }), ctx);
  ctx.dir = 1;
  const lease = { yiaddr: Buffer.from([10, 10, 1, 20]), serverId: Buffer.from([10, 60, 1, 10]), router: Buffer.from([10, 10, 0, 1]), dns: Buffer.from([10, 60, 1, 11]), mask: Buffer.from([255, 255, 0, 0]), domain: 'simhosp.example', leaseSeconds: 28800 };
  dhcp.datagram?.(dhcpServerMessage(DhcpType.ACK, 7, mac, lease), ctx);
  const one = (a: string) => ctx.drafts.filter((d) => d.attribute === a);
  assert.equal(one('dhcp.hostname')[0]?.value, 'CT-WS-07');
  assert.equal(one('dhcp.hostname')[0]?.mac, '00:14:22:0a:0b:0c');
  assert.equal(one('dhcp.hostname')[0]?.ip, undefined);
  assert.equal(one('dhcp.vendor_class')[0]?.value, 'MSFT 5.0');
  assert.equal(one('dhcp.param_list')[0]?.value, '1,15,3,6,44,46,47,31,33,121,249,43,252');
  assert.equal(one('dhcp.fqdn')[0]?.value, 'CT-WS-07');
  assert.equal(one('dhcp.options')[0]?.value, '53,61,50,12,81,60,55');
  assert.deepEqual([one('dhcp.assigned_ip')[0]?.value, one('dhcp.assigned_ip')[0]?.mac], ['10.10.1.20', '00:14:22:0a:0b:0c']);
  assert.deepEqual([one('dhcp.server_id')[0]?.value, one('dhcp.server_id')[0]?.ip], ['10.60.1.10', '10.60.1.10']);
  assert.equal(one('dhcp.domain')[0]?.value, 'simhosp.example');
});

test('property: random and mutated DHCP messages never throw; probe rejects non-DHCP', () => {
  const os: OsProfile = { name: 'x', version: '1', family: 'linux', ttl: 64, tcp: { window: 1, mss: 1, options: 'mss', df: true }, dhcp: { paramList: '1,3,6' } };
  const seed = dhcpClientMessage(DhcpType.REQUEST, { mac: Buffer.alloc(6, 1), hostname: 'h', os, xid: 1 });
  const ctx = new FakeContext();
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 12 }).map((e) => {
      const b = Buffer.from(seed);
      for (const [i, v] of e) b[240 + (i % (b.length - 240))] = v;
      return b;
    })), (b) => {
      if (dhcp.probe(b, 0, true)) dhcp.datagram?.(b, ctx);
      dhcp.datagram?.(b, ctx);
    }),
    { numRuns: 2000 },
  );
  assert.ok(!dhcp.probe(Buffer.from('GET / HTTP/1.1\r\n'), 0, true));
});
