import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { osFromProductTokens, ssdp } from './ssdp.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import { ssdpNotify } from '../simulate/payloads/ssdp.ts';
import { pcapHeader, pcapRecord } from '../capture/writer.ts';
import { udpFrame } from '../packet/build.ts';

/** The pcaps these tests write for tshark, removed after them. */
const TMP = mkdtempSync(join(tmpdir(), 'vigil-ssdp-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const skip = !hasTshark() && 'tshark not installed';

/** tshark shows SSDP headers as HTTP request/response lines ("ST: urn:…\r\n"): the value of one. */
function header(lines: string | undefined, name: string): string | undefined {
  for (const l of (lines ?? '').split(/\\r\\n,?/)) {
    const m = /^([^:]+):\s*(.*)$/.exec(l);
    if (m !== null && (m[1] as string).toUpperCase() === name) return (m[2] as string).trim();
  }
  return undefined;
}

for (const rel of ['pcaps/identity/ndpi/ssdp-m-search-ua.pcap', 'pcaps/identity/ndpi/iphone.pcap', 'pcaps/identity/ndpi/android.pcap']) {
  test(`M-SEARCH: user agent and search target as tshark reads them, about the searcher: ${rel}`, { skip }, async () => {
    const path = corpus(rel);
    const { observations, report } = await observeCapture(path, { dissectors: [ssdp], allObservations: true });
    assert.equal(report.dissectors.ssdp?.errors ?? 0, 0);
    const rows = tsharkFields(path, ['frame.number', 'ip.src', 'eth.src', 'http.user_agent', 'http.request.line'], { filter: 'ssdp' });
    assert.ok(rows.length > 0);
    for (const [frame, ip, mac, ua, lines] of rows) {
      const here = observations.filter((o) => o.frame === Number(frame));
      const at = (a: string) => here.filter((o) => o.attribute === a).map((o) => o.value);
      assert.deepEqual(at('ssdp.user_agent'), ua === '' || ua === undefined ? [] : [ua], `frame ${frame} user agent`);
      const st = header(lines, 'ST');
      assert.deepEqual(at('ssdp.st'), st === undefined ? [] : [st], `frame ${frame} ST`);
      for (const o of here) assert.deepEqual([o.ip, o.mac], [ip, mac], `frame ${frame} subject`);
    }
  });
}

test('a Plex GDM search on port 32412 ("M-SEARCH * HTTP/1.1" and nothing else) is claimed but says nothing', async () => {
  const { observations, report } = await observeCapture(corpus('pcaps/identity/ndpi/ssdp-m-search.pcap'), { dissectors: [ssdp], allObservations: true });
  assert.equal(report.dissectors.ssdp?.errors ?? 0, 0);
  assert.equal(report.dissectors.ssdp?.flows, 1);
  assert.deepEqual(observations, []);
});

const DEVICE = { ip: '10.0.0.5', mac: '02:00:00:00:00:05' };
const SEARCHER = { ip: '10.0.0.9', mac: '02:00:00:00:00:09' };

/** Writes Ethernet/IPv4/UDP frames to a temporary pcap, for the sensor and tshark to read the same bytes. */
function writeUdpPcap(name: string, packets: Array<{ src: typeof DEVICE; dst: { ip: string; mac: string }; sport: number; dport: number; payload: Buffer }>): string {
  const opts = { linkType: 1 };
  const recs = packets.map((p, i) => pcapRecord(opts, 1_700_000_000 + i, 0, udpFrame({ src: p.src.mac, dst: p.dst.mac }, { src: p.src.ip, dst: p.dst.ip }, { srcPort: p.sport, dstPort: p.dport }, p.payload)));
  const path = join(TMP, name);
  writeFileSync(path, Buffer.concat([pcapHeader(opts), ...recs]));
  return path;
}

const MULTICAST = { ip: '239.255.255.250', mac: '01:00:5e:7f:ff:fa' };
const SERVER = 'Linux/4.9.206 UPnP/1.0 Philips-IntelliVue-Gateway/2.3.1';
const crlf = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

test('a device’s NOTIFY and its answer to a search: SERVER, LOCATION, USN, NT/ST as tshark reads them, all about the device', { skip }, async () => {
  const path = writeUdpPcap('upnp.pcap', [
    { src: DEVICE, dst: MULTICAST, sport: 1900, dport: 1900, payload: ssdpNotify({ location: 'http://10.0.0.5:49152/description.xml', server: SERVER, usn: 'uuid:4d696e69-444c-164e-9d41-0002a5d5c51b::upnp:rootdevice', nt: 'upnp:rootdevice' }) },
    { src: SEARCHER, dst: MULTICAST, sport: 50000, dport: 1900, payload: crlf(['M-SEARCH * HTTP/1.1', 'HOST: 239.255.255.250:1900', 'MAN: "ssdp:discover"', 'MX: 2', 'ST: ssdp:all', 'USER-AGENT: Microsoft-Windows/10.0 UPnP/1.0']) },
    { src: DEVICE, dst: SEARCHER, sport: 1900, dport: 50000, payload: crlf(['HTTP/1.1 200 OK', 'CACHE-CONTROL: max-age=1800', 'EXT:', 'LOCATION: http://10.0.0.5:49152/description.xml', `SERVER: ${SERVER}`, 'ST: urn:schemas-upnp-org:device:MediaServer:1', 'USN: uuid:4d696e69-444c-164e-9d41-0002a5d5c51b::urn:schemas-upnp-org:device:MediaServer:1']) },
  ]);
  const { observations } = await observeCapture(path, { dissectors: [ssdp], allObservations: true });
  const rows = tsharkFields(path, ['frame.number', 'http.server', 'http.location', 'http.user_agent', 'http.request.line', 'http.response.line', 'http.unknown_header'], { filter: 'ssdp' });
  assert.equal(rows.length, 3);
  for (const [frame, server, location, ua, req, resp, unknown] of rows) {
    const at = (a: string) => observations.filter((o) => o.frame === Number(frame) && o.attribute === a).map((o) => o.value);
    // tshark 4.0 files a NOTIFY's headers other than SERVER and LOCATION under http.unknown_header.
    const lines = [req, resp, unknown].filter((x) => x !== undefined && x !== '').join(',');
    if (server !== '') assert.deepEqual(at('ssdp.server'), [server], `frame ${frame} server`);
    if (location !== '') assert.deepEqual(at('ssdp.location'), [location], `frame ${frame} location`);
    if (ua !== '') assert.deepEqual(at('ssdp.user_agent'), [ua], `frame ${frame} user agent`);
    assert.deepEqual(at('ssdp.usn'), [header(lines, 'USN')].filter((x) => x !== undefined), `frame ${frame} USN`);
    assert.deepEqual(at('ssdp.nt'), [header(lines, 'NT')].filter((x) => x !== undefined), `frame ${frame} NT`);
    assert.deepEqual(at('ssdp.st'), [header(lines, 'ST')].filter((x) => x !== undefined), `frame ${frame} ST`);
  }
  // Subjects: the packet's sender, whichever end of the flow it is.
  for (const o of observations) {
    const who = o.frame === 2 ? SEARCHER : DEVICE;
    assert.deepEqual([o.ip, o.mac], [who.ip, who.mac], `frame ${o.frame} ${o.attribute}`);
  }
  assert.deepEqual(values(observations, 'os'), ['Linux 4.9.206', 'Windows 10 / 11 (10.0)', 'Linux 4.9.206']);
});

test('hand-fed: header names in any case, bare LF, first occurrence wins, byebye without SERVER; nothing before the start line', () => {
  const ctx = new FakeContext();
  ctx.dir = 1;
  ssdp.datagram?.(Buffer.from('NOTIFY * HTTP/1.1\nHost: 239.255.255.250:1900\nnt: urn:schemas-upnp-org:device:InfusionPump:1\nNTS: ssdp:byebye\nUsn: uuid:1::urn:x\nUSN: uuid:2\n\nSERVER: after-the-end\n', 'latin1'), ctx);
  assert.deepEqual(ctx.drafts.map((d) => [d.attribute, d.value, d.side, d.ip]), [
    ['ssdp.usn', 'uuid:1::urn:x', 'server', '10.0.0.2'],
    ['ssdp.nt', 'urn:schemas-upnp-org:device:InfusionPump:1', 'server', '10.0.0.2'],
  ]);
  const none = new FakeContext();
  ssdp.datagram?.(Buffer.from('HTTP/1.1 404 Not Found\r\nSERVER: x\r\n\r\n'), none);
  ssdp.datagram?.(Buffer.from('GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n'), none);
  assert.equal(none.drafts.length, 0);
});

test('probe: the SSDP start lines; a 200 only on port 1900; not HTTP requests', () => {
  assert.ok(ssdp.probe(Buffer.from('NOTIFY * HTTP/1.1\r\n'), 0, false));
  assert.ok(ssdp.probe(Buffer.from('M-SEARCH * HTTP/1.1\r\n'), 0, false));
  assert.ok(ssdp.probe(Buffer.from('HTTP/1.1 200 OK\r\n'), 1, true));
  assert.ok(!ssdp.probe(Buffer.from('HTTP/1.1 200 OK\r\n'), 1, false));
  assert.ok(!ssdp.probe(Buffer.from('HTTP/1.1 404 Not Found\r\n'), 1, true));
  assert.ok(!ssdp.probe(Buffer.from('GET / HTTP/1.1\r\n'), 0, true));
  assert.ok(!ssdp.probe(Buffer.from('NOTIFY'), 0, true));
});

test('OS from the first product token, only well-known systems with a numeric version', () => {
  assert.equal(osFromProductTokens('Linux/3.10.0 UPnP/1.0 Sonos/57.3-79200'), 'Linux 3.10.0');
  assert.equal(osFromProductTokens('Microsoft-Windows-NT/5.1 UPnP/1.0 UPnP-Device-Host/1.0'), 'Windows XP (5.1)');
  assert.equal(osFromProductTokens('Windows NT/6.1, UPnP/1.0'), 'Windows 7 / Server 2008 R2 (6.1)');
  assert.equal(osFromProductTokens('Android/9 UPnP/1.0 Cling/2.0'), 'Android 9');
  assert.equal(osFromProductTokens('Linux/2.x.x, UPnP/1.0, pvConnect UPnP SDK/1.0'), undefined);
  assert.equal(osFromProductTokens('Unspecified, UPnP/1.0, Unspecified'), undefined);
  assert.equal(osFromProductTokens('Google Chrome/99.0.4844.74 Mac OS X'), undefined);
});

test('property: random and mutated SSDP datagrams never throw', () => {
  const seeds = [ssdpNotify({ location: 'http://h/d.xml', server: SERVER, usn: 'uuid:u', nt: 'upnp:rootdevice' }), crlf(['HTTP/1.1 200 OK', 'ST: a', 'USN: b', 'SERVER: c']), crlf(['M-SEARCH * HTTP/1.1', 'ST: ssdp:all', 'USER-AGENT: x'])];
  const ctx = new FakeContext();
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.constantFrom(0x0a, 0x0d, 0x3a, 0x20, 0x00, 0xff, 0x41)), { maxLength: 8 }), fc.nat(60)).map(([s, e, cut]) => {
          const b = Buffer.from(s);
          for (const [i, v] of e) b[20 + (i % (b.length - 20))] = v;
          return b.subarray(0, Math.max(0, b.length - cut));
        }),
      ),
      (b) => {
        if (ssdp.probe(b, 0, true)) ssdp.datagram?.(b, ctx);
        ssdp.datagram?.(b, ctx);
      },
    ),
    { numRuns: 500 },
  );
});
