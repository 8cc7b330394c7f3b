import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { telnet } from './telnet.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext, runStream, split } from '../../test/helpers/dissect.ts';
import { ntlmNegotiate } from '../simulate/payloads/smb.ts';

type Piece = [0 | 1, Buffer];
const s = (dir: 0 | 1, text: string): Piece => [dir, Buffer.from(text, 'latin1')];
const drafts = (ctx: FakeContext) => ctx.drafts.map((d) => `${d.side} ${d.attribute}=${d.value}`);
/** Typed one character per segment, as a character-at-a-time client does. */
const typed = (text: string): Piece[] => [...text].map((c) => s(0, c));

function everyBoundary(conversation: Piece[]): void {
  const whole = drafts(runStream(telnet, conversation).ctx);
  for (let m = 0; m < conversation.length; m++) {
    const [dir, bytes] = conversation[m] as Piece;
    for (let cut = 1; cut < bytes.length; cut++) {
      const pieces: Piece[] = [...conversation.slice(0, m), [dir, bytes.subarray(0, cut)], [dir, bytes.subarray(cut)], ...conversation.slice(m + 1)];
      assert.deepEqual(drafts(runStream(telnet, pieces).ctx), whole, `message ${m} cut at ${cut}`);
    }
  }
  const bytewise = conversation.flatMap(([dir, b]) => split(b, [1]).map((p): Piece => [dir, p]));
  assert.deepEqual(drafts(runStream(telnet, bytewise).ctx), whole, 'byte by byte');
}

const CAPTURE = corpus('pcaps/identity/ndpi/telnet.pcap');

test('real OpenBSD telnet login (telnet.pcap): banner, user, clear-text password, as tshark shows the text', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const { observations, report } = await observeCapture(CAPTURE, { dissectors: [telnet], allObservations: true });
  assert.equal(report.dissectors.telnet?.errors, 0);
  const rows = tsharkFields(CAPTURE, ['frame.number', 'ip.src', 'telnet.data'], { filter: 'telnet.data' });
  const server = '192.168.0.1';
  // tshark's text from the server up to the login prompt, lines trimmed and joined.
  const upto = rows.findIndex(([, src, d]) => src === server && /login:/.test(d ?? ''));
  const text = rows
    .slice(0, upto + 1)
    .filter(([, src]) => src === server)
    .flatMap(([, , d]) => (d ?? '').split(/\\r\\n|,/))
    .map((l) => l.replace(/\\[rn]/g, '').trim())
    .filter((l) => l !== '')
    .join(' | ');
  const banner = observations.filter((o) => o.attribute === 'telnet.banner');
  assert.deepEqual(banner.map((o) => `${o.ip} ${o.value}`), [`${server} ${text}`]);
  assert.equal(banner[0]?.value, 'OpenBSD/i386 (oof) (ttyp2) | login:');
  assert.equal(banner[0]?.frame, Number(rows[upto]?.[0]));
  // The client's line after "login:" is the user; its line after "Password:" is never kept.
  const after = (prompt: RegExp) => {
    const i = rows.findIndex(([, src, d]) => src === server && prompt.test(d ?? ''));
    return rows.slice(i + 1).find(([, src]) => src !== server) ?? [];
  };
  const [userFrame, client, user] = after(/login:/);
  assert.deepEqual(observations.filter((o) => o.attribute === 'telnet.user').map((o) => `${o.frame} ${o.ip} ${o.value}`), [`${userFrame} ${client} ${(user ?? '').replace(/\\r\\n$/, '')}`]);
  const [passFrame, , password] = after(/Password:/);
  assert.deepEqual(observations.filter((o) => o.attribute === 'telnet.cleartext_credentials').map((o) => `${o.frame} ${o.ip} ${o.value}`), [`${passFrame} ${client} true`]);
  const pw = (password ?? '').replace(/\\r\\n$/, '');
  assert.ok(pw.length > 0);
  assert.ok(!observations.some((o) => new RegExp(`\\b${pw}\\b`).test(`${o.value} ${o.evidence ?? ''}`)), 'password leaked');
  // Done after the login: the shell session that follows (ping, ls) is not read.
  assert.ok(observations.every((o) => o.frame <= Number(passFrame)));
  assert.deepEqual(values(observations, 'telnet.user'), ['fake']);
});

