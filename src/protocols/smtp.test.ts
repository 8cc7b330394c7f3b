import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { smtp, SmtpSession } from './smtp.ts';
import { StreamVerdict } from './dissector.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext, runStream, split } from '../../test/helpers/dissect.ts';
import { ntlmChallenge, ntlmNegotiate } from '../simulate/payloads/smb.ts';
import { Rng } from '../simulate/rng.ts';

type Piece = [0 | 1, Buffer];
const s = (dir: 0 | 1, text: string): Piece => [dir, Buffer.from(text, 'latin1')];
const drafts = (ctx: FakeContext) => ctx.drafts.map((d) => `${d.side} ${d.attribute}=${d.value}`);
const b64 = (t: string) => Buffer.from(t, 'utf8').toString('base64');

function everyBoundary(conversation: Piece[]): void {
  const whole = drafts(runStream(smtp, conversation).ctx);
  for (let m = 0; m < conversation.length; m++) {
    const [dir, bytes] = conversation[m] as Piece;
    for (let cut = 1; cut < bytes.length; cut++) {
      const pieces: Piece[] = [...conversation.slice(0, m), [dir, bytes.subarray(0, cut)], [dir, bytes.subarray(cut)], ...conversation.slice(m + 1)];
      assert.deepEqual(drafts(runStream(smtp, pieces).ctx), whole, `message ${m} cut at ${cut}`);
    }
  }
  const bytewise = conversation.flatMap(([dir, b]) => split(b, [1]).map((p): Piece => [dir, p]));
  assert.deepEqual(drafts(runStream(smtp, bytewise).ctx), whole, 'byte by byte');
}

const CAPTURE = corpus('pcaps/leaks/ndpi/smtp.pcap');

test('real Sendmail session (smtp.pcap) agrees with tshark; nothing read past DATA', { skip: !hasTshark() && 'tshark not installed' }, async () => {
  const { observations, report } = await observeCapture(CAPTURE, { dissectors: [smtp], allObservations: true });
  assert.equal(report.dissectors.smtp?.errors, 0);
  // Greeting: tshark's parameter, less the date-time that changes with every connection.
  const greeting = tsharkFields(CAPTURE, ['frame.number', 'ip.src', 'smtp.rsp.parameter'], { filter: 'smtp.response.code == 220', firstOnly: true })[0] ?? [];
  const banner = observations.filter((o) => o.attribute === 'smtp.banner');
  assert.deepEqual(banner.map((o) => `${o.frame} ${o.ip}`), [`${greeting[0]} ${greeting[1]}`]);
  assert.equal(banner[0]?.value, 'pigeon.eyrie.af.mil ESMTP Sendmail 8.8.7/8.8.7');
  assert.ok((greeting[2] ?? '').startsWith(`${banner[0]?.value}; Sat, 7 Aug 1999`));
  assert.equal(banner[0]?.evidence, `220 ${greeting[2]}`);
  // EHLO and HELO names.
  const helos = tsharkFields(CAPTURE, ['frame.number', 'ip.src', 'smtp.req.parameter'], { filter: 'smtp.req.command == "EHLO" || smtp.req.command == "HELO"' });
  assert.deepEqual(observations.filter((o) => o.attribute === 'smtp.helo').map((o) => `${o.frame} ${o.ip} ${o.value}`), helos.map((r) => r.join(' ')));
  // Error replies, code and text.
  const errors = tsharkFields(CAPTURE, ['frame.number', 'smtp.response.code', 'smtp.rsp.parameter'], { filter: 'smtp.response.code >= 400', firstOnly: true });
  assert.ok(errors.length > 0);
  assert.deepEqual(observations.filter((o) => o.attribute === 'smtp.error').map((o) => `${o.frame} ${o.value}`), errors.map(([f, c, t]) => `${f} ${c} ${t}`));
  // The message: nothing is observed after the DATA command, and none of its header lines appear anywhere.
  const data = Number(tsharkFields(CAPTURE, ['frame.number'], { filter: 'smtp.req.command == "DATA"' })[0]?.[0]);
  assert.ok(data > 0);
  assert.ok(observations.every((o) => o.frame <= data + 1), 'observed past DATA');
  const body = tsharkFields(CAPTURE, ['imf.subject'], { filter: 'imf' }).map(([x]) => x ?? '').filter((x) => x !== '');
  for (const subject of body) assert.ok(!observations.some((o) => `${o.value} ${o.evidence ?? ''}`.includes(subject)));
  assert.deepEqual(values(observations, 'smtp.error'), ['500 Command unrecognized']);
});

