import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createTcpFingerprinter, readTcpOptions, tcpFingerprint } from './tcp-fingerprint.ts';
import { matchTcp, p0fDatabase, parseP0f, parseSignature, rawSignature, type TcpObservation } from './p0f-db.ts';
import { frame, generate, hasP0f, oursOnCases, p0fAddress, p0fOnCases, p0fSummary, runP0fAsync, specOf, type GenCase, type PacketSpec } from '../../test/helpers/p0f-differential.ts';
import { corpus, hasCorpus, observeCapture } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import type { Observation } from './observation.ts';
import type { SynIpInfo } from './dissector.ts';

const P0F = hasP0f();
const NO_P0F = !P0F && "Debian's p0f is not installed (apt-get install p0f): cross-check skipped, stored expectations still run";

// ---- Hand-built packets with the results Debian's p0f 3.09b gave for them (stored) ----------

const h = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
const LINUX_OPTS = h('020405b4 0402 080a 0a0b0c0d 00000000 01 030307'); // mss,sok,ts,nop,ws
const WIN7_OPTS = h('020405b4 01 030308 01 01 0402'); // mss,nop,ws,nop,nop,sok
const linux: Partial<PacketSpec> = { ttl: 64, df: true, id: 1234, win: 29200, opts: LINUX_OPTS };
const win7: Partial<PacketSpec> = { ttl: 125, df: true, id: 1000, win: 8192, opts: WIN7_OPTS };

/** [what it shows, SYN fields, SYN+ACK fields or undefined, p0f's SYN line, p0f's SYN+ACK line]. */
const STORED: Array<[string, Partial<PacketSpec>, Partial<PacketSpec> | undefined, string | undefined, string?]> = [
  ['Linux 3.11+', linux, undefined, '4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0 | Linux 3.11 and newer | 0 | exact'],
  ['Windows 7, 3 hops', win7, undefined, '4:125+3:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0 | Windows 7 or 8 | 3 | exact'],
  ['44 hops from its ittl: fuzzy, distance guessed', { ...linux, ttl: 20 }, undefined, '4:20+12:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0 | Linux 3.11 and newer | 12 | fuzzy'],
  ['guessed distance over 35 prints "+?"', { ...linux, ttl: 80 }, undefined, '4:80+?:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0 | Linux 3.11 and newer | 48 | fuzzy'],
  ['payload on a SYN is pclass "+"', { ...linux, payload: 10 }, undefined, '4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:+ | ??? | - | exact'],
  ['non-zero EOL padding in the last byte escapes opt+ (as in p0f)', { ...win7, opts: h('020405b4 00 00 00 41') }, undefined, '4:125+3:0:1460:8192,0:mss,eol+3:df,id+:0 | ??? | - | exact'],
  ['non-zero EOL padding', { ...win7, opts: h('020405b4 00 41 00 00') }, undefined, '4:125+3:0:1460:8192,0:mss,eol+3:df,id+,opt+:0 | ??? | - | exact'],
  ['MSS with length byte 5: bad, parsing goes on 3 bytes later', { ...win7, opts: h('0205 05b4 0402 0000') }, undefined, '4:125+3:0:1460:8192,0:mss,sok,eol+1:df,id+,bad:0 | ??? | - | exact'],
  ['ACK field 1 on a SYN: p0f tests the low bit of the first byte only', { ...win7, ack: 1 }, undefined, '4:125+3:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0 | Windows 7 or 8 | 3 | exact'],
  ['ACK field 0x01000000 on a SYN: ack+', { ...win7, ack: 0x01000000 }, undefined, '4:125+3:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+,ack+:0 | ??? | - | exact'],
  ['NS bit: ecn appearing is a fuzzy match', { ...win7, resv: 1 }, undefined, '4:125+3:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+,ecn:0 | Windows 7 or 8 | 3 | fuzzy'],
  ['NMap SYN scan: a tool, random TTL, no distance', { ttl: 50, id: 4321, win: 1024, opts: h('020405b4') }, undefined, '4:50+14:0:1460:1024,0:mss::0 | NMap SYN scan | - | exact'],
  ['tools never match fuzzily', { ttl: 50, id: 0, win: 1024, opts: h('020405b4') }, undefined, '4:50+14:0:1460:1024,0:mss:id-:0 | Linux 2.2.x-3.x (barebone) | 14 | fuzzy'],
  [
    'SYN+ACK window as a multiple of the peer MSS',
    { ...linux, opts: h('02040578 0402 080a 0a0b0c0d 00000000 01 030307') },
    { ttl: 61, df: true, id: 0, win: 14000, opts: h('020405b4') },
    '4:64+0:0:1400:mss*20,7:mss,sok,ts,nop,ws:df,id+:0 | Linux 3.11 and newer | 0 | exact',
    '4:61+3:0:1460:mss*10,0:mss:df:0 | Linux 3.x | 3 | exact',
  ],
  ['IPv6 with a flow label', { ...linux, v6: true, flow: 0x12345, win: 28800, opts: h('020405a0 0402 080a 0a0b0c0d 00000000 01 030307') }, undefined, '6:64+0:0:1440:mss*20,7:mss,sok,ts,nop,ws:flow:0 | ??? | - | exact'],
  ['SYN+FIN is a scan, not a stack: skipped', { ...linux, flags: 0x03 }, undefined, undefined],
  ['IPv4 fragments are skipped', { ...linux, df: false, fragOff: 0x2000 }, undefined, undefined],
];