const CISCO: Piece[] = [
  [1, Buffer.from([0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03, 0xff, 0xfd, 0x18, 0xff, 0xfd, 0x1f])],
  [0, Buffer.from([0xff, 0xfd, 0x01, 0xff, 0xfd, 0x03, 0xff, 0xfb, 0x18, 0xff, 0xfb, 0x1f, 0xff, 0xfa, 0x1f, 0x00, 0x50, 0x00, 0x18, 0xff, 0xf0])],
  s(1, '\r\n\r\nUser Access Verification\r\n\r\nUsername: '),
  ...typed('admn'),
  s(1, 'admn'),
  [0, Buffer.from([0x7f])],
  s(1, '\b \b'),
  ...typed('in'),
  s(1, 'in'),
  s(0, '\r\0'),
  s(1, '\r\nPassword: '),
  ...typed('Cisc0!'),
  s(0, '\r\n'),
  s(1, '\r\nICU-SW01>'),
  s(0, 'show running-config\r\n'),
];

test('character-at-a-time with remote echo and a deletion: the prompt is what the server showed before typing began', () => {
  const r = runStream(telnet, CISCO);
  assert.equal(r.done, true);
  assert.deepEqual(drafts(r.ctx), ['server telnet.banner=User Access Verification | Username:', 'client telnet.user=admin', 'client telnet.cleartext_credentials=true']);
  assert.ok(!r.ctx.drafts.some((d) => /Cisc0|running/.test(`${d.value} ${d.evidence ?? ''}`)));
});

test('every byte boundary: segmentation does not change what is read', () => {
  everyBoundary(CISCO);
  everyBoundary([s(1, '\xff\xfd\x18\xff\xfd\x20Ubuntu 14.04 LTS\r\nct-console login: '), s(0, 'service\r\n'), s(1, 'Password: '), s(0, 'x\r\n')]);
});

test('Ubuntu, BusyBox, ANSI colours: the first printable text, without escape sequences, capped', () => {
  assert.deepEqual(runStream(telnet, [s(1, '\xff\xfd\x18Ubuntu 14.04 LTS\r\nct-console login: ')]).ctx.values('telnet.banner'), ['Ubuntu 14.04 LTS | ct-console login:']);
  // No login at all: a root shell. The banner ends when the client starts typing; shell commands are never kept.
  const bb = runStream(telnet, [s(1, '\r\n\r\nBusyBox v1.20.2 (2014-02-11 10:31:42 CST) built-in shell (ash)\r\nEnter \'help\' for a list of built-in commands.\r\n\r\n# '), s(0, 'cat /etc/passwd\r\n'), s(1, 'root:x:0:0::/root:/bin/sh\r\n# ')]);
  assert.deepEqual(drafts(bb.ctx), ["server telnet.banner=BusyBox v1.20.2 (2014-02-11 10:31:42 CST) built-in shell (ash) | Enter 'help' for a list of built-in commands. | #"]);
  const ansi = runStream(telnet, [s(1, '\x1b[2J\x1b[1;1H\x1b[1;32mMINDRAY BeneVision CMS\x1b[0m\r\nlogin: ')]);
  assert.deepEqual(ansi.ctx.values('telnet.banner'), ['MINDRAY BeneVision CMS | login:']);
  const long = runStream(telnet, [s(1, `${'#'.repeat(80)}\r\n${'AUTHORISED USE ONLY. '.repeat(40)}\r\nlogin: `)]);
  const v = long.ctx.values('telnet.banner')[0] ?? '';
  assert.ok(v.length <= 301 && v.startsWith('#'.repeat(80)), v);
  assert.equal(long.ctx.values('telnet.banner').length, 1);
});

