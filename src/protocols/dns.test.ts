import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dns, dnsTcp } from './dns.ts';
import { mdns } from './mdns.ts';
import { llmnr } from './llmnr.ts';
import { netbios } from './netbios.ts';
import { parseDns, plausibleDnsHeader, readName, rdataIpv6 } from './dns-wire.ts';
import { corpus, hasTshark, observeCapture, tsharkFields } from '../../test/helpers/observe.ts';
import { FakeContext, runStream, split } from '../../test/helpers/dissect.ts';
import { message, pointer, question, rr, wireName } from '../../test/helpers/dns-build.ts';
import { dnsAnswer, dnsQuery } from '../simulate/payloads/dns.ts';
import { mdnsAnnouncement } from '../simulate/payloads/mdns.ts';

const NAME_PROTOCOLS = [dns, mdns, llmnr, netbios];
const A = (a: number, b: number, c: number, d: number) => Buffer.from([a, b, c, d]);

// ---- the wire reader -------------------------------------------------------------------------

test('names: compression, root, and the RFC 1035 limits', () => {
  // "www.vendor.example" at 12, then "api" + pointer to "vendor.example" (offset 16).
  const m = Buffer.concat([Buffer.alloc(12), wireName('www.vendor.example'), Buffer.from([3]), Buffer.from('api'), pointer(16)]);
  assert.deepEqual(readName(m, 12), { name: 'www.vendor.example', next: 32 });
  assert.deepEqual(readName(m, 32), { name: 'api.vendor.example', next: 38 });
  assert.deepEqual(readName(Buffer.from([0]), 0), { name: '', next: 1 });
  // 255 octets is the most a name may have on the wire: 4 × 63-byte labels (256 octets) is refused.
  const long = Buffer.concat([...Array.from({ length: 4 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0])]);
  assert.equal(readName(long, 0), undefined);
  const ok = Buffer.concat([...Array.from({ length: 3 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([61]), Buffer.alloc(61, 0x61), Buffer.from([0])]);
  assert.equal(readName(ok, 0)?.name.length, 253); // 255 wire octets: the longest name there is
  // Label types 0x40 / 0x80 and names running off the end.
  assert.equal(readName(Buffer.from([0x41, 0]), 0), undefined);
  assert.equal(readName(Buffer.from([5, 0x61, 0x62]), 0), undefined);
  assert.equal(readName(Buffer.from([0xc0]), 0), undefined);
});

test('compression pointer loops, self and forward pointers are refused', () => {
  // Self-pointer in the question.
  assert.equal(parseDns(Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])), undefined);
  // Forward pointer.
  assert.equal(readName(Buffer.from([0xc0, 4, 0, 0, 3, 0x61, 0x62, 0x63, 0]), 0), undefined);
  // Backward, yet a loop: label "a" at 2, then a pointer at 4 back to 2 — each jump goes backwards
  // from where it is, but into what the name already visited.
  assert.equal(readName(Buffer.from([0, 0, 1, 0x61, 0xc0, 2]), 2), undefined);
  // Two names pointing at each other.
  const mutual = Buffer.concat([Buffer.alloc(12), Buffer.from([1, 0x61]), pointer(18), Buffer.from([0, 0]), Buffer.from([1, 0x62]), pointer(12)]);
  assert.equal(readName(mutual, 18), undefined);
  assert.equal(readName(mutual, 12), undefined);
});

test('record sections: counts are capped and a broken record ends its section, keeping what came before', () => {
  const good = rr('a.example', 1, A(1, 2, 3, 4));
  const m = message({ flags: 0x8180, questions: [question('a.example', 1)], answers: [good, good, Buffer.from([0xc0, 0xff])] });
  m.writeUInt16BE(1000, 6);
  const parsed = parseDns(m);
  assert.equal(parsed?.questions[0]?.name, 'a.example');
  assert.equal(parsed?.answers.length, 2);
  assert.equal(parseDns(Buffer.alloc(11)), undefined);
});

test('AAAA text form is RFC 5952 (longest zero run compressed)', () => {
  const b = Buffer.from('20010db8000000010000000000000001', 'hex');
  assert.equal(rdataIpv6(b, { name: '', type: 28, cls: 1, ttl: 0, rdata: 0, rdlength: 16 }), '2001:db8:0:1::1');
});

test('probe: DNS-shaped payloads on the port only; junk and off-port refused', () => {
  const q = dnsQuery(7, 'updates.vendor.example');
  assert.equal(dns.probe(q, 0, true), true);
  assert.equal(dns.probe(q, 0, false), false);
  assert.equal(dns.probe(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 0, true), false);
  assert.equal(dns.probe(Buffer.alloc(40), 0, true), false); // all counts zero
  const z = Buffer.from(q);
  z[3] = (z[3] as number) | 0x40; // reserved Z bit
  assert.equal(plausibleDnsHeader(z), false);
  const lead = Buffer.from(q);
  lead[12] = 0xc0; // first name cannot start with a pointer
  assert.equal(plausibleDnsHeader(lead), false);
});