function storedCases(): GenCase[] {
  return STORED.map(([, syn, ack], i) => {
    const id = 100 + i;
    const s = specOf(id, false, syn);
    const c: GenCase = { port: s.sport, packets: [{ spec: s, synAck: false }] };
    if (ack !== undefined) c.packets.push({ spec: specOf(id, true, { ...ack, v6: s.v6, src: s.dst, dst: s.src }), synAck: true });
    return c;
  });
}

test('hand-built SYNs and SYN+ACKs get the signatures and labels p0f 3.09b gave them (stored)', () => {
  const cases = storedCases();
  const ours = oursOnCases(cases, createTcpFingerprinter());
  STORED.forEach(([what, , , syn, synAck], i) => {
    const port = cases[i]?.port;
    assert.equal(ours.get(`${port} syn`), syn, what);
    assert.equal(ours.get(`${port} syn+ack`), synAck, what);
  });
});

test('the stored expectations are what the installed p0f says', { skip: NO_P0F }, () => {
  const cases = storedCases();
  const theirs = new Map(p0fOnCases(cases).map((t) => [`${t.port} ${t.mod}`, p0fSummary(t)]));
  STORED.forEach(([what, , , syn, synAck], i) => {
    const port = cases[i]?.port;
    assert.equal(theirs.get(`${port} syn`), syn, what);
    assert.equal(theirs.get(`${port} syn+ack`), synAck, what);
  });
});

// ---- Differential test against the real p0f on generated packets ----------------------------

