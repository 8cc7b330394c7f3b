import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { http, HttpSession } from './http.ts';
import { corpus, hasTshark, observeCapture, tsharkFields, values } from '../../test/helpers/observe.ts';
import { runStream, split } from '../../test/helpers/dissect.ts';
import { httpRequest, httpResponse } from '../simulate/payloads/http.ts';
import { errorPage } from '../simulate/payloads/errors.ts';
import { ntlmNegotiate } from '../simulate/payloads/smb.ts';

const CAPTURES = ['peer/zeek/traces/http__cooper-grill-dvwa.pcapng', 'pcaps/leaks/ndpi/WebattackSQLinj.pcap', 'pcaps/leaks/ndpi/sql_injection.pcap', 'pcaps/leaks/ndpi/xss.pcap', 'pcaps/leaks/ndpi/webdav.pcap', 'pcaps/identity/ndpi/windowsupdate_over_http.pcap', 'pcaps/leaks/ndpi/http_invalid_server.pcap'];

for (const rel of CAPTURES) {
  test(`HTTP identity headers and error statuses agree with tshark: ${rel}`, { skip: !hasTshark() && 'tshark not installed' }, async () => {
    const path = corpus(rel);
    const { observations, report } = await observeCapture(path, { dissectors: [http] });
    assert.equal(report.dissectors.http?.errors, 0);
    // One value per message (user agents contain commas); bodies not reassembled, so cut captures still show their headers.
    const o = { firstOnly: true, prefs: ['http.desegment_body:FALSE'] };
    const set = (rows: string[][]) => new Set(rows.map(([v]) => (v ?? '').trim()).filter((x) => x !== ''));
    const servers = set(tsharkFields(path, ['http.server'], { filter: 'http.server', ...o }));
    const uas = set(tsharkFields(path, ['http.user_agent'], { filter: 'http.user_agent', ...o }));
    const errors = set(tsharkFields(path, ['http.response.code'], { filter: 'http.response.code >= 400', ...o }));
    // tshark prints non-ASCII header bytes as replacement characters; Vigil decodes UTF-8. Compare the ASCII.
    const ascii = (x: Iterable<string>) => new Set([...x].map((v) => v.replace(/[^\x20-\x7e]/g, '')));
    assert.deepEqual(ascii(values(observations, 'http.server')), ascii(servers));
    for (const ua of uas) assert.ok(values(observations, 'http.user_agent').includes(ua), `user agent ${ua}`);
    assert.deepEqual(new Set(values(observations, 'http.status').map((s) => s.split(' ')[0])), errors);
  });
}