// ---- DNS ----------------------------------------------------------------------------------------

test('query → dns.query (client); answer → dns.server and dns.resolved (name TYPE target), CNAME chain included', () => {
  const ctx = new FakeContext();
  dns.datagram?.(dnsQuery(5, 'updates.vendor.example'), ctx);
  ctx.dir = 1;
  const answer = message({
    id: 5,
    flags: 0x8180,
    questions: [question('updates.vendor.example', 1)],
    answers: [rr(pointer(12), 5, wireName('d1.cloudfront.example')), rr('d1.cloudfront.example', 1, A(203, 0, 113, 9)), rr('d1.cloudfront.example', 28, Buffer.from('20010db8000000000000000000000009', 'hex'))],
  });
  dns.datagram?.(answer, ctx);
  assert.deepEqual(
    ctx.drafts.map((d) => [d.side, d.attribute, d.value]),
    [
      ['client', 'dns.query', 'updates.vendor.example'],
      ['server', 'dns.server', 'recursive'],
      ['client', 'dns.resolved', 'updates.vendor.example CNAME d1.cloudfront.example'],
      ['client', 'dns.resolved', 'd1.cloudfront.example A 203.0.113.9'],
      ['client', 'dns.resolved', 'd1.cloudfront.example AAAA 2001:db8::9'],
    ],
  );
  assert.equal(ctx.drafts[0]?.evidence, 'A updates.vendor.example');
});

test('sides follow the packet: a capture that starts with the response still puts the server on the answering side', () => {
  const ctx = new FakeContext();
  ctx.dir = 0; // the flow's "client" is whoever spoke first: here the resolver
  dns.datagram?.(dnsAnswer(9, 'pump.vendor.example', [A(198, 51, 100, 7)]), ctx);
  ctx.dir = 1;
  dns.datagram?.(dnsQuery(10, 'pump.vendor.example'), ctx);
  assert.deepEqual(
    ctx.drafts.map((d) => [d.side, d.attribute]),
    [
      ['client', 'dns.server'],
      ['server', 'dns.resolved'],
      ['server', 'dns.query'],
    ],
  );
});

test('NXDOMAIN: the server answered, nothing resolved', () => {
  const ctx = new FakeContext();
  ctx.dir = 1;
  dns.datagram?.(dnsAnswer(3, 'gone.example', []), ctx);
  assert.deepEqual(ctx.values('dns.server'), ['recursive']);
  assert.deepEqual(ctx.values('dns.resolved'), []);
});

test('dynamic update (RFC 2136): the host registering its own name, and a DHCP server registering a client', () => {
  const ctx = new FakeContext();
  ctx.clientIp = '10.20.1.15';
  const update = message({
    flags: 0x2800, // opcode 5
    questions: [question('hospital.local', 6)],
    authority: [
      rr('ct-ws-03.hospital.local', 255, Buffer.alloc(0), { cls: 255, ttl: 0 }), // delete all: skipped
      rr('ct-ws-03.hospital.local', 1, A(10, 20, 1, 15)),
      rr('infusion-07.hospital.local', 1, A(10, 20, 4, 33)),
    ],
  });
  dns.datagram?.(update, ctx);
  assert.deepEqual(
    ctx.drafts.map((d) => [d.attribute, d.value, d.ip, d.mac, d.confidence]),
    [
      ['dns.hostname', 'ct-ws-03.hospital.local', '10.20.1.15', '02:00:00:00:00:01', 0.85],
      ['dns.hostname', 'infusion-07.hospital.local', '10.20.4.33', undefined, 0.65],
    ],
  );
});

test('DNS over TCP: length-prefixed messages, however the stream is cut', () => {
  const q = dnsQuery(1, 'vendor-cloud.example');
  const a = dnsAnswer(1, 'vendor-cloud.example', [A(192, 0, 2, 1)]);
  const frame = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  assert.equal(dnsTcp.probe(frame(q), 0, true), true);
  assert.equal(dnsTcp.probe(q, 0, true), false);
  assert.equal(dnsTcp.probe(frame(q), 0, false), false);
  for (const sizes of [[1], [2, 3], [17], [1000]]) {
    const pieces: Array<[0 | 1, Buffer]> = [...split(Buffer.concat([frame(q), frame(q)]), sizes).map((b): [0 | 1, Buffer] => [0, b]), ...split(frame(a), sizes).map((b): [0 | 1, Buffer] => [1, b])];
    const { ctx } = runStream(dnsTcp, pieces);
    assert.deepEqual(ctx.values('dns.query'), ['vendor-cloud.example', 'vendor-cloud.example'], `sizes ${sizes}`);
    assert.deepEqual(ctx.values('dns.resolved'), ['vendor-cloud.example A 192.0.2.1']);
  }
});

