import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { detectLeaks, leakSoftware, matchLeak, prepareText, redactSnippet, compileLeakPatterns } from './leaks.ts';
import { parseLeakPatterns } from './leak-patterns-schema.ts';
import type { DeviceFacts, FactValue } from '../inventory/builder.ts';
import type { LeakFact } from './finding.ts';
import { dataFile } from '../knowledge/paths.ts';
import { errorPage, type ErrorStyle } from '../simulate/payloads/errors.ts';
import { printable } from '../protocols/redact.ts';

interface Case { id: string; attribute: string; value: string; expected: LeakFact[] }
const corpus = (JSON.parse(readFileSync(new URL('../../bench/leak-corpus/cases.json', import.meta.url), 'utf8')) as { cases: Case[] }).cases;
const facts = (a: string, v: string): LeakFact[] => matchLeak(a, v).flatMap((m) => m.facts);
const has = (fs: LeakFact[], kind: string, value: string, version?: string): boolean => fs.some((f) => f.kind === kind && f.value === value && (version === undefined || f.version === version));
const body = (text: string): string => printable(Buffer.from(text), 0, 1024, 1024);

test('the shipped pattern file is valid, every pattern has a source and a remediation', () => {
  const json = JSON.parse(readFileSync(dataFile('leak-patterns.json'), 'utf8')) as { patterns: { id: string; source: string[]; remediation: string }[] };
  // Read without validation by the analysis: validation must return the file unchanged.
  const valid = parseLeakPatterns(json);
  assert.deepEqual(valid, json);
  compileLeakPatterns(valid);
  assert.ok(json.patterns.length >= 30);
  for (const p of json.patterns) assert.ok(p.source.length > 0 && p.remediation.length > 20, p.id);
});

test('every pattern fires on at least one real corpus example', () => {
  const json = JSON.parse(readFileSync(dataFile('leak-patterns.json'), 'utf8')) as { patterns: { id: string }[] };
  const fired = new Set(corpus.flatMap((c) => matchLeak(c.attribute, c.value).map((m) => m.pattern)));
  // Patterns exercised by the unit examples below rather than the corpus.
  const byUnit = new Set(['aspnet-remote-error-notice', 'rails-exception', 'db2-error', 'home-directory-user', 'exchange-owa-version', 'telnet-login-host', 'dotnet-exception', 'java-exception-name']);
  for (const p of json.patterns) assert.ok(fired.has(p.id) || byUnit.has(p.id), `${p.id} never fires on the corpus`);
});

test('corpus: every expected fact is found and nothing on the negative cases', () => {
  for (const c of corpus) {
    const found = facts(c.attribute, c.value);
    if (c.expected.length === 0) assert.deepEqual(matchLeak(c.attribute, c.value).map((m) => m.pattern), [], c.id);
    for (const e of c.expected) if (e.kind !== 'sql') assert.ok(has(found, e.kind, e.value, e.version), `${c.id}: ${JSON.stringify(e)} not in ${JSON.stringify(found)}`);
  }
});

test('the simulator\'s error pages', () => {
  const page = (s: ErrorStyle) => body(errorPage(s, '/', 'InfusionCentral').body);
  const asp = facts('http.error_body', page('aspnet'));
  assert.ok(has(asp, 'framework', 'ASP.NET') && has(asp, 'source_location', 'C:\\inetpub\\wwwroot\\InfusionCentral\\Default.aspx.cs:42'));
  const java = facts('http.error_body', page('java'));
  assert.ok(has(java, 'web_server', 'Apache Tomcat', '8.5.23') && has(java, 'database', 'Oracle') && has(java, 'framework', 'Spring') && has(java, 'language', 'Java'));
  const php = facts('http.error_body', page('php'));
  assert.ok(has(php, 'username', 'devsvc') && has(php, 'database', 'MySQL') && has(php, 'path', '/var/www/html/infusioncentral/include/db.php'));
  const py = facts('http.error_body', page('python'));
  assert.ok(has(py, 'database', 'PostgreSQL') && has(py, 'source_location', '/opt/infusioncentral/app/views.py:57'));
  const node = facts('http.error_body', page('node'));
  assert.ok(has(node, 'framework', 'Express') && has(node, 'source_location', '/srv/infusioncentral/routes/api.js:31'));
  const iis = facts('http.error_body', page('iis'));
  assert.ok(has(iis, 'database', 'Microsoft SQL Server') && has(iis, 'source_location', '/InfusionCentral/report.asp:19'));
  assert.deepEqual(matchLeak('http.error_body', page('plain')), []);
});

