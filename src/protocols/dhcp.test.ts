import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dhcp, osFromVendorClass } from './dhcp.ts';
import { corpus, hasTshark, observeCapture, tsharkFields } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import { DhcpType, dhcpClientMessage, dhcpServerMessage } from '../simulate/payloads/dhcp.ts';
import type { OsProfile } from '../simulate/catalogue.ts';
import type { Observation } from './observation.ts';

/** Every real capture in the corpus with DHCP in it (tshark -Y dhcp), including a fuzzed one. */
const CAPTURES = [
  'peer/zeek/traces/dhcp__dhcp_time_and_nameserver.pcap',
  'peer/zeek/traces/dhcp__hw-type0.pcap',
  'peer/suricata-verify/dhcp-option-52-overload/input.pcap',
  'pcaps/identity/ndpi/dhcp-fuzz.pcapng',
  'pcaps/identity/ndpi/iphone.pcap',
  'pcaps/identity/ndpi/android.pcap',
  'pcaps/medical/iomt-consumer/withing_wifi/withing_wifi__03_08.pcap',
];

const nonEmpty = (s: string | undefined): s is string => s !== undefined && s !== '';

for (const rel of CAPTURES) {
  test(`DHCP fields agree with tshark: ${rel}`, { skip: !hasTshark() && 'tshark not installed' }, async () => {
    const path = corpus(rel);
    const { observations, report } = await observeCapture(path, { dissectors: [dhcp], allObservations: true });
    assert.equal(report.dissectors.dhcp?.errors ?? 0, 0);
    const fields = ['frame.number', 'dhcp.type', 'dhcp.hw.mac_addr', 'dhcp.option.hostname', 'dhcp.option.vendor_class_id', 'dhcp.option.request_list_item', 'dhcp.option.domain_name', 'dhcp.option.type', 'dhcp.option.dhcp_server_id', 'dhcp.ip.your', 'dhcp.option.router', 'dhcp.option.domain_name_server', '_ws.malformed'];
    const rows = tsharkFields(path, fields, { filter: 'dhcp' });
    assert.ok(rows.length > 0);
    let checked = 0;
    for (const [frame, op, macs, host, vendor, prl, domain, codes, serverId, yiaddr, routers, dns, malformed] of rows) {
      const here = observations.filter((o) => o.frame === Number(frame));
      const at = (a: string) => here.filter((o) => o.attribute === a).map((o) => o.value);
      const mac = (macs ?? '').split(',')[0];
      if (op === '1') {
        // Requests: every observation is about chaddr.
        if (nonEmpty(host)) assert.deepEqual(at('dhcp.hostname'), [host], `frame ${frame} hostname`);
        if (nonEmpty(vendor)) assert.deepEqual(at('dhcp.vendor_class'), [vendor], `frame ${frame} vendor class`);
        if (nonEmpty(prl)) assert.deepEqual(at('dhcp.param_list'), [prl], `frame ${frame} parameter list`);
        // tshark lists End (and Pad) among the option types; the fingerprint is the real options.
        const order = (codes ?? '').split(',').filter((c) => c !== '0' && c !== '255' && c !== '').join(',');
        // An option running past the end (the fuzzed capture) is listed by tshark, not by us.
        if (nonEmpty(malformed)) assert.ok(order.startsWith(at('dhcp.options')[0] ?? '?'), `frame ${frame} option order`);
        else if (order !== '') assert.deepEqual(at('dhcp.options'), [order], `frame ${frame} option order`);
        for (const o of here) assert.equal(o.mac, mac, `frame ${frame} ${o.attribute} subject`);
        checked++;
      } else if (op === '2' && here.length > 0) {
        const server = here.filter((o) => o.attribute !== 'dhcp.assigned_ip');
        if (nonEmpty(serverId)) {
          assert.deepEqual(at('dhcp.server_id'), [serverId], `frame ${frame} server id`);
          for (const o of server) assert.equal(o.ip, serverId, `frame ${frame} ${o.attribute} subject`);
        }
        if (nonEmpty(domain)) assert.deepEqual(at('dhcp.domain'), [domain.split(',')[0]], `frame ${frame} domain`);
        if (nonEmpty(routers)) assert.deepEqual(at('dhcp.router'), [routers], `frame ${frame} routers`);
        if (nonEmpty(dns)) assert.deepEqual(at('dhcp.dns_servers'), [dns], `frame ${frame} dns servers`);
        const lease = here.find((o) => o.attribute === 'dhcp.assigned_ip');
        if (lease !== undefined) assert.deepEqual([lease.value, lease.ip, lease.mac], [yiaddr, yiaddr, mac], `frame ${frame} lease`);
        checked++;
      }
    }
    assert.ok(checked > 0);
  });
}

