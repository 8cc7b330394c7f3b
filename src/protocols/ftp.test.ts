import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ftp, FtpSession } from './ftp.ts';
import { StreamVerdict } from './dissector.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { FakeContext, runStream, split } from '../../test/helpers/dissect.ts';

type Piece = [0 | 1, Buffer];
const s = (dir: 0 | 1, text: string): Piece => [dir, Buffer.from(text, 'latin1')];
const drafts = (ctx: FakeContext) => ctx.drafts.map((d) => `${d.side} ${d.attribute}=${d.value}`);

/** Every message cut at every byte boundary (and fed byte by byte) must read as it does whole. */
function everyBoundary(conversation: Piece[]): void {
  const whole = drafts(runStream(ftp, conversation).ctx);
  for (let m = 0; m < conversation.length; m++) {
    const [dir, bytes] = conversation[m] as Piece;
    for (let cut = 1; cut < bytes.length; cut++) {
      const pieces: Piece[] = [...conversation.slice(0, m), [dir, bytes.subarray(0, cut)], [dir, bytes.subarray(cut)], ...conversation.slice(m + 1)];
      assert.deepEqual(drafts(runStream(ftp, pieces).ctx), whole, `message ${m} cut at ${cut}`);
    }
  }
  const bytewise = conversation.flatMap(([dir, b]) => split(b, [1]).map((p): Piece => [dir, p]));
  assert.deepEqual(drafts(runStream(ftp, bytewise).ctx), whole, 'byte by byte');
}

for (const rel of ['pcaps/leaks/ndpi/ftp.pcap', 'pcaps/leaks/ndpi/ftp_failed.pcap']) {
  test(`real FTP control connection agrees with tshark: ${rel}`, { skip: !hasTshark() && 'tshark not installed' }, async () => {
    const path = corpus(rel);
    const { observations, report } = await observeCapture(path, { dissectors: [ftp], allObservations: true });
    assert.equal(report.dissectors.ftp?.errors, 0);
    assert.equal(report.dissectors.ftp?.flows, 1, 'the control connection only, not the data connections');
    const rows = tsharkFields(path, ['frame.number', 'ftp.response.code', 'ftp.response.arg'], { filter: 'ftp.response.code', firstOnly: true });
    const banners = rows.filter(([, c]) => c === '220').map(([f, , a]) => `${f} ${a}`);
    assert.deepEqual(observations.filter((o) => o.attribute === 'ftp.banner').map((o) => `${o.frame} ${o.value}`), banners);
    const errors = rows.filter(([, c]) => Number(c) >= 400).map(([f, c, a]) => `${f} ${c} ${a}`);
    assert.ok(errors.length > 0);
    assert.deepEqual(observations.filter((o) => o.attribute === 'ftp.error').map((o) => `${o.frame} ${o.value}`), errors);
    const users = tsharkFields(path, ['frame.number', 'ftp.request.arg'], { filter: 'ftp.request.command == "USER"' }).map(([f, a]) => `${f} ${a}`);
    assert.deepEqual(observations.filter((o) => o.attribute === 'ftp.user').map((o) => `${o.frame} ${o.value}`), users);
    const pass = tsharkFields(path, ['frame.number', 'ftp.request.arg'], { filter: 'ftp.request.command == "PASS"' });
    assert.deepEqual(observations.filter((o) => o.attribute === 'ftp.cleartext_credentials').map((o) => `${o.frame} ${o.value}`), pass.map(([f]) => `${f} true`));
    // The server's side: every banner and error is about the server's address, the user about the client's.
    const server = tsharkFields(path, ['ip.src', 'ipv6.src'], { filter: 'ftp.response.code == 220', firstOnly: true }).map((r) => r.join(''))[0];
    for (const o of observations.filter((x) => x.attribute === 'ftp.banner' || x.attribute === 'ftp.error')) assert.equal(o.ip, server);
    for (const o of observations.filter((x) => x.attribute === 'ftp.user')) assert.notEqual(o.ip, server);
    // The password never leaves the dissector.
    for (const [, pw] of pass) if (pw !== undefined && pw !== '') assert.ok(!observations.some((o) => `${o.value} ${o.evidence ?? ''}`.includes(pw)), `password ${pw} leaked`);
  });
}