test('DNS over TCP: a message too big to hold is read from its start and the rest skipped', () => {
  const big = message({ flags: 0x8400, questions: [question('zone.example', 252)], answers: Array.from({ length: 600 }, (_, i) => rr(pointer(12), 1, A(10, 0, i >> 8, i & 0xff))) });
  const framed = Buffer.concat([Buffer.from([big.length >> 8, big.length & 0xff]), big]);
  const s = dnsTcp.openStream?.(new FakeContext());
  assert.ok(s !== undefined);
  const ctx = new FakeContext();
  ctx.dir = 1;
  s.data(framed.subarray(0, 5000), ctx);
  assert.equal(s.skippable?.(1), framed.length - 5000);
  assert.equal(ctx.values('dns.server').length, 1);
  assert.equal(ctx.values('dns.resolved').length, 8);
});

// ---- real captures ----------------------------------------------------------------------------

test('DNS queries agree with tshark (phone and IoMT captures)', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  for (const rel of ['pcaps/identity/ndpi/android.pcap', 'pcaps/medical/iomt-consumer/wyzescale/wyzescale__wifi__2_9.pcap', 'pcaps/identity/ndpi/netbios_wildcard_dns_query.pcap']) {
    const path = corpus(rel);
    const { observations } = await observeCapture(path, { dissectors: NAME_PROTOCOLS, allObservations: true });
    const rows = tsharkFields(path, ['frame.number', 'dns.qry.name'], { filter: 'dns && dns.flags.response == 0 && udp.port == 53' });
    assert.ok(rows.length >= 1, rel);
    for (const [frame, name] of rows) {
      const got = observations.filter((o) => o.frame === Number(frame) && o.attribute === 'dns.query').map((o) => o.value);
      assert.deepEqual(got, (name ?? '').split(',').slice(0, 4), `${rel} frame ${frame}`);
    }
  }
});

test('DNS answers (A, AAAA, CNAME) agree with tshark record by record', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  for (const rel of ['pcaps/identity/ndpi/android.pcap', 'pcaps/medical/iomt-consumer/wyzescale/wyzescale__wifi__2_9.pcap']) {
    const path = corpus(rel);
    const { observations } = await observeCapture(path, { dissectors: NAME_PROTOCOLS, allObservations: true });
    const rows = tsharkFields(path, ['frame.number', 'dns.count.answers', 'dns.resp.name', 'dns.resp.type', 'dns.a', 'dns.aaaa', 'dns.cname'], { filter: 'dns && dns.flags.response == 1 && dns.flags.rcode == 0 && udp.port == 53' });
    let checked = 0;
    for (const [frame, count, names, types, a, aaaa, cname] of rows) {
      // tshark lists every section's records in order; the typed fields fill in as their types come.
      const pools: Record<string, string[]> = { '1': (a ?? '').split(','), '28': (aaaa ?? '').split(','), '5': (cname ?? '').split(',') };
      const mnemonic: Record<string, string> = { '1': 'A', '28': 'AAAA', '5': 'CNAME' };
      const nameList = (names ?? '').split(',');
      const expected: string[] = [];
      (types ?? '').split(',').forEach((t, i) => {
        const target = pools[t]?.shift();
        if (i < Number(count) && target !== undefined && expected.length < 8) expected.push(`${nameList[i]} ${mnemonic[t]} ${target}`);
      });
      const got = observations.filter((o) => o.frame === Number(frame) && o.attribute === 'dns.resolved').map((o) => o.value);
      assert.deepEqual(got, expected, `${rel} frame ${frame}`);
      checked += expected.length;
    }
    assert.ok(checked > 10, `${rel}: ${checked} answers checked`);
  }
});

// ---- robustness --------------------------------------------------------------------------------

test('property: random and mutated name-service packets never throw, over UDP and TCP', () => {
  const seeds = [
    dnsQuery(1, 'a.example.com'),
    dnsAnswer(2, 'b.example', [A(1, 2, 3, 4)]),
    mdnsAnnouncement({ instance: 'x', service: '_http._tcp', host: 'h', ip: A(1, 2, 3, 4), port: 80, txt: { md: 'm' } }),
    message({ flags: 0x2800, questions: [question('z.example', 6)], authority: [rr('h.z.example', 1, A(10, 0, 0, 1))] }),
  ];
  const packet = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 })).map(([s, e]) => {
      const b = Buffer.from(s);
      for (const [i, v] of e) b[i % b.length] = v;
      return b;
    }),
  );
  const ctx = new FakeContext();
  fc.assert(
    fc.property(packet, fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 4 }), (b, sizes) => {
      for (const d of NAME_PROTOCOLS) {
        d.probe(b, 0, true);
        d.datagram?.(b, ctx);
      }
      dnsTcp.probe(b, 0, true);
      const framed = Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
      runStream(dnsTcp, split(framed, sizes).map((x): [0 | 1, Buffer] => [0, x]), new FakeContext());
      runStream(dnsTcp, split(b, sizes).map((x): [0 | 1, Buffer] => [1, x]), new FakeContext());
    }),
    { numRuns: 500 },
  );
});