test('option 52 overload: routers and DNS servers read from sname (suricata-verify frames 4 and 7)', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const { observations } = await observeCapture(corpus('peer/suricata-verify/dhcp-option-52-overload/input.pcap'), { dissectors: [dhcp], allObservations: true });
  const at = (frame: number, a: string) => observations.filter((o: Observation) => o.frame === frame && o.attribute === a).map((o) => o.value);
  for (const f of [4, 7]) {
    assert.deepEqual(at(f, 'dhcp.router'), ['10.100.0.2']);
    assert.deepEqual(at(f, 'dhcp.dns_servers'), ['10.100.0.2']);
    assert.deepEqual(at(f, 'dhcp.domain'), ['evil.corp']);
    assert.deepEqual(at(f, 'dhcp.options'), []); // server replies carry no client fingerprint
  }
  for (const f of [3, 8]) assert.deepEqual(at(f, 'dhcp.router'), ['10.100.0.1']);
  // The client: BusyBox udhcpc, identified by its fingerprint and vendor class.
  assert.deepEqual([...new Set(observations.filter((o) => o.attribute === 'dhcp.vendor_class').map((o) => o.value))], ['udhcp 1.36.1']);
  assert.deepEqual([...new Set(observations.filter((o) => o.attribute === 'dhcp.param_list').map((o) => o.value))], ['1,3,6,12,15,28,42,54,66,67,119']);
});

test('real clients: Android states its release; a Cisco router’s text client id; the fuzzed message still yields its hostname', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const android = (await observeCapture(corpus('pcaps/identity/ndpi/android.pcap'), { dissectors: [dhcp] })).observations;
  const os = android.filter((o) => o.attribute === 'os');
  assert.deepEqual([...new Set(os.map((o) => `${o.mac} ${o.value}`))], ['4c:6a:f6:9f:f6:27 Android 9']);
  const cisco = (await observeCapture(corpus('peer/zeek/traces/dhcp__hw-type0.pcap'), { dissectors: [dhcp] })).observations;
  const id = cisco.find((o) => o.attribute === 'dhcp.client_id');
  assert.deepEqual([id?.value, id?.mac, id?.ip], ['cisco-cc00.0ac4.0000-Fa0/0', 'cc:00:0a:c4:00:00', '192.168.0.3']);
  const fuzz = (await observeCapture(corpus('pcaps/identity/ndpi/dhcp-fuzz.pcapng'), { dissectors: [dhcp] })).observations;
  assert.deepEqual(fuzz.filter((o) => o.attribute === 'dhcp.hostname').map((o) => o.value), ['MK03862']);
  assert.deepEqual(fuzz.filter((o) => o.attribute === 'dhcp.message_type').map((o) => o.value), ['type-106']);
  assert.deepEqual(fuzz.filter((o) => o.attribute === 'dhcp.vendor_class'), []); // its length runs past the end
});

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
  ctx.serverIp = '10.60.1.10';
  ctx.srcMac = '02:00:00:00:00:02';
  const lease = { yiaddr: Buffer.from([10, 10, 1, 20]), serverId: Buffer.from([10, 60, 1, 10]), router: Buffer.from([10, 10, 0, 1]), dns: Buffer.from([10, 60, 1, 11]), mask: Buffer.from([255, 255, 0, 0]), domain: 'simhosp.example', leaseSeconds: 28800 };
  dhcp.datagram?.(dhcpServerMessage(DhcpType.ACK, 7, mac, lease), ctx);
  const one = (a: string) => ctx.drafts.filter((d) => d.attribute === a);
  assert.equal(one('dhcp.hostname')[0]?.value, 'CT-WS-07');
  assert.equal(one('dhcp.hostname')[0]?.mac, '00:14:22:0a:0b:0c');
  assert.equal(one('dhcp.hostname')[0]?.ip, undefined);
  assert.equal(one('dhcp.vendor_class')[0]?.value, 'MSFT 5.0');
  assert.equal(one('os').length, 0); // "MSFT 5.0" does not name a release
  assert.equal(one('dhcp.param_list')[0]?.value, '1,15,3,6,44,46,47,31,33,121,249,43,252');
  assert.equal(one('dhcp.fqdn')[0]?.value, 'CT-WS-07');
  assert.equal(one('dhcp.requested_ip')[0]?.value, '10.10.1.20');
  assert.equal(one('dhcp.options')[0]?.value, '53,61,50,12,81,60,55');
  assert.equal(one('dhcp.client_id')[0]?.value, '01:00:14:22:0a:0b:0c');
  assert.deepEqual([one('dhcp.assigned_ip')[0]?.value, one('dhcp.assigned_ip')[0]?.mac, one('dhcp.assigned_ip')[0]?.ip], ['10.10.1.20', '00:14:22:0a:0b:0c', '10.10.1.20']);
  // The server sent it itself: its MAC is the packet's source MAC.
  const sid = one('dhcp.server_id')[0];
  assert.deepEqual([sid?.value, sid?.ip, sid?.mac, sid?.side], ['10.60.1.10', '10.60.1.10', '02:00:00:00:00:02', 'server']);
  assert.equal(one('dhcp.domain')[0]?.value, 'simhosp.example');
  assert.equal(one('dhcp.router')[0]?.value, '10.10.0.1');
  assert.equal(one('dhcp.dns_servers')[0]?.value, '10.60.1.11');
  assert.equal(one('dhcp.lease_time')[0]?.value, '28800');
});

