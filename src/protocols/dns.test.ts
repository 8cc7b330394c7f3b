import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { dns } from './dns.ts';
import { mdns } from './mdns.ts';
import { llmnr } from './llmnr.ts';
import { netbios } from './netbios.ts';
import { parseDns, readName } from './dns-wire.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import { dnsAnswer, dnsQuery } from '../simulate/payloads/dns.ts';
import { mdnsAnnouncement } from '../simulate/payloads/mdns.ts';

const NAME_PROTOCOLS = [dns, mdns, llmnr, netbios];

test('DNS queries and answers agree with tshark on a real phone capture', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const path = corpus('pcaps/identity/ndpi/android.pcap');
  const { observations } = await observeCapture(path, { dissectors: NAME_PROTOCOLS, allObservations: true });
  const rows = tsharkFields(path, ['frame.number', 'dns.qry.name'], { filter: 'dns && dns.flags.response == 0 && udp.port == 53' });
  assert.ok(rows.length > 3);
  for (const [frame, name] of rows) {
    const got = observations.filter((o) => o.frame === Number(frame) && o.attribute === 'dns.query').map((o) => o.value);
    assert.deepEqual(got, (name ?? '').split(',').slice(0, 4), `frame ${frame}`);
  }
});

test('mDNS names and services agree with tshark', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  for (const rel of ['peer/zeek/traces/dns__mdns.pcap', 'pcaps/identity/ndpi/iphone.pcap']) {
    const path = corpus(rel);
    const { observations } = await observeCapture(path, { dissectors: NAME_PROTOCOLS });
    const ptrs = new Set(tsharkFields(path, ['dns.ptr.domain_name'], { filter: 'mdns && dns.flags.response == 1' }).flatMap(([x]) => (x ?? '').split(',')).filter((x) => x !== '' && !x.endsWith('.arpa')));
    const ours = new Set(values(observations, 'mdns.instance'));
    for (const p of ptrs) if (/\._(tcp|udp)\.local$/.test(p) && p.split('.').length > 3) assert.ok(ours.has(p), `${rel}: instance ${p}`);
  }
  const iphone = await observeCapture(corpus('pcaps/identity/ndpi/iphone.pcap'), { dissectors: NAME_PROTOCOLS });
  assert.ok(values(iphone.observations, 'mdns.txt').includes('model=iMac11,3'));
});

test('NetBIOS registrations and node status: names, groups and the MAC, as tshark reads them', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const path = corpus('pcaps/identity/ndpi/netbios.pcap');
  const { observations } = await observeCapture(path, { dissectors: NAME_PROTOCOLS });
  const [row] = tsharkFields(path, ['frame.number', 'ip.src', 'nbns.unit_id'], { filter: 'nbns.unit_id' });
  assert.ok(row !== undefined);
  const [frame, ip, mac] = row;
  // The node-status name table is only in tshark's detail view: "Name: GUNNAR<00> (Workstation/Redirector)".
  const detail = execFileSync('tshark', ['-n', '-r', path, '-V', '-Y', `frame.number == ${frame}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const table = [...detail.matchAll(/^\s+Name: (\S+<[0-9a-f]{2}>) \(/gm)].map((m) => m[1] as string);
  assert.equal(table.length, 4);
  const ours = observations.filter((o) => o.ip === ip && (o.attribute === 'netbios.name' || o.attribute === 'netbios.domain')).map((o) => o.value.toUpperCase());
  for (const n of table) assert.ok(ours.includes(n.toUpperCase()), `name ${n} in ${ours.join(' ')}`);
  assert.deepEqual(observations.filter((o) => o.attribute === 'netbios.mac').map((o) => o.value), [mac]);
});

test('simulator round trip: DNS answer, mDNS announcement with model TXT keys', () => {
  const ctx = new FakeContext();
  dns.datagram?.(dnsQuery(5, 'updates.vendor.example'), ctx);
  ctx.dir = 1;
  dns.datagram?.(dnsAnswer(5, 'updates.vendor.example', [Buffer.from([203, 0, 113, 9])]), ctx);
  assert.deepEqual(ctx.values('dns.query'), ['updates.vendor.example']);
  assert.deepEqual(ctx.values('dns.resolved'), ['updates.vendor.example 203.0.113.9']);
  const m = new FakeContext();
  m.srcMac = '00:40:8c:01:02:03';
  mdns.datagram?.(mdnsAnnouncement({ instance: 'HP LaserJet M507 (PRN03)', service: '_ipp._tcp', host: 'PRN03', ip: Buffer.from([10, 20, 1, 5]), port: 631, txt: { ty: 'HP LaserJet M507', product: '(HP LaserJet M507)', note: 'Ward 3', rp: 'ipp/print', pdl: 'application/pdf' } }), m);
  assert.deepEqual(m.values('mdns.hostname'), ['PRN03', 'PRN03']);
  assert.deepEqual(m.values('mdns.txt'), ['ty=HP LaserJet M507', 'product=(HP LaserJet M507)', 'note=Ward 3']);
  assert.equal(m.drafts[0]?.mac, '00:40:8c:01:02:03');
});

test('compression pointer loops and forward pointers are refused', () => {
  const loop = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  assert.equal(parseDns(loop), undefined);
  const fwd = Buffer.from([0xc0, 4, 0, 0, 3, 0x61, 0x62, 0x63, 0]);
  assert.equal(readName(fwd, 0), undefined);
});

test('property: random and mutated name-service packets never throw', () => {
  const seeds = [dnsQuery(1, 'a.example.com'), dnsAnswer(2, 'b.example', [Buffer.from([1, 2, 3, 4])]), mdnsAnnouncement({ instance: 'x', service: '_http._tcp', host: 'h', ip: Buffer.from([1, 2, 3, 4]), port: 80, txt: { md: 'm' } })];
  const ctx = new FakeContext();
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 })).map(([s, e]) => {
      const b = Buffer.from(s);
      for (const [i, v] of e) b[i % b.length] = v;
      return b;
    })), (b) => {
      for (const d of NAME_PROTOCOLS) {
        d.probe(b, 0, true);
        d.datagram?.(b, ctx);
      }
    }),
    { numRuns: 2000 },
  );
});