test('decisions: a bare 404 is not a leak, an Apache signature with a version is', () => {
  assert.deepEqual(matchLeak('http.error_body', body('<html><body><h1>404 Not Found</h1></body></html>')), []);
  assert.deepEqual(matchLeak('http.error_body', 'Not Found'), []);
  assert.deepEqual(matchLeak('http.server', 'nginx'), []);
  assert.deepEqual(matchLeak('http.server', 'Apache'), []);
  const sig = matchLeak('http.error_body', body('<hr>\n<address>Apache/2.4.41 (Ubuntu) Server at x Port 80</address>\n'));
  assert.equal(sig[0]?.pattern, 'apache-httpd-signature');
  assert.equal(sig[0]?.severity, 'low');
  assert.ok(has(sig[0]?.facts ?? [], 'web_server', 'Apache httpd', '2.4.41') && has(sig[0]?.facts ?? [], 'os', 'Ubuntu'));
  // The requested URL echoed in a 404 is the attacker's path, not a leaked one.
  assert.deepEqual(matchLeak('http.error_body', body('<p>The requested URL /var/www/etc/passwd was not found on this server.</p>')), []);
});

test('severity follows what leaked; headers are low, stack traces and SQL higher', () => {
  assert.equal(matchLeak('http.x_aspnet_version', '4.0.30319')[0]?.severity, 'low');
  assert.equal(matchLeak('http.server', 'Microsoft-IIS/7.5')[0]?.severity, 'low');
  const mysql = matchLeak('http.error_body', "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'x' at line 1");
  assert.equal(mysql[0]?.severity, 'high');
  const wz = matchLeak('http.error_body', '<title>KeyError // Werkzeug Debugger</title>');
  assert.equal(wz[0]?.severity, 'critical');
});

test('unit examples of the patterns the corpus does not reach', () => {
  assert.ok(has(facts('http.error_body', 'ActiveRecord::RecordNotFound (Couldn\'t find Device)'), 'framework', 'Ruby on Rails'));
  assert.ok(has(facts('http.error_body', 'DB2 SQL error: SQLCODE=-204, SQLSTATE=42704'), 'database', 'IBM Db2'));
  assert.ok(has(facts('http.error_body', 'Traceback (most recent call last):\\n  File "/home/radadmin/app.py", line 3, in x'), 'username', 'radadmin'));
  assert.ok(has(facts('http.error_body', 'Warning: fopen(C:\\Users\\jdoe\\x.txt): failed in C:\\Users\\jdoe\\site\\a.php on line 3'), 'username', 'jdoe'));
  assert.ok(has(facts('http.x_owa_version', '15.1.2507.6'), 'product', 'Microsoft Exchange', '15.1.2507.6'));
  assert.ok(has(facts('telnet.banner', 'Debian GNU/Linux 9\nmonitor3 login:'), 'internal_host', 'monitor3'));
  assert.ok(has(facts('hl7.error', 'System.NullReferenceException: Object reference not set'), 'runtime', '.NET'));
  assert.ok(has(facts('hl7.error', 'java.lang.IllegalStateException: queue full'), 'language', 'Java'));
  assert.ok(has(facts('http.error_body', body("<h1>Server Error in '/' Application.</h1>Runtime Error ... create a &lt;customErrors&gt; tag")), 'framework', 'ASP.NET'));
});

test('escaped line breaks are undone, but Windows paths keep their backslashes', () => {
  assert.equal(prepareText('a\\r\\nb\\nc\\td'), 'a\nb\nc\td');
  assert.equal(prepareText('in C:\\inetpub\\new\\x.aspx.cs\\r\\n  next'), 'in C:\\inetpub\\new\\x.aspx.cs\n  next');
  assert.equal(prepareText('trace:\\n#0 x'), 'trace:\n#0 x');
});