test('pipelined requests, chunked and gzip error bodies, HEAD and 304 without bodies: every response paired with its request', () => {
  const page = errorPage('aspnet', '/', 'InfusionCentral');
  const gz = gzipSync(Buffer.from(page.body));
  const chunked = Buffer.concat([
    Buffer.from(`HTTP/1.1 500 Internal Server Error\r\nServer: Microsoft-IIS/7.5\r\nX-AspNet-Version: 4.0.30319\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nSet-Cookie: ASP.NET_SessionId=abc; path=/\r\n\r\n`),
    Buffer.from(`${(200).toString(16)}\r\n`),
    gz.subarray(0, 200),
    Buffer.from(`\r\n${(gz.length - 200).toString(16)}\r\n`),
    gz.subarray(200),
    Buffer.from('\r\n0\r\n\r\n'),
  ]);
  const requests = Buffer.concat([httpRequest('HEAD', 'pump7', '/'), httpRequest('GET', 'pump7', '/status?patient=123'), httpRequest('GET', 'pump7', '/login.aspx', { Authorization: `Basic ${Buffer.from('admin:Secr3t!').toString('base64')}` }), httpRequest('GET', 'pump7', '/x')]);
  const responses = Buffer.concat([
    httpResponse(200, { Server: 'Microsoft-IIS/7.5', 'Content-Type': 'text/html' }, '<html><title>ignored: HEAD has no body</title></html>', 1).subarray(0, 120),
    httpResponse(200, { 'Content-Type': 'text/html; charset=utf-8' }, '<html><head><title>Alaris Gateway Workstation</title></head><body>…</body></html>', 1),
    chunked,
    Buffer.from('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n'),
  ]);
  // HEAD's response above was cut after its headers on purpose: a HEAD response has none.
  const headEnd = responses.indexOf('\r\n\r\n') + 4;
  const res = Buffer.concat([responses.subarray(0, headEnd), responses.subarray(120)]);
  for (const sizes of [[1 << 20], [1], [7, 13, 100]]) {
    const { ctx } = runStream(http, [...split(requests, sizes).map((p) => [0, p] as [0, Buffer]), ...split(res, sizes).map((p) => [1, p] as [1, Buffer])]);
    assert.deepEqual(ctx.values('http.title'), ['Alaris Gateway Workstation']);
    assert.deepEqual(ctx.values('http.status'), ['500 Internal Server Error']);
    const body = ctx.values('http.error_body')[0] ?? '';
    assert.match(body, /Server Error in '\/' Application/);
    assert.match(body, /Exception Details: <\/b>System.NullReferenceException/);
    assert.equal(ctx.drafts.find((d) => d.attribute === 'http.error_body')?.evidence, '500 to GET /login.aspx (gzip, decompressed)');
    assert.deepEqual(ctx.values('http.x_aspnet_version'), ['4.0.30319']);
    assert.deepEqual(ctx.values('http.cookie_name'), ['ASP.NET_SessionId']);
    assert.deepEqual(ctx.values('http.basic_auth_user'), ['admin']);
    assert.ok(!ctx.drafts.some((d) => JSON.stringify(d).includes('Secr3t') || JSON.stringify(d).includes('patient=123')));
  }
});

test('NTLM in HTTP Authorization reports the client Windows version; huge bodies are not buffered', () => {
  const req = httpRequest('GET', 'intranet', '/', { Authorization: `NTLM ${ntlmNegotiate('10.0.19045').toString('base64')}` });
  const { ctx } = runStream(http, [[0, req]]);
  assert.deepEqual(ctx.values('os'), ['Windows 10 22H2 (10.0.19045)']);
  const big = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 50000000\r\n\r\n'), Buffer.alloc(200_000)]);
  const r = runStream(http, [[0, httpRequest('GET', 'h', '/fw.bin')], ...split(big, [1460]).map((p) => [1, p] as [1, Buffer])]);
  assert.ok((r.session as HttpSession).bufferedBytes < 1460, `${(r.session as HttpSession).bufferedBytes}`);
});

test('probe: requests and responses on any port; not TLS, DICOM or SSH', () => {
  assert.ok(http.probe(Buffer.from('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n'), 0, false));
  assert.ok(http.probe(Buffer.from('HTTP/1.1 200 OK\r\n'), 1, false));
  assert.ok(!http.probe(Buffer.from('GET is a word but not a request\r\n'), 0, false));
  assert.ok(!http.probe(Buffer.from('SSH-2.0-OpenSSH_8.9\r\n'), 0, false));
  assert.ok(!http.probe(Buffer.from('16030100a501', 'hex'), 0, true));
});

test('property: random and mutated HTTP streams never throw and stay bounded', () => {
  const seeds = [httpRequest('POST', 'h', '/a', { 'Transfer-Encoding': 'chunked' }), Buffer.from('HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'), httpResponse(404, { Server: 'x' }, 'nope', 1)];
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 })).map(([s, e]) => {
      const b = Buffer.from(s);
      for (const [i, v] of e) b[i % b.length] = v;
      return b;
    })), { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }), (msgs, sizes) => {
      const pieces: Array<[0 | 1, Buffer]> = [];
      msgs.forEach((m, i) => split(m, sizes).forEach((p) => pieces.push([(i % 2) as 0 | 1, p])));
      const { session } = runStream(http, pieces);
      assert.ok((session as HttpSession).bufferedBytes <= 2 * (16 * 1024 + 2048));
      http.probe(msgs[0] ?? Buffer.alloc(0), 0, false);
    }),
    { numRuns: 600 },
  );
});