/** A BOOTP message built by hand: op, chaddr, then raw option bytes (after the cookie), sname and file. */
function bootp(op: 1 | 2, o: { options: number[]; sname?: number[]; file?: number[]; htype?: number; hlen?: number; ciaddr?: number[]; yiaddr?: number[] }): Buffer {
  const b = Buffer.alloc(240 + o.options.length);
  b[0] = op;
  b[1] = o.htype ?? 1;
  b[2] = o.hlen ?? 6;
  Buffer.from(o.ciaddr ?? [0, 0, 0, 0]).copy(b, 12);
  Buffer.from(o.yiaddr ?? [0, 0, 0, 0]).copy(b, 16);
  Buffer.from('a0b1c2d3e4f5', 'hex').copy(b, 28);
  Buffer.from(o.sname ?? []).copy(b, 44);
  Buffer.from(o.file ?? []).copy(b, 108);
  b.writeUInt32BE(0x63825363, 236);
  Buffer.from(o.options).copy(b, 240);
  return b;
}
const str = (code: number, s: string) => [code, s.length, ...Buffer.from(s, 'latin1')];

test('hand-built: overload of both file and sname (file first), RFC 3396 split options, FQDN in wire format, a relayed request', () => {
  const ctx = new FakeContext();
  ctx.clientIp = '10.9.9.1'; // the relay agent sends it, not the client
  const msg = bootp(1, {
    options: [53, 1, 3, 52, 1, 3, ...str(12, 'INFU'), 0, 0, ...str(12, 'SION-07'), 255],
    file: [...str(60, 'dhcpcd-9.4.1:Linux-5.10.0-rt:armv7l:Pump'), 255],
    sname: [81, 13, 0x04, 0, 0, 4, ...Buffer.from('pump'), 3, ...Buffer.from('icu'), 0, 55, 3, 1, 3, 6, 255],
  });
  assert.ok(dhcp.probe(msg, 0, true));
  dhcp.datagram?.(msg, ctx);
  assert.deepEqual(ctx.values('dhcp.hostname'), ['INFUSION-07']);
  assert.deepEqual(ctx.values('dhcp.vendor_class'), ['dhcpcd-9.4.1:Linux-5.10.0-rt:armv7l:Pump']);
  assert.deepEqual(ctx.values('os'), ['Linux 5.10.0-rt']);
  assert.deepEqual(ctx.values('dhcp.fqdn'), ['pump.icu']);
  assert.deepEqual(ctx.values('dhcp.param_list'), ['1,3,6']);
  assert.deepEqual(ctx.values('dhcp.options'), ['53,52,12,12,60,81,55']);
  assert.ok(ctx.drafts.every((d) => d.mac === 'a0:b1:c2:d3:e4:f5' && d.ip === undefined && d.side === 'client'));
});