test('Microsoft Telnet Service: banner, and NTLM inside the AUTHENTICATION option is read by ntlmssp.ts', () => {
  const neg = ntlmNegotiate('6.1.7601');
  // IAC SB AUTHENTICATION IS NTLM CLIENT|MUTUAL … IAC SE, with 0xff bytes doubled (RFC 855).
  const body = Buffer.concat([Buffer.from([0x00, 0x0f, 0x00, 0x00]), neg]);
  const escaped: number[] = [];
  for (const c of body) escaped.push(...(c === 0xff ? [0xff, 0xff] : [c]));
  const r = runStream(telnet, [
    [1, Buffer.from([0xff, 0xfd, 0x25, 0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03])],
    [0, Buffer.from([0xff, 0xfb, 0x25])],
    [0, Buffer.from([0xff, 0xfa, 0x25, ...escaped, 0xff, 0xf0])],
    s(1, 'Welcome to Microsoft Telnet Service \r\n\n\rlogin: '),
  ]);
  assert.deepEqual(r.ctx.values('ntlmssp.version'), ['6.1.7601']);
  assert.equal(r.ctx.drafts.find((d) => d.attribute === 'ntlmssp.version')?.side, 'client');
  assert.deepEqual(r.ctx.values('telnet.banner'), ['Welcome to Microsoft Telnet Service | login:']);
});

test('a password prompt with no user prompt (a switch), an empty Enter at login, and the end of the flow flushing the banner', () => {
  const r = runStream(telnet, [s(1, 'Password: '), s(0, '\r\n'), s(1, '\r\nPassword: '), s(0, 'x\r\n')]);
  assert.deepEqual(drafts(r.ctx), ['server telnet.banner=Password:', 'client telnet.cleartext_credentials=true']);
  assert.deepEqual(runStream(telnet, [s(1, 'login: '), s(0, '\r\n'), s(1, 'login: ')]).ctx.values('telnet.user'), []);
  assert.deepEqual(runStream(telnet, [s(1, 'HP JetDirect\r\n')]).ctx.values('telnet.banner'), ['HP JetDirect']);
});

test('bounded: a server that never stops talking ends the session', () => {
  const ctx = new FakeContext();
  const session = telnet.openStream?.(ctx);
  assert.ok(session !== undefined);
  ctx.dir = 1;
  let done = false;
  for (let i = 0; i < 200 && !done; i++) done = session.data(Buffer.alloc(1000, 0x41), ctx) === 1;
  assert.equal(done, true);
  assert.equal(ctx.values('telnet.banner').length, 1);
});

test('probe: negotiation or text on port 23; elsewhere only a payload made of negotiations', () => {
  const b = (...x: number[]) => Buffer.from(x);
  assert.equal(telnet.probe(b(0xff, 0xfd, 0x25), 1, true), true);
  assert.equal(telnet.probe(Buffer.from('\r\nUser Access Verification\r\n'), 1, true), true);
  assert.equal(telnet.probe(b(0x16, 0x03, 0x01, 0x00), 1, true), false);
  assert.equal(telnet.probe(b(0xff, 0xfd, 0x25), 1, false), false);
  assert.equal(telnet.probe(b(0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20, 0xff, 0xfd, 0x23, 0xff, 0xfd, 0x27), 1, false), true);
  assert.equal(telnet.probe(b(0xff, 0xfa, 0x1f, 0x00, 0x50, 0x00, 0x18, 0xff, 0xf0, 0xff, 0xfb, 0x18), 0, false), true);
  assert.equal(telnet.probe(b(0xff, 0xfd, 0x18, 0x41, 0x42), 1, false), false);
  assert.equal(telnet.probe(Buffer.from('220 ftp\r\n'), 1, false), false);
  assert.equal(telnet.probe(Buffer.alloc(0), 1, true), false);
});

test('property: random and mutated bytes never throw', () => {
  const seed = Buffer.concat(CISCO.map(([, x]) => x));
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 10 }).map((e) => {
        const x = Buffer.from(seed);
        for (const [i, v] of e) x[i % x.length] = v;
        return x;
      })), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }),
      (msgs, sizes) => {
        const pieces: Piece[] = [];
        msgs.forEach((m, i) => split(m, sizes).forEach((p) => pieces.push([(i % 2) as 0 | 1, p])));
        const { ctx } = runStream(telnet, pieces);
        for (const d of ctx.drafts) if (d.attribute === 'telnet.banner') assert.ok(d.value.length <= 301);
        telnet.probe(msgs[0] ?? Buffer.alloc(0), 0, true);
        telnet.probe(msgs[0] ?? Buffer.alloc(0), 1, false);
      },
    ),
    { numRuns: 500 },
  );
});