test('snippets: at most 300 characters, centred, personal data masked', () => {
  const text = `${'x'.repeat(500)} patient MRN: 12345678 born 1945-03-12 call 555-123-4567 mail a.b@c.org ORA-00942 ${'y'.repeat(500)}`;
  const at = text.indexOf('ORA-');
  const s = redactSnippet(text, at, 9);
  assert.ok(s.length <= 302, `${s.length}`);
  assert.ok(s.includes('ORA-00942'));
  assert.ok(!/12345678|1945-03-12|555-123-4567|a\.b@c\.org/.test(s), s);
  const sql = facts('http.error_body', "to use near 'WHERE name='Smith' AND dob=19450312' at line 1 (MySQL server version)");
  assert.ok(!JSON.stringify(sql).includes('Smith') && !JSON.stringify(sql).includes('19450312'), JSON.stringify(sql));
});

function device(attrs: Record<string, string[]>): DeviceFacts {
  const m = new Map<string, FactValue[]>();
  for (const [a, vs] of Object.entries(attrs)) m.set(a, vs.map((value, i) => ({ value, confidence: 0.9, protocol: a.split('.')[0] ?? 'http', count: 1, evidence: [{ protocol: 'http', attribute: a, value, frame: 10 + i, time: 1000 + i }] })));
  return { id: 'mac:00:11:22:33:44:55', macs: [], ips: ['10.0.0.5'], first: 0, last: 1, observations: 3, router: false, facts: m, services: [], peers: { internal: 0, external: 0 } };
}

test('detectLeaks: one finding per pattern and value, evidence with frame, sorted by severity; leakSoftware', () => {
  const java = body(errorPage('java', '/', 'Lab').body);
  const d = device({ 'http.server': ['Apache-Coyote/1.1'], 'http.error_body': [java, java], 'http.title': ['Login'], 'http.status': ['500 Internal Server Error'] });
  const f = detectLeaks(d);
  assert.deepEqual(f.map((x) => x.pattern).sort(), ['java-stack-trace', 'oracle-ora-error', 'server-header-version', 'tomcat-error-report']);
  assert.equal(f[0]?.severity, 'high');
  const ora = f.find((x) => x.pattern === 'oracle-ora-error');
  assert.equal(ora?.evidence.frame, 10);
  assert.equal(ora?.evidence.attribute, 'http.error_body');
  assert.ok(ora?.evidence.snippet.includes('ORA-00933'));
  assert.ok((ora?.evidence.snippet.length ?? 999) <= 302);
  const sw = leakSoftware(f);
  assert.ok(sw.some((s) => s.name === 'Apache Tomcat' && s.version === '8.5.23'));
  assert.ok(sw.some((s) => s.name === 'Oracle'));
  assert.equal(new Set(sw.map((s) => s.name.toLowerCase())).size, sw.length);
  assert.deepEqual(detectLeaks(device({ 'http.server': ['nginx'], 'http.error_body': ['Not Found'] })), []);
});

test('property: random and mutated values never throw, stay bounded and fast', () => {
  const seeds = corpus.map((c) => c.value);
  const attrs = ['http.error_body', 'http.server', 'http.x_powered_by', 'hl7.error', 'ftp.banner', 'smtp.banner', 'telnet.banner', 'dicom.reject', 'http.title'];
  let worst = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...attrs),
      fc.oneof(fc.string({ maxLength: 2000 }), fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 8 })), { maxLength: 6 })).map(([s, edits]) => {
        let v = s;
        for (const [i, t] of edits) { const k = i % (v.length + 1); v = v.slice(0, k) + t + v.slice(k + 3); }
        return v;
      }), fc.constantFrom('\\n'.repeat(3000), 'at '.repeat(2000), `${'C:\\a'.repeat(800)}`, `Warning: ${' in /a'.repeat(600)}`, `${'a.'.repeat(2000)}local`)),
      (a, v) => {
        const t0 = performance.now();
        const r = matchLeak(a, v);
        worst = Math.max(worst, performance.now() - t0);
        for (const m of r) assert.ok(m.facts.length <= 32 && m.facts.every((f) => f.value.length <= 201));
      },
    ),
    { numRuns: 500 },
  );
  assert.ok(worst < 50, `slowest value took ${worst.toFixed(1)} ms`);
});