test('hand-built: non-Ethernet chaddr falls back to ciaddr; nothing to name the client, nothing emitted; truncated options stop cleanly', () => {
  const ctx = new FakeContext();
  dhcp.datagram?.(bootp(1, { htype: 6, hlen: 6, ciaddr: [10, 1, 2, 3], options: [53, 1, 8, ...str(12, 'tok'), 255] }), ctx);
  assert.deepEqual(ctx.drafts.map((d) => [d.attribute, d.value, d.mac, d.ip]), [
    ['dhcp.message_type', 'INFORM', undefined, '10.1.2.3'],
    ['dhcp.hostname', 'tok', undefined, '10.1.2.3'],
    ['dhcp.options', '53,12', undefined, '10.1.2.3'],
  ]);
  const none = new FakeContext();
  dhcp.datagram?.(bootp(1, { htype: 6, options: [53, 1, 1, 255] }), none);
  assert.equal(none.drafts.length, 0);
  const cut = new FakeContext();
  dhcp.datagram?.(bootp(1, { options: [53, 1, 1, 12, 40, 65, 66] }), cut);
  assert.deepEqual(cut.values('dhcp.options'), ['53']);
  assert.deepEqual(cut.values('dhcp.hostname'), []);
});

test('probe: BOOTP op and cookie; off-port only Ethernet chaddr; not HTTP, not DNS, not short', () => {
  const req = bootp(1, { options: [53, 1, 1, 255] });
  assert.ok(dhcp.probe(req, 0, true));
  assert.ok(dhcp.probe(req, 0, false));
  assert.ok(!dhcp.probe(bootp(1, { htype: 6, options: [53, 1, 1, 255] }), 0, false));
  assert.ok(!dhcp.probe(bootp(3 as 1, { options: [255] }), 0, true));
  assert.ok(!dhcp.probe(req.subarray(0, 239), 0, true));
  assert.ok(!dhcp.probe(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(12)), 0, true));
  assert.equal(osFromVendorClass('android-dhcp-11'), 'Android 11');
  assert.equal(osFromVendorClass('MSFT 5.0'), undefined);
});

test('property: random and mutated DHCP messages never throw; probe rejects non-DHCP', () => {
  const os: OsProfile = { name: 'x', version: '1', family: 'linux', ttl: 64, tcp: { window: 1, mss: 1, options: 'mss', df: true }, dhcp: { paramList: '1,3,6' } };
  const seeds = [
    dhcpClientMessage(DhcpType.REQUEST, { mac: Buffer.alloc(6, 1), hostname: 'h', os, xid: 1 }),
    bootp(2, { options: [53, 1, 2, 52, 1, 3, 54, 4, 10, 0, 0, 1, 255], file: [3, 4, 10, 0, 0, 1, 255], sname: [6, 8, 10, 0, 0, 2, 10, 0, 0, 3, 255], yiaddr: [10, 0, 0, 9] }),
  ];
  const ctx = new FakeContext();
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
        fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 12 }), fc.nat(400)).map(([s, e, cut]) => {
          const b = Buffer.from(s);
          for (const [i, v] of e) b[i % 2 === 0 ? 240 + (i % (b.length - 240)) : i % b.length] = v;
          return b.subarray(0, Math.max(236, b.length - cut));
        }),
      ),
      (b) => {
        if (dhcp.probe(b, 0, true)) dhcp.datagram?.(b, ctx);
        dhcp.probe(b, 1, false);
        dhcp.datagram?.(b, ctx);
      },
    ),
    { numRuns: 500 },
  );
  assert.ok(!dhcp.probe(Buffer.from('GET / HTTP/1.1\r\n'), 0, true));
});