test('ftp.pcap: the values, as read by hand from the capture', async () => {
  const { observations } = await observeCapture(corpus('pcaps/leaks/ndpi/ftp.pcap'), { dissectors: [ftp], allObservations: true });
  assert.deepEqual(values(observations, 'ftp.banner'), ['(vsFTPd 3.0.3)']);
  assert.deepEqual(values(observations, 'ftp.user'), ['anonymous']);
  assert.deepEqual(values(observations, 'ftp.cleartext_credentials'), ['true']);
  assert.deepEqual(values(observations, 'ftp.client'), ['NcFTP 3.2.6 macosx10.13']);
  assert.deepEqual(values(observations, 'ftp.error'), ['500 Unknown command.', '500 Unknown command.']);
  assert.deepEqual(observations.filter((o) => o.attribute === 'ftp.error').map((o) => o.evidence), ['500 reply to CLNT', '500 reply to MLST']);
});

const PROFTPD: Piece[] = [
  s(1, '220-Welcome to the radiology archive\r\n220-Unauthorised access prohibited\r\n220 ProFTPD 1.3.5 Server (Debian) [::ffff:10.1.2.3]\r\n'),
  s(0, 'USER pacsadmin\r\n'),
  s(1, '331 Password required for pacsadmin\r\n'),
  s(0, 'PASS S3cret!pw\r\n'),
  s(1, '530 Login incorrect.\r\n'),
  s(0, 'USER pacsadmin\r\nPASS An0ther\r\n'),
  s(1, '230 User pacsadmin logged in\r\n'),
  s(0, 'SYST\r\n'),
  s(1, '215 UNIX Type: L8\r\n'),
  s(0, 'FEAT\r\n'),
  s(1, '211-Features:\r\n MDTM\r\n MFMT\r\n SIZE\r\n MLST modify*;perm*;size*;type*;\r\n AUTH TLS\r\n211 End\r\n'),
  s(0, 'RETR /export/DOE-JOHN-19450312.dcm\r\n'),
  s(1, '550 /export/DOE-JOHN-19450312.dcm: No such file or directory\r\n'),
  s(0, 'QUIT\r\n'),
  s(1, '221 Goodbye.\r\n'),
];

test('greeting (multi-line), SYST, FEAT, errors, USER and PASS: what is emitted, about whom', () => {
  const { ctx } = runStream(ftp, PROFTPD);
  assert.deepEqual(ctx.values('ftp.banner'), ['Welcome to the radiology archive | Unauthorised access prohibited | ProFTPD 1.3.5 Server (Debian) [::ffff:10.1.2.3]']);
  assert.deepEqual(ctx.values('ftp.system'), ['UNIX Type: L8']);
  assert.deepEqual(ctx.values('ftp.user'), ['pacsadmin', 'pacsadmin']);
  assert.deepEqual(ctx.values('ftp.cleartext_credentials'), ['true', 'true']);
  // Errors: code and text, personal-data patterns masked; the FEAT reply (211) is not an error.
  assert.deepEqual(ctx.values('ftp.error'), ['530 Login incorrect.', '550 /export/DOE-JOHN-[DATE].dcm: No such file or directory']);
  assert.deepEqual(ctx.drafts.filter((d) => d.attribute === 'ftp.error').map((d) => d.evidence), ['530 reply to PASS', '550 reply to RETR']);
  for (const d of ctx.drafts) assert.equal(d.side, /^ftp\.(user|cleartext_credentials)$/.test(d.attribute) ? 'client' : 'server', d.attribute);
  // Passwords are never read.
  assert.ok(!ctx.drafts.some((d) => /S3cret|An0ther/.test(`${d.value} ${d.evidence ?? ''}`)));
});