const POSTFIX: Piece[] = [
  s(1, '220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n'),
  s(0, 'EHLO infusion-gw.ward3.local\r\n'),
  s(1, '250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n'),
  s(0, 'AUTH LOGIN\r\n'),
  s(1, '334 VXNlcm5hbWU6\r\n'),
  s(0, `${b64('pumpsvc')}\r\n`),
  s(1, '334 UGFzc3dvcmQ6\r\n'),
  s(0, `${b64('Hunter2!')}\r\n`),
  s(1, '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6\r\n'),
  s(0, `AUTH PLAIN ${b64('\0pumpsvc\0Hunter3!')}\r\n`),
  s(1, '235 2.7.0 Authentication successful\r\n'),
  s(0, 'MAIL FROM:<pump@ward3.example.org>\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<oncall@example.org>\r\nDATA\r\n'),
  s(1, '250 2.1.0 Ok\r\n550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n'),
  s(0, 'Subject: ADT for patient DOE^JOHN\r\n\r\nPID|1||123456^^^HOSP||DOE^JOHN||19450312|M\r\n.\r\n'),
  s(1, '250 2.0.0 Ok: queued as 4F2C1\r\n'),
];

test('Postfix: banner, EHLO name, AUTH LOGIN and PLAIN (user only), pipelined errors, and the message never read', () => {
  const r = runStream(smtp, POSTFIX);
  assert.equal(r.done, true, 'done at the reply to DATA');
  assert.deepEqual(drafts(r.ctx), [
    'server smtp.banner=mail.example.org ESMTP Postfix (Debian/GNU)',
    'client smtp.helo=infusion-gw.ward3.local',
    'client smtp.user=pumpsvc',
    'client smtp.cleartext_credentials=login',
    'server smtp.error=535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6',
    'client smtp.cleartext_credentials=plain',
    'client smtp.user=pumpsvc',
    'server smtp.error=550 5.1.1 <[EMAIL]>: Recipient address rejected: User unknown in local recipient table',
  ]);
  assert.deepEqual(r.ctx.drafts.filter((d) => d.attribute === 'smtp.error').map((d) => d.evidence), ['535 reply to AUTH', '550 reply to RCPT']);
  const all = r.ctx.drafts.map((d) => `${d.value} ${d.evidence ?? ''}`).join('\n');
  assert.ok(!/Hunter|DOE|PID|123456|queued/.test(all), all);
});

test('every byte boundary: segmentation does not change what is read', () => {
  everyBoundary(POSTFIX);
});

test('DATA: the client direction stops at once, even if the body follows in the same segment', () => {
  const ctx = new FakeContext();
  const session = smtp.openStream?.(ctx) as SmtpSession;
  ctx.dir = 1;
  session.data(Buffer.from('220 mx ESMTP\r\n'), ctx);
  ctx.dir = 0;
  session.data(Buffer.from('HELO a\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\nEHLO not-a-helo\r\nAUTH PLAIN AHVzZXIAcGFzcw==\r\n'), ctx);
  assert.equal(session.skippable(0), Infinity, 'the rest of the client stream is stepped over unread');
  assert.deepEqual(ctx.values('smtp.helo'), ['a']);
  assert.deepEqual(ctx.values('smtp.cleartext_credentials'), []);
  ctx.dir = 1;
  assert.equal(session.data(Buffer.from('250 ok\r\n250 ok\r\n'), ctx), StreamVerdict.More);
  assert.equal(session.data(Buffer.from('250 ok\r\n354 go ahead\r\n'), ctx), StreamVerdict.Done);
  // BDAT (RFC 3030) carries the message too.
  const b = runStream(smtp, [s(1, '220 mx ESMTP\r\n'), s(0, 'BDAT 86 LAST\r\nPID|1||123456\r\n'), s(1, '250 2.0.0 Message accepted\r\n')]);
  assert.equal(b.done, true);
});

test('Exchange greeting: the date-time is cut from the value, kept in the evidence; STARTTLS ends the session', () => {
  const r = runStream(smtp, [
    s(1, '220 EXCH01.hospital.local Microsoft ESMTP MAIL Service, Version: 8.5.9600.16384 ready at  Mon, 12 Feb 2018 10:00:00 +0100\r\n'),
    s(0, 'EHLO [10.20.30.40]\r\n'),
    s(1, '250-EXCH01.hospital.local Hello [10.20.30.40]\r\n250-STARTTLS\r\n250 CHUNKING\r\n'),
    s(0, 'STARTTLS\r\n'),
    s(1, '220 2.0.0 SMTP server ready\r\n'),
    [0, Buffer.from('160301020001', 'hex')],
  ]);
  assert.equal(r.done, true);
  assert.deepEqual(r.ctx.values('smtp.banner'), ['EXCH01.hospital.local Microsoft ESMTP MAIL Service, Version: 8.5.9600.16384 ready']);
  assert.match(r.ctx.drafts[0]?.evidence ?? '', /Mon, 12 Feb 2018/);
  assert.deepEqual(r.ctx.values('smtp.helo'), ['[10.20.30.40]']);
  // A refused STARTTLS leaves the session in clear text, and a later AUTH PLAIN is a finding.
  const refused = runStream(smtp, [s(1, '220 mx ESMTP\r\n'), s(0, 'STARTTLS\r\n'), s(1, '454 4.7.0 TLS not available due to local problem\r\n'), s(0, 'AUTH PLAIN\r\n'), s(1, '334 \r\n'), s(0, `${b64('\0nurse\0pw')}\r\n`), s(1, '235 ok\r\n')]);
  assert.deepEqual(drafts(refused.ctx), ['server smtp.banner=mx ESMTP', 'server smtp.error=454 4.7.0 TLS not available due to local problem', 'client smtp.cleartext_credentials=plain', 'client smtp.user=nurse']);
});

