import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { tls, TlsSession } from './tls.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { runStream, split } from '../../test/helpers/dissect.ts';
import * as build from '../simulate/payloads/tls.ts';
import { Rng } from '../simulate/rng.ts';

const NDPI = ['443-firefox', '443-safari', '443-curl', 'ja3_lots_of_cipher_suites'];

for (const name of NDPI) {
  test(`JA3, JA3S and JA4 equal nDPI's published values: ${name}`, async () => {
    const { observations } = await observeCapture(corpus(`pcaps/identity/ndpi/${name}.pcap`), { dissectors: [tls] });
    const out = readFileSync(corpus(`peer/ndpi/${name}.pcap.out`), 'utf8');
    const ja3 = /JA3C: ([a-f0-9]{32})/.exec(out)?.[1];
    const ja3s = /JA3S: ([a-f0-9]{32})/.exec(out)?.[1];
    const ja4 = /JA4: ([a-z0-9_]+)/.exec(out)?.[1];
    if (ja3 !== undefined) assert.deepEqual(values(observations, 'tls.ja3'), [ja3]);
    if (ja3s !== undefined) assert.deepEqual(values(observations, 'tls.ja3s'), [ja3s]);
    if (ja4 !== undefined) assert.deepEqual(values(observations, 'tls.ja4'), [ja4]);
  });
}

test('JA3 and SNI equal tshark’s on every TLS capture in the corpus', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const files = ['pcaps/identity/ndpi/443-firefox.pcap', 'pcaps/identity/ndpi/443-safari.pcap', 'pcaps/identity/ndpi/443-curl.pcap', 'peer/zeek/traces/tls__tls1_1.pcap', 'peer/zeek/traces/tls__dhe.pcap', 'peer/zeek/traces/tls__ecdsa-cert.pcap', 'peer/suricata-verify/ja4-sv-handshake/input.pcap', 'peer/suricata-verify/tls/tls-certs-alert/input.pcap'];
  for (const rel of files) {
    const path = corpus(rel);
    const { observations } = await observeCapture(path, { dissectors: [tls] });
    const rows = tsharkFields(path, ['tls.handshake.ja3', 'tls.handshake.extensions_server_name'], { filter: 'tls.handshake.type == 1' });
    assert.ok(rows.length > 0, rel);
    assert.deepEqual(new Set(values(observations, 'tls.ja3')), new Set(rows.map(([j]) => j)), `${rel} JA3`);
    const snis = rows.map(([, s]) => s).filter((s) => s !== '' && s !== undefined);
    assert.deepEqual(new Set(values(observations, 'tls.sni')), new Set(snis), `${rel} SNI`);
  }
});

test('certificate subject, issuer and expiry as Zeek logged them (TLS 1.1 to google.com)', async () => {
  const { observations } = await observeCapture(corpus('peer/zeek/traces/tls__tls1_1.pcap'), { dissectors: [tls] });
  const log = readFileSync(corpus('peer/zeek/baselines/scripts.base.protocols.ssl.tls1_1/x509.log'), 'utf8');
  const row = log.split('\n').find((l) => !l.startsWith('#') && l.includes('google.com'))?.split('\t') ?? [];
  const subject = row.find((c) => c.startsWith('CN=*.google.com'));
  assert.ok(subject !== undefined);
  // Zeek writes RFC 4514 order (CN first); Vigil keeps the certificate's order. Compare the parts.
  const parts = (s: string) => new Set(s.split(/,\s*/));
  assert.deepEqual(parts(values(observations, 'tls.cert_subject')[0] ?? ''), parts(subject));
  assert.deepEqual(values(observations, 'tls.legacy_version'), ['TLS 1.1']);
  assert.deepEqual(values(observations, 'tls.cert_not_after'), ['2018-01-24']);
});

test('round trip with the simulator: an embedded device’s self-signed certificate, and a TLS 1.3 session that hides it', () => {
  const rng = new Rng('tls');
  const cert = build.certificate({ commonName: 'pump-07.local', organization: 'Example Infusion', notBefore: 1_700_000_000, notAfter: 2_000_000_000 });
  const legacy = runStream(tls, [
    [0, build.clientHello('schannel-legacy', undefined, rng)],
    ...split(build.serverHello('schannel-legacy', false, cert, rng).hello, [700, 3]).map((p) => [1, p] as [1, Buffer]),
    [0, build.clientFinish(false, rng)],
    [1, build.serverFinish(rng)],
  ]);
  assert.deepEqual(legacy.ctx.values('tls.cert_subject'), ['C=US, O=Example Infusion, CN=pump-07.local']);
  assert.deepEqual(legacy.ctx.values('tls.cert_self_signed'), ['true']);
  assert.deepEqual(legacy.ctx.values('tls.version'), ['TLS 1.2']);
  assert.ok(legacy.done);
  const modern = runStream(tls, [
    [0, build.clientHello('openssl', 'cloud.vendor.example', rng, ['h2', 'http/1.1'])],
    [1, build.serverHello('openssl', true, cert, rng).hello],
  ]);
  assert.deepEqual(modern.ctx.values('tls.version'), ['TLS 1.3']);
  assert.deepEqual(modern.ctx.values('tls.sni'), ['cloud.vendor.example']);
  assert.match(modern.ctx.values('tls.ja4')[0] ?? '', /^t13d\d{4}h2_[0-9a-f]{12}_[0-9a-f]{12}$/);
  assert.deepEqual(modern.ctx.values('tls.cert_subject'), []);
});

test('property: random and mutated TLS records never throw and stay bounded', () => {
  const rng = new Rng('f');
  const seeds = [build.clientHello('java', 'x.example', rng, ['h2']), build.serverHello('embedded', false, build.certificate({ commonName: 'a', organization: 'b', notBefore: 0, notAfter: 1e9 }), rng).hello];
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 })).map(([s, e]) => {
      const b = Buffer.from(s);
      for (const [i, v] of e) b[i % b.length] = v;
      return b;
    })), { maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1 }), (msgs, sizes) => {
      const pieces: Array<[0 | 1, Buffer]> = [];
      msgs.forEach((m, i) => split(m, sizes).forEach((p) => pieces.push([(i % 2) as 0 | 1, p])));
      const { session } = runStream(tls, pieces);
      assert.ok((session as TlsSession).bufferedBytes <= 2 * (18437 + 64 * 1024));
      tls.probe(msgs[0] ?? Buffer.alloc(0), 0, true);
    }),
    { numRuns: 500 },
  );
});