test('every byte boundary: segmentation does not change what is read', () => {
  everyBoundary(PROFTPD);
  everyBoundary([s(1, '220 Microsoft FTP Service\r\n'), s(0, 'USER anonymous\r\n'), s(1, '331 Anonymous access allowed, send identity (e-mail name) as password.\r\n'), s(0, 'PASS IEUser@\r\n'), s(1, '230 Anonymous user logged in.\r\n'), s(0, 'SYST\r\n'), s(1, '215 Windows_NT\r\n')]);
});

test('Windows FTP: banner, SYST Windows_NT; an anonymous PASS is weaker evidence', () => {
  const { ctx } = runStream(ftp, [s(1, '220 Microsoft FTP Service\r\n'), s(0, 'USER anonymous\r\n'), s(1, '331 Anonymous access allowed\r\n'), s(0, 'PASS IEUser@\r\n'), s(0, 'SYST\r\n'), s(1, '230 Anonymous user logged in.\r\n215 Windows_NT\r\n')]);
  assert.deepEqual(ctx.values('ftp.banner'), ['Microsoft FTP Service']);
  assert.deepEqual(ctx.values('ftp.system'), ['Windows_NT']);
  const cred = ctx.drafts.find((d) => d.attribute === 'ftp.cleartext_credentials');
  assert.equal(cred?.value, 'true');
  assert.ok((cred?.confidence ?? 1) < 0.9);
  assert.match(cred?.evidence ?? '', /anonymous/);
});

test('a 421 greeting is an error, not a banner; a 120 delay before the 220 is not the greeting', () => {
  assert.deepEqual(drafts(runStream(ftp, [s(1, '421 Too many connections (8) from this IP\r\n')]).ctx), ['server ftp.error=421 Too many connections (8) from this IP']);
  const { ctx } = runStream(ftp, [s(1, '120 Service ready in 2 minutes\r\n220 vsFTPd 3.0.3\r\n')]);
  assert.deepEqual(ctx.values('ftp.banner'), ['vsFTPd 3.0.3']);
  // A later 220 (the answer to REIN) is not a second banner.
  assert.deepEqual(runStream(ftp, [s(1, '220 FTP one\r\n'), s(0, 'REIN\r\n'), s(1, '220 FTP again\r\n')]).ctx.values('ftp.banner'), ['FTP one']);
});

test('AUTH TLS: the session ends at the 234 reply; nothing after it is read', () => {
  const r = runStream(ftp, [s(1, '220 FileZilla Server 1.7.0\r\n'), s(0, 'AUTH TLS\r\n'), s(1, '234 Using authentication type TLS\r\n'), [0, Buffer.from('16030100f0010000ec0303', 'hex')], s(0, 'USER leak\r\nPASS leak\r\n')]);
  assert.equal(r.done, true);
  assert.deepEqual(r.ctx.values('ftp.banner'), ['FileZilla Server 1.7.0']);
  assert.deepEqual(r.ctx.values('ftp.user'), []);
});

test('a flow oriented the wrong way round (no SYN seen): replies are recognised by their syntax, the sender is the subject', () => {
  const { ctx } = runStream(ftp, [s(0, '220 (vsFTPd 3.0.3)\r\n'), s(1, 'USER ops\r\n'), s(0, '530 Permission denied.\r\n')]);
  assert.deepEqual(drafts(ctx), ['client ftp.banner=(vsFTPd 3.0.3)', 'server ftp.user=ops', 'client ftp.error=530 Permission denied.']);
});

test('ABOR after Telnet IP/Synch, bare LF line ends and a code-only reply are read', () => {
  const { ctx } = runStream(ftp, [s(1, '220 ready\n'), s(0, 'RETR x\n'), s(0, '\xff\xf4\xff\xf2ABOR\r\n'), s(1, '426\r\n226 ABOR ok\r\n')]);
  assert.deepEqual(ctx.values('ftp.error'), ['426']);
  assert.deepEqual(ctx.drafts.filter((d) => d.attribute === 'ftp.error').map((d) => d.evidence), ['426 reply to ABOR']);
});

