import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createTcpFingerprinter, readTcpOptions } from './tcp-fingerprint.ts';
import { p0fDatabase, parseP0f } from './p0f-db.ts';
import { corpus, observeCapture } from '../../test/helpers/observe.ts';
import { FakeContext } from '../../test/helpers/dissect.ts';
import type { Observation } from './observation.ts';

function hasP0f(): boolean {
  try {
    execFileSync('p0f', ['-h'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status !== undefined && (e as { status?: number }).status !== 127 && (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Runs Debian's p0f over a capture: (subject ip, raw signature, label) per SYN/SYN+ACK. */
function p0f(path: string): Set<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-p0f-'));
  const pcap = join(dir, 'in.pcap');
  execFileSync('editcap', ['-F', 'pcap', path, pcap], { stdio: 'ignore' });
  const log = join(dir, 'p0f.log');
  execFileSync('p0f', ['-r', pcap, '-o', log], { stdio: 'ignore' });
  const out = new Set<string>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const f = Object.fromEntries(line.split('|').map((kv) => kv.replace(/^\[[^\]]*\] /, '').split('=') as [string, string]));
    if (f.raw_sig === undefined || f.subj === undefined || (f.mod !== 'syn' && f.mod !== 'syn+ack')) continue;
    const ip = (f.subj === 'cli' ? f.cli : f.srv)?.split('/')[0];
    const label = f.os ?? f.app ?? '???';
    out.add(`${ip} ${f.raw_sig} ${label}`);
  }
  return out;
}

function ours(obs: Observation[], synAckOnly = false): Set<string> {
  const byFrame = new Map<string, Observation[]>();
  for (const o of obs) {
    const k = `${o.frame}|${o.ip}`;
    byFrame.set(k, [...(byFrame.get(k) ?? []), o]);
  }
  const out = new Set<string>();
  for (const list of byFrame.values()) {
    const raw = list.find((o) => o.attribute === 'tcp.fingerprint');
    if (raw === undefined || (synAckOnly && raw.evidence !== 'SYN+ACK')) continue;
    const label = list.find((o) => o.attribute === 'os' || o.attribute === 'tcp.tool')?.value ?? '???';
    out.add(`${raw.ip} ${raw.value} ${label}`);
  }
  return out;
}

const CAPTURES = ['pcaps/identity/ndpi/443-firefox.pcap', 'pcaps/identity/ndpi/443-safari.pcap', 'pcaps/identity/ndpi/android.pcap', 'peer/zeek/traces/http__cooper-grill-dvwa.pcapng', 'pcaps/leaks/ndpi/synscan.pcap', 'pcaps/medical/iomt-consumer/withingsbpm/withingsbpm__wifi__1_3.pcap', 'pcaps/medical/dicom/dicom-dcmtk-loopback.pcap'];

for (const rel of CAPTURES) {
  test(`raw signatures and labels equal Debian p0f 3.09b's: ${rel}`, { skip: !hasP0f() && 'p0f not installed' }, async () => {
    const path = corpus(rel);
    const { observations } = await observeCapture(path, { dissectors: [], synDissectors: [createTcpFingerprinter()], allObservations: true });
    const mine = ours(observations);
    const theirs = p0f(path);
    for (const t of theirs) assert.ok(mine.has(t), `p0f saw ${t}`);
    // p0f only fingerprints a SYN+ACK whose SYN it tracked; Vigil takes every one (a capture may start late).
    const synAcks = ours(observations, true);
    for (const m of mine) assert.ok(theirs.has(m) || synAcks.has(m), `extra ${m}`);
  });
}

test('known signatures (stored, so this holds without p0f installed)', async () => {
  const { observations } = await observeCapture(corpus('peer/zeek/traces/http__cooper-grill-dvwa.pcapng'), { dissectors: [], synDissectors: [createTcpFingerprinter()], allObservations: true });
  const got = ours(observations);
  assert.ok(got.has('192.168.111.148 4:64+0:0:1460:mss*22,7:mss,sok,ts,nop,ws:df,id+:0 Linux 2.2.x-3.x'));
  assert.ok(got.has('192.168.111.154 4:64+0:0:1460:mss*4,6:mss,sok,ts,nop,ws:df:0 Linux 2.6.x'));
  const scan = await observeCapture(corpus('pcaps/leaks/ndpi/synscan.pcap'), { dissectors: [], synDissectors: [createTcpFingerprinter()] });
  assert.ok(scan.observations.some((o) => o.attribute === 'tcp.tool' && o.value === 'NMap SYN scan'));
  assert.ok(!scan.observations.some((o) => o.attribute === 'os' && o.value.includes('NMap')));
});

test('the shipped database loads every TCP signature; malformed option lists are flagged, not thrown', () => {
  const db = p0fDatabase();
  const text = readFileSync(new URL('../../data/p0f.fp', import.meta.url), 'utf8');
  const tcpSection = text.slice(text.indexOf('[tcp:request]'), text.indexOf('[http:request]'));
  assert.equal(db.request.length + db.response.length, (tcpSection.match(/^sig\s*=/gm) ?? []).length);
  assert.ok(db.request.length > 50 && db.response.length > 50);
  assert.throws(() => parseP0f('[tcp:request]\nlabel = s:x:y:z\nsig = 4:64:0'), /8 fields/);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 60 }), fc.boolean(), (bytes, synAck) => {
      const tcp = Buffer.from(bytes);
      readTcpOptions(tcp, synAck);
      const ctx = new FakeContext();
      const header = Buffer.alloc(20);
      header[0] = 0x45;
      createTcpFingerprinter().syn({ version: 4, ttl: 64, headerLength: 20, dontFragment: true, ipId: 1, ipOptions: false, header, totalLength: 20 + tcp.length }, tcp, synAck, ctx);
    }),
    { numRuns: 3000 },
  );
});