for (const seed of [1, 2]) {
  test(`generated packets (seed ${seed}): raw signature, label, distance and fuzziness equal Debian p0f's`, { skip: NO_P0F }, () => {
    const cases = generate(p0fDatabase(), seed, 1500);
    const theirs = p0fOnCases(cases);
    const ours = oursOnCases(cases, createTcpFingerprinter());
    const bad: string[] = [];
    const logged = new Set<string>();
    for (const t of theirs) {
      const key = `${t.port} ${t.mod}`;
      logged.add(key);
      if (ours.get(key) !== p0fSummary(t)) bad.push(`${key}\n  p0f : ${p0fSummary(t)}\n  ours: ${ours.get(key)}`);
    }
    // p0f drops a flow once its SYN names a tool, so it never sees that flow's SYN+ACK; Vigil does.
    const toolPorts = new Set(theirs.filter((t) => t.mod === 'syn' && t.app).map((t) => t.port));
    for (const [key, v] of ours) if (!logged.has(key) && !(key.endsWith('syn+ack') && toolPorts.has(Number(key.split(' ')[0])))) bad.push(`${key} only ours: ${v}`);
    assert.ok(theirs.length > 1500, `p0f logged ${theirs.length} lines`);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} differences`);
  });
}

// ---- Real captures -----------------------------------------------------------------------------

interface Line {
  key: string;
  synAck: boolean;
}

/** Vigil's fingerprints of a capture as "ip mod raw | label | dist | fuzzy" lines. */
function oursOnCapture(obs: Observation[]): Line[] {
  const byFrame = new Map<string, Observation[]>();
  for (const o of obs) {
    const k = `${o.frame}|${o.ip}`;
    const list = byFrame.get(k);
    if (list === undefined) byFrame.set(k, [o]);
    else list.push(o);
  }
  const out: Line[] = [];
  for (const list of byFrame.values()) {
    const raw = list.find((o) => o.attribute === 'tcp.fingerprint');
    if (raw === undefined) continue;
    const label = list.find((o) => o.attribute === 'os' || o.attribute === 'tcp.tool')?.value ?? '???';
    const dist = label === '???' ? '-' : (list.find((o) => o.attribute === 'tcp.distance')?.value ?? '-');
    const fuzzy = list.some((o) => o.attribute === 'tcp.p0f_label' && o.evidence?.includes('fuzzy') === true);
    const synAck = raw.evidence === 'SYN+ACK';
    out.push({ key: `${p0fAddress(raw.ip ?? '')} ${synAck ? 'syn+ack' : 'syn'} ${raw.value} | ${label} | ${dist} | ${fuzzy ? 'fuzzy' : 'exact'}`, synAck });
  }
  return out;
}

function captures(dir: string, acc: string[] = []): string[] {
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) captures(p, acc);
    else if (/\.(pcap|pcapng|cap)$/.test(n)) acc.push(p);
  }
  return acc;
}

test('every SYN and SYN+ACK Debian p0f logs in the corpus captures, Vigil fingerprints the same', { skip: NO_P0F || (!hasCorpus() && 'no ../shared/corpus') }, async () => {
  const paths = [...captures(corpus('pcaps')), ...captures(corpus('peer'))];
  // p0f over all captures, a few at a time (it is the slow part).
  const theirsAll: string[][] = [];
  for (let i = 0; i < paths.length; i += 4) {
    const batch = await Promise.all(paths.slice(i, i + 4).map((p) => runP0fAsync(p)));
    for (const lines of batch) theirsAll.push(lines.map((t) => `${t.cli} ${t.mod} ${p0fSummary(t)}`));
  }
  let compared = 0;
  let files = 0;
  for (const [i, path] of paths.entries()) {
    const theirs = theirsAll[i] ?? [];
    if (theirs.length === 0) continue; // no handshakes, or a link layer p0f cannot find IP in
    files++;
    const { observations } = await observeCapture(path, { dissectors: [], synDissectors: [createTcpFingerprinter()], allObservations: true });
    const mine = oursOnCapture(observations);
    const mineKeys = new Set(mine.map((l) => l.key));
    const theirKeys = new Set(theirs);
    const rel = path.slice(corpus('').length);
    for (const t of theirKeys) assert.ok(mineKeys.has(t), `${rel}: p0f logged ${t}`);
    // p0f fingerprints a SYN+ACK only when it tracked the SYN (a capture may start late): Vigil takes them all.
    for (const m of mine) if (!m.synAck) assert.ok(theirKeys.has(m.key), `${rel}: only Vigil logged ${m.key}`);
    compared += theirKeys.size;
  }
  // 445 distinct (host, signature) lines in 60-odd captures when this was written.
  assert.ok(files > 40 && compared > 400, `${compared} lines in ${files} captures`);
});

test('known corpus signatures (stored, so this holds without p0f installed)', { skip: !hasCorpus() && 'no ../shared/corpus' }, async () => {
  const run = async (rel: string): Promise<Set<string>> => {
    const { observations } = await observeCapture(corpus(rel), { dissectors: [], synDissectors: [createTcpFingerprinter()], allObservations: true });
    return new Set(oursOnCapture(observations).map((l) => l.key));
  };
  const dvwa = await run('peer/zeek/traces/http__cooper-grill-dvwa.pcapng');
  assert.ok(dvwa.has('192.168.111.148 syn 4:64+0:0:1460:mss*22,7:mss,sok,ts,nop,ws:df,id+:0 | Linux 2.2.x-3.x | 0 | exact'));
  assert.ok(dvwa.has('192.168.111.154 syn+ack 4:64+0:0:1460:mss*4,6:mss,sok,ts,nop,ws:df:0 | Linux 2.6.x | 0 | exact'));
  const curl = await run('pcaps/identity/ndpi/443-curl.pcap');
  assert.ok([...curl].some((l) => l.endsWith('syn 4:64+0:0:1460:65535,5:mss,nop,ws,nop,nop,ts,sok,eol+1:df:0 | Mac OS X | 0 | fuzzy')));
  // A raw-IP capture from a consumer medical device (iotsec-lab/medical).
  const kardia = await run('pcaps/medical/iomt-consumer/kardiamobile/kardiamobile__2_3.pcap');
  assert.ok(kardia.has('10.215.173.1 syn 4:64+0:0:9960:65535,10:mss,sok,ts,nop,ws:df,id+:0 | Linux 2.2.x-3.x | 0 | exact'));
  assert.ok(kardia.has('35.186.241.51 syn+ack 4:64+0:0:9960:1024,10:mss,ws,eol+0:df:0 | ??? | - | exact'));
  const ipv6 = await run('pcaps/leaks/ndpi/ftp_failed.pcap');
  assert.ok(ipv6.has('2a00:800:1010:0:0:0:0:1 syn+ack 6:58+6:0:1440:65535,14:mss,sok,ts,nop,ws:flow:0 | ??? | - | exact'));
  const scan = await observeCapture(corpus('pcaps/leaks/ndpi/synscan.pcap'), { dissectors: [], synDissectors: [createTcpFingerprinter()] });
  assert.ok(scan.observations.some((o) => o.attribute === 'tcp.tool' && o.value === 'NMap SYN scan'));
  // The scanner is named as a tool, not an OS, and has no distance (NMap randomises its TTL).
  const scanner = scan.observations.filter((o) => o.ip === '172.16.0.8');
  assert.ok(!scanner.some((o) => o.attribute === 'os' || o.attribute === 'tcp.distance'));
});

// ---- What is emitted -------------------------------------------------------------------------

function synOf(spec: Partial<PacketSpec>, synAck = false): { ip: SynIpInfo; tcp: Buffer } {
  return frame(specOf(7, synAck, spec));
}

test('emits fingerprint, label, os and distance about the sender, once per host and signature', () => {
  const fp = createTcpFingerprinter();
  const ctx = new FakeContext();
  const { ip, tcp } = synOf(win7);
  fp.syn(ip, tcp, false, ctx);
  const got = Object.fromEntries(ctx.drafts.map((d) => [d.attribute, [d.side, d.value, d.confidence]]));
  assert.deepEqual(got, {
    'tcp.fingerprint': ['client', '4:125+3:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0', 0.6],
    'tcp.p0f_label': ['client', 's:win:Windows:7 or 8', 0.5],
    os: ['client', 'Windows 7 or 8', 0.5],
    'tcp.distance': ['client', '3', 0.5],
  });
  assert.match(ctx.drafts[1]?.evidence ?? '', /p0f exact match .* \(p0f\.fp line \d+\)/);
  // The next connection of the same host repeats its signature: nothing new to say.
  for (let i = 0; i < 1000; i++) {
    const again = synOf({ ...win7, id: 1 + i, seq: 7 + i });
    fp.syn(again.ip, again.tcp, false, ctx);
  }
  assert.equal(ctx.drafts.length, 4);
  // A SYN+ACK is about the server.
  const sa = synOf({ ttl: 61, df: true, id: 0, win: 14600, opts: h('020405b4') }, true);
  fp.syn(sa.ip, sa.tcp, true, ctx);
  assert.deepEqual(
    ctx.drafts.slice(4).map((d) => `${d.side} ${d.attribute}`),
    ['server tcp.fingerprint', 'server tcp.p0f_label', 'server os', 'server tcp.distance'],
  );
  // The shared instance behaves the same.
  const ctx2 = new FakeContext();
  tcpFingerprint.syn(ip, tcp, false, ctx2);
  assert.equal(ctx2.values('os')[0], 'Windows 7 or 8');
});

test('generic and fuzzy matches carry less confidence', () => {
  const fp = createTcpFingerprinter();
  const ctx = new FakeContext();
  const { ip, tcp } = synOf({ ...linux, ttl: 20 });
  fp.syn(ip, tcp, false, ctx);
  assert.equal(ctx.drafts.find((d) => d.attribute === 'os')?.confidence, 0.3);
  assert.match(ctx.drafts.find((d) => d.attribute === 'os')?.evidence ?? '', /fuzzy/);
});

// ---- The database -------------------------------------------------------------------------------

test('the shipped database: every TCP signature loads, labels, sys lines and tools', () => {
  const db = p0fDatabase();
  const text = readFileSync(new URL('../../data/p0f.fp', import.meta.url), 'utf8');
  const tcpSection = text.slice(text.indexOf('[tcp:request]'), text.indexOf('[http:request]'));
  assert.equal(db.request.length + db.response.length, (tcpSection.match(/^sig\s*=/gm) ?? []).length);
  assert.ok(db.request.length > 50 && db.response.length > 50);
  const nmap = db.request.find((s) => s.name === 'NMap SYN scan');
  assert.ok(nmap?.tool === true && nmap.badTtl);
  assert.deepEqual(nmap.sys, ['@unix', '@win']);
  const win = db.request.find((s) => s.label === 's:win:Windows:7 or 8');
  assert.ok(win !== undefined && !win.tool && !win.generic && win.sys.length === 0);
  assert.equal(db.request.find((s) => s.label.startsWith('g:'))?.generic, true);
  // The source file is the Debian package's, unchanged, as data/p0f.fp.SOURCE.md says.
  if (existsSync('/etc/p0f/p0f.fp')) assert.equal(readFileSync('/etc/p0f/p0f.fp', 'utf8'), text);
});

test('signature syntax: wildcards, ittl forms, window kinds; malformed lines are errors', () => {
  const s = parseSignature('*:64+3:0:*:%8192,*:mss,nop,ws,eol+2:df,id+:*', 's:unix:X:y', 1);
  assert.deepEqual([s.ipVersion, s.ttl, s.badTtl, s.mss, s.winMulti, s.wscale, s.olayout, s.eolPad, s.pclass], [-1, 67, false, -1, 8192, -1, 'mss,nop,ws,eol', 2, -1]);
  assert.equal(parseSignature('4:64-:0:1460:mtu*4,0:mss::+', 'g:!:T:', 2).badTtl, true);
  assert.equal(parseSignature('4:64-:0:1460:mtu*4,0:mss::+', 'g:!:T:', 2).name, 'T');
  assert.throws(() => parseP0f('[tcp:request]\nlabel = s:x:y:z\nsig = 4:64:0'), /8 fields/);
  assert.throws(() => parseSignature('4:64:0:1460:1024,0:mss,eol+1,nop::0', 'l', 3), /EOL/);
  assert.throws(() => parseSignature('4:64:0:1460:1024,0:mss,foo::0', 'l', 4), /option/);
  assert.throws(() => parseSignature('4:64:0:1460:1024,0:mss:zz:0', 'l', 5), /quirk/);
  assert.throws(() => parseSignature('4:300:0:1460:1024,0:mss::0', 'l', 6), /TTL/);
  // Matching a signature against itself (as an observation): a sanity check of the matcher's rules.
  const o: TcpObservation = { ipVersion: 4, ttl: 125, olen: 0, mss: 1460, win: 8192, wscale: 8, olayout: 'mss,nop,ws,nop,nop,sok', eolPad: 0, quirks: 3, pclass: 0, totHdr: 52, synMss: 0, ts1: false };
  assert.equal(matchTcp(p0fDatabase().request, o)?.sig.label, 's:win:Windows:7 or 8');
  assert.equal(rawSignature({ ...o, ttl: 200 }), '4:200+?:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0');
  assert.equal(rawSignature({ ...o, pclass: 1, synAck: true, mss: 1331 }), '4:125+3:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:+');
});

// ---- Robustness -----------------------------------------------------------------------------

test('random and mutated headers never throw, options parse within bounds', () => {
  const fp = createTcpFingerprinter();
  const base = frame(specOf(9, false, linux));
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 64 }),
      fc.uint8Array({ minLength: 0, maxLength: 44 }),
      fc.boolean(),
      fc.constantFrom(4, 6),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 2000 }),
      (tcpBytes, ipBytes, synAck, version, ttl, extra) => {
        const tcp = Buffer.from(tcpBytes);
        const o = readTcpOptions(tcp, synAck);
        assert.ok(o.olayout.split(',').length <= 24);
        const ip: SynIpInfo = { version: version as 4 | 6, ttl, headerLength: ipBytes.length, dontFragment: (ttl & 1) === 1, ipId: extra, ipOptions: false, header: Buffer.from(ipBytes), totalLength: ipBytes.length + tcp.length + extra - 1000 };
        fp.syn(ip, tcp, synAck, new FakeContext());
        // The same with a real header whose bytes are mutated.
        const t = Buffer.from(base.tcp);
        for (let i = 0; i < tcpBytes.length; i += 2) t[(tcpBytes[i] as number) % t.length] = tcpBytes[i + 1] ?? 0;
        fp.syn(base.ip, t, synAck, new FakeContext());
      },
    ),
    { numRuns: 2000 },
  );
});

test('a repeated SYN costs little: 200k SYNs of one host in well under a second', () => {
  const fp = createTcpFingerprinter();
  const ctx = new FakeContext();
  const { ip, tcp } = synOf(linux);
  const t0 = performance.now();
  for (let i = 0; i < 200_000; i++) {
    tcp.writeUInt32BE(i + 1, 4);
    fp.syn(ip, tcp, false, ctx);
  }
  const ms = performance.now() - t0;
  assert.equal(ctx.values('tcp.fingerprint').length, 1);
  assert.ok(ms < 1500, `${ms.toFixed(0)} ms`);
});
