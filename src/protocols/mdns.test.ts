import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mdns } from './mdns.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import { message, pointer, question, rr, srv, txt, wireName } from '../../test/helpers/dns-build.ts';
import { mdnsAnnouncement } from '../simulate/payloads/mdns.ts';

/**
 * Every resource record of the matching packets as tshark's detail tree labels it
 * ("Lucas-iMac.local: type A, class IN, cache flush, addr 192.168.2.1"): the -T fields columns
 * cannot be zipped per record (SRV owners and NSEC bitmaps have fields of their own).
 */
function tsharkRecords(path: string, filter: string): Array<{ name: string; type: string; data: string }> {
  const out = execFileSync('tshark', ['-n', '-r', path, '-Y', filter, '-T', 'json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  const records: Array<{ name: string; type: string; data: string }> = [];
  for (const pkt of JSON.parse(out) as Array<{ _source: { layers: Record<string, Record<string, unknown>> } }>) {
    const dns = pkt._source.layers.mdns ?? pkt._source.layers.dns ?? {};
    for (const section of ['Answers', 'Additional records']) {
      for (const label of Object.keys((dns[section] as Record<string, unknown> | undefined) ?? {})) {
        const m = /^(.*): type (\w+), class \w+(?:, cache flush)?(?:, (.*))?$/.exec(label);
        if (m !== null) records.push({ name: m[1] as string, type: m[2] as string, data: m[3] ?? '' });
      }
    }
  }
  return records;
}

const A = (a: number, b: number, c: number, d: number) => Buffer.from([a, b, c, d]);

test('announcement: hostname, service, instance and identifying TXT keys, about the sender', () => {
  const ctx = new FakeContext();
  ctx.dir = 1; // whoever sent it — flow direction does not matter, the override does
  ctx.srcMac = '00:40:8c:01:02:03';
  mdns.datagram?.(
    mdnsAnnouncement({ instance: 'HP LaserJet M507 (PRN03)', service: '_ipp._tcp', host: 'PRN03', ip: A(10, 20, 1, 5), port: 631, txt: { ty: 'HP LaserJet M507', product: '(HP LaserJet M507)', note: 'Ward 3', rp: 'ipp/print', pdl: 'application/pdf', adminurl: '' } }),
    ctx,
  );
  assert.deepEqual(ctx.values('mdns.hostname'), ['PRN03.local']); // from SRV and A: once per packet
  assert.deepEqual(ctx.values('mdns.service'), ['_ipp._tcp.local']);
  assert.deepEqual(ctx.values('mdns.instance'), ['HP LaserJet M507 (PRN03)._ipp._tcp.local']);
  assert.deepEqual(ctx.values('mdns.txt'), ['ty=HP LaserJet M507', 'product=(HP LaserJet M507)', 'note=Ward 3']);
  for (const d of ctx.drafts) {
    assert.equal(d.ip, '10.0.0.2');
    assert.equal(d.mac, '00:40:8c:01:02:03');
  }
});

test('service enumeration, subtypes, reverse PTR, HINFO and osxvers', () => {
  const ctx = new FakeContext();
  const m = message({
    flags: 0x8400,
    answers: [
      rr('_services._dns-sd._udp.local', 12, wireName('_http._tcp.local')),
      rr('_printer._sub._http._tcp.local', 12, Buffer.concat([Buffer.from([3]), Buffer.from('Pump'), pointer(0)]).subarray(0, 0)), // empty rdata: skipped
      rr('_universal._sub._ipp._tcp.local', 12, Buffer.from([4, ...Buffer.from('Mon1'), 4, ...Buffer.from('_ipp'), 4, ...Buffer.from('_tcp'), 5, ...Buffer.from('local'), 0])),
      rr('5.1.20.10.in-addr.arpa', 12, Buffer.from([7, ...Buffer.from('monitor'), 5, ...Buffer.from('local'), 0])),
      rr('monitor.local', 13, txt('X86_64', 'LINUX')),
      rr('Mac._device-info._tcp.local', 16, txt('model=MacBookPro18,3', 'osxvers=21', 'rpBA=59:51:02:2F:A4:FF')),
    ],
  });
  mdns.datagram?.(m, ctx);
  assert.deepEqual(ctx.values('mdns.service'), ['_http._tcp.local', '_ipp._tcp.local']);
  assert.deepEqual(ctx.values('mdns.instance'), ['Mon1._ipp._tcp.local']);
  assert.deepEqual(ctx.values('mdns.hostname'), ['monitor.local']);
  assert.deepEqual(ctx.values('mdns.hinfo'), ['X86_64 LINUX']);
  assert.deepEqual(ctx.values('mdns.txt'), ['model=MacBookPro18,3', 'osxvers=21']);
  assert.deepEqual(ctx.values('os'), ['Linux', 'macOS 12 (Darwin 21)']);
});

test('queries: names asked; known answers are not claims; a probe\'s proposed records are', () => {
  const ctx = new FakeContext();
  const knownAnswer = message({ flags: 0, questions: [question('_ipp._tcp.local', 12), question('1.0.0.10.in-addr.arpa', 12)], answers: [rr('_ipp._tcp.local', 12, Buffer.from([3, ...Buffer.from('PRN'), 0xc0, 12]))] });
  mdns.datagram?.(knownAnswer, ctx);
  assert.deepEqual(ctx.drafts.map((d) => [d.attribute, d.value]), [['mdns.query', '_ipp._tcp.local']]);
  const probe = message({ flags: 0, questions: [question('Infusion-12.local', 255)], authority: [rr('Infusion-12.local', 1, A(10, 9, 8, 7))] });
  const p = new FakeContext();
  mdns.datagram?.(probe, p);
  assert.deepEqual(p.drafts.map((d) => [d.attribute, d.value]), [['mdns.query', 'Infusion-12.local'], ['mdns.hostname', 'Infusion-12.local']]);
});

test('TXT: long blobs and keys that are not identity are skipped; keys are case-insensitive', () => {
  const ctx = new FakeContext();
  mdns.datagram?.(message({ flags: 0x8400, answers: [rr('X._ipp._tcp.local', 16, txt('usb_MFG=GE Healthcare', 'usb_MDL=CARESCAPE', `product=${'x'.repeat(200)}`, 'pw=secret', 'Serial=ABC123', '=x', 'novalue'))] }), ctx);
  assert.deepEqual(ctx.values('mdns.txt'), ['usb_MFG=GE Healthcare', 'usb_MDL=CARESCAPE', 'Serial=ABC123']);
});

test('mDNS on real captures: every instance, host and TXT identity tshark decodes', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  for (const rel of ['peer/zeek/traces/dns__mdns.pcap', 'pcaps/identity/ndpi/iphone.pcap']) {
    const path = corpus(rel);
    const { observations } = await observeCapture(path, { dissectors: [mdns] });
    const instances = new Set<string>();
    const hosts = new Set<string>();
    for (const r of tsharkRecords(path, 'mdns && dns.flags.response == 1')) {
      if ((r.type === 'A' || r.type === 'AAAA') && !r.name.endsWith('.arpa')) hosts.add(r.name);
      if (r.type === 'PTR' && /\._(tcp|udp)\.local$/.test(r.data) && !r.data.startsWith('_')) instances.add(r.data);
      if (r.type === 'SRV') hosts.add(r.data.replace(/^.*, target /, ''));
      if (r.type === 'PTR' && r.name.endsWith('.arpa')) hosts.add(r.data);
    }
    assert.ok(hosts.size > 0, rel);
    assert.deepEqual(new Set(values(observations, 'mdns.hostname')), hosts, `${rel} hostnames`);
    const ours = new Set(values(observations, 'mdns.instance'));
    for (const i of instances) assert.ok(ours.has(i), `${rel}: instance ${i}`);
    // Queries: every non-reverse question name tshark shows in a query (the first 24 of a packet).
    const asked = new Set(tsharkFields(path, ['dns.qry.name'], { filter: 'mdns && dns.flags.response == 0' }).flatMap(([x]) => (x ?? '').split(',').slice(0, 24)).filter((x) => x !== '' && !x.endsWith('.arpa')));
    assert.deepEqual(new Set(values(observations, 'mdns.query')), asked, `${rel} queries`);
    for (const o of observations) assert.ok(o.ip !== undefined || o.mac !== undefined);
  }
  const iphone = await observeCapture(corpus('pcaps/identity/ndpi/iphone.pcap'), { dissectors: [mdns] });
  const txts = values(iphone.observations, 'mdns.txt');
  assert.ok(txts.includes('model=iMac11,3') && txts.includes('osxvers=17'), txts.join(' '));
  assert.ok(!txts.some((t) => t.startsWith('rpBA=')));
  // The iMac speaks from three addresses (IPv4, link-local IPv4, IPv6): one OS for each.
  assert.deepEqual([...new Set(values(iphone.observations, 'os'))], ['macOS 10.13 (Darwin 17)']);
  assert.ok(values(iphone.observations, 'mdns.service').includes('_smb._tcp.local'));
});

test('property: random and mutated mDNS packets never throw', () => {
  const seed = mdnsAnnouncement({ instance: 'Cam (C1)', service: '_axis-video._tcp', host: 'c1', ip: A(1, 2, 3, 4), port: 80, txt: { md: 'M3045', fv: '9.80' } });
  const hinfo = message({ flags: 0x8400, answers: [rr('h.local', 13, txt('ARM', 'LINUX')), rr('h._http._tcp.local', 33, srv(80, 'h.local'))] });
  const ctx = new FakeContext();
  fc.assert(
    fc.property(fc.constantFrom(seed, hinfo), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 10 }), (s, edits) => {
      const b = Buffer.from(s);
      for (const [i, v] of edits) b[i % b.length] = v;
      mdns.probe(b, 0, true);
      mdns.datagram?.(b, ctx);
    }),
    { numRuns: 500 },
  );
});