test('bounded: an endless line is not buffered; junk ends the session', () => {
  const ctx = new FakeContext();
  const session = ftp.openStream?.(ctx) as FtpSession;
  ctx.dir = 1;
  session.data(Buffer.from('220 x\r\n'), ctx);
  for (let i = 0; i < 100; i++) session.data(Buffer.alloc(1000, 0x41), ctx);
  assert.ok(session.bufferedBytes <= 2048, `${session.bufferedBytes}`);
  ctx.dir = 0;
  let v = StreamVerdict.More;
  for (let i = 0; i < 20 && v === StreamVerdict.More; i++) v = session.data(Buffer.from('\x01\x02 not a command\r\n'), ctx);
  assert.equal(v, StreamVerdict.Done);
});

test('a gap resynchronises at the next line', () => {
  const ctx = new FakeContext();
  const session = ftp.openStream?.(ctx) as FtpSession;
  ctx.dir = 1;
  session.data(Buffer.from('220 vsFTPd 3.0.3\r\n500 Unkn'), ctx);
  session.gap(1);
  session.data(Buffer.from('own command.\r\n530 Login incorrect.\r\n'), ctx);
  assert.deepEqual(ctx.values('ftp.error'), ['530 Login incorrect.']);
});

test('probe: greeting on port 21 or an FTP-looking greeting elsewhere; not SMTP, not a data connection', () => {
  const p = (t: string, port: boolean, dir: 0 | 1 = 1) => ftp.probe(Buffer.from(t, 'latin1'), dir, port);
  assert.equal(p('220 (vsFTPd 3.0.3)\r\n', true), true);
  assert.equal(p('220 (vsFTPd 3.0.3)\r\n', false), true);
  assert.equal(p('220-FileZilla Server version 0.9.41 beta\r\n', false), true);
  assert.equal(p('220 Service ready\r\n', false), false);
  assert.equal(p('220 mail.example.org ESMTP Postfix\r\n', false), false);
  assert.equal(p('USER anonymous\r\n', true, 0), true);
  assert.equal(p('USER anonymous\r\n', false, 0), false);
  assert.equal(p('-rw-r--r--    1 0        0        1073741824 Feb 19  2016 1GB.zip\r\n', false), false);
  assert.equal(p('GET / HTTP/1.1\r\n', true, 0), false);
  assert.equal(p('', true), false);
});

test('property: random and mutated bytes never throw, and buffers stay bounded', () => {
  const seed = Buffer.concat(PROFTPD.map(([, b]) => b));
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
        const { session } = runStream(ftp, pieces);
        assert.ok((session as FtpSession).bufferedBytes <= 2 * 2048);
        ftp.probe(msgs[0] ?? Buffer.alloc(0), 0, true);
        ftp.probe(msgs[0] ?? Buffer.alloc(0), 1, false);
      },
    ),
    { numRuns: 500 },
  );
});

test('a multi-line error keeps up to 1 KiB of text (a stack trace for the leak detector); a banner at most 300 characters', () => {
  const frames = Array.from({ length: 30 }, (_, i) => `550-\tat com.vendor.pacs.ftp.StoreHandler.handle(StoreHandler.java:${100 + i})\r\n`).join('');
  const { ctx } = runStream(ftp, [s(1, `220 ${'X'.repeat(500)}\r\n`), s(0, 'STOR a.dcm\r\n'), s(1, `550-java.io.IOException: disk full\r\n${frames}550 Transfer aborted\r\n`)]);
  const err = ctx.values('ftp.error')[0] ?? '';
  assert.ok(err.length > 300 && err.length <= 1030, `${err.length}`);
  assert.match(err, /^550 java\.io\.IOException: disk full \| at com\.vendor\.pacs\.ftp\.StoreHandler\.handle\(StoreHandler\.java:100\)/);
  assert.ok((ctx.values('ftp.banner')[0] ?? '').length <= 301);
});