test('a 554 greeting is an error; AUTH cancelled with "*" or refused sends nothing; CRAM-MD5 is not clear text', () => {
  assert.deepEqual(drafts(runStream(smtp, [s(1, '554 mx.example.org ESMTP not accepting messages\r\n')]).ctx), ['server smtp.error=554 mx.example.org ESMTP not accepting messages']);
  const r = runStream(smtp, [
    s(1, '220 mx ESMTP\r\n'),
    s(0, 'AUTH LOGIN\r\n'),
    s(1, '334 VXNlcm5hbWU6\r\n'),
    s(0, '*\r\n'),
    s(1, '501 5.7.0 Authentication aborted\r\n'),
    s(0, 'AUTH LOGIN\r\n'),
    s(1, '504 5.5.4 Unrecognized authentication type\r\n'),
    s(0, 'AUTH CRAM-MD5\r\n'),
    s(1, '334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n'),
    s(0, 'dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n'),
    s(1, '235 Authentication successful\r\n'),
    s(0, 'QUIT\r\n'),
  ]);
  assert.deepEqual(r.ctx.values('smtp.cleartext_credentials'), []);
  assert.deepEqual(r.ctx.values('smtp.user'), []);
  assert.deepEqual(r.ctx.values('smtp.error'), ['501 5.7.0 Authentication aborted', '504 5.5.4 Unrecognized authentication type']);
});

test('AUTH NTLM: the NTLMSSP messages are read by ntlmssp.ts', () => {
  const challenge = ntlmChallenge({ version: '6.3.9600', nbComputer: 'EXCH01-MAILBOX', nbDomain: 'HOSPITAL-NET', dnsComputer: 'exch01-mailbox.radiology.hospital-network.example.org', dnsDomain: 'radiology.hospital-network.example.org' }, new Rng('smtp'), 1_700_000_000);
  const r = runStream(smtp, [
    s(1, '220 EXCH ESMTP\r\n'),
    s(0, `AUTH NTLM ${ntlmNegotiate('6.1.7601').toString('base64')}\r\n`),
    s(1, `334 ${challenge.toString('base64')}\r\n`),
    s(0, 'TlRMTVNTUAADAAAA\r\n'),
    s(1, '535 5.7.3 Authentication unsuccessful\r\n'),
    s(0, 'QUIT\r\n'),
  ]);
  assert.ok(challenge.toString('base64').length > 300, 'longer than the reply text kept');
  assert.deepEqual(r.ctx.drafts.filter((d) => d.attribute === 'ntlmssp.version').map((d) => `${d.side} ${d.value}`), ['client 6.1.7601', 'server 6.3.9600']);
  assert.deepEqual(r.ctx.values('ntlmssp.dns_computer'), ['exch01-mailbox.radiology.hospital-network.example.org']);
  assert.deepEqual(r.ctx.values('smtp.error'), ['535 5.7.3 Authentication unsuccessful']);
});

test('probe: greeting on 25/587, an SMTP-looking greeting elsewhere, commands mid-stream on the port; not FTP', () => {
  const p = (t: string, port: boolean, dir: 0 | 1 = 1) => smtp.probe(Buffer.from(t, 'latin1'), dir, port);
  assert.equal(p('220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n', true), true);
  assert.equal(p('220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n', false), true);
  assert.equal(p('220 (vsFTPd 3.0.3)\r\n', false), false);
  assert.equal(p('220 hello\r\n', false), false);
  assert.equal(p('EHLO x\r\n', true, 0), true);
  assert.equal(p('EHLO x\r\n', false, 0), false);
  assert.equal(p('\x16\x03\x01\x02\x00', true, 0), false);
});

test('property: random and mutated bytes never throw, and buffers stay bounded', () => {
  const seed = Buffer.concat(POSTFIX.map(([, b]) => b));
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 10 }).map((e) => {
        const b = Buffer.from(seed);
        for (const [i, v] of e) b[i % b.length] = v;
        return b;
      })), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }),
      (msgs, sizes) => {
        const pieces: Piece[] = [];
        msgs.forEach((m, i) => split(m, sizes).forEach((p) => pieces.push([(i % 2) as 0 | 1, p])));
        const { session } = runStream(smtp, pieces);
        assert.ok((session as SmtpSession).bufferedBytes <= 2 * 16 * 1024);
        smtp.probe(msgs[0] ?? Buffer.alloc(0), 0, true);
        smtp.probe(msgs[0] ?? Buffer.alloc(0), 1, false);
      },
    ),
    { numRuns: 500 },
  );
});
