import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LeakFinding, Severity } from '../assess/finding.ts';
import type { VulnMatch } from '../assess/vulnerabilities.ts';
import type { Category, Criticality } from '../inventory/device.ts';
import {
  aliasLetters,
  disclosureReports,
  escapeMarkdown,
  leakSummary,
  renderHtml,
  renderMarkdown,
  renderSummaryHtml,
  renderSummaryMarkdown,
  UNKNOWN_VENDOR,
  type DeviceWithLeaks,
} from './disclosure.ts';

const AS_OF = new Date('2026-12-01T00:00:00Z');
const T0 = Date.parse('2026-11-23T10:00:00Z') / 1000;

interface Spec {
  id: string;
  ip: string;
  mac?: string;
  hostname?: string;
  vendor?: string;
  vendorConfidence?: number;
  model?: string;
  type?: string;
  category?: Category;
  criticality?: Criticality;
  risk?: number;
  leaks?: LeakFinding[];
  vulnerabilities?: VulnMatch[];
}

const claim = (value: string, confidence = 0.9) => ({ value, confidence, rule: 'test', evidence: [] });

function device(s: Spec): DeviceWithLeaks {
  const category = s.category ?? 'imaging';
  const criticality = s.criticality ?? 'diagnostic';
  return {
    id: s.id,
    macs: s.mac !== undefined ? [s.mac] : [],
    ips: [s.ip],
    hostnames: s.hostname !== undefined ? [s.hostname] : [],
    firstSeen: T0,
    lastSeen: T0 + 3600,
    randomMac: false,
    ...(s.vendor !== undefined ? { vendor: claim(s.vendor, s.vendorConfidence ?? 0.9) } : {}),
    ...(s.model !== undefined ? { model: claim(s.model) } : {}),
    ...(s.type !== undefined ? { type: claim(s.type) } : {}),
    category: { value: category, confidence: 0.9, rule: 'test', evidence: [] },
    criticality,
    software: [],
    services: [],
    peers: { internal: 3, external: 0 },
    observations: 10,
    lifecycle: { state: 'unknown', basis: 'no OS' },
    vulnerabilities: s.vulnerabilities ?? [],
    risk: { score: s.risk ?? 30, exploitability: 0.5, impact: 0.75, exposure: 0.6, factors: [], explanation: `${s.risk ?? 30} = test` },
    leaks: s.leaks ?? [],
  };
}

function aspnet(snippet: string, severity: Severity = 'medium', frame = 100): LeakFinding {
  return {
    pattern: 'aspnet-ysod',
    title: 'ASP.NET error page with a stack trace',
    facts: [
      { kind: 'framework', value: 'ASP.NET', version: '4.7.3062.0' },
      { kind: 'web_server', value: 'Microsoft-IIS', version: '7.5' },
      { kind: 'path', value: 'C:\\inetpub\\wwwroot\\PacsWeb\\Default.aspx.cs' },
    ],
    evidence: { protocol: 'http', attribute: 'http.error_page', frame, time: T0 + 60, snippet },
    severity,
    remediation: 'Set customErrors mode="RemoteOnly" (or On) so remote clients get a generic error page.',
  };
}

function oracle(): LeakFinding {
  return {
    pattern: 'oracle-ora-error',
    title: 'Oracle database error with SQL',
    facts: [
      { kind: 'database', value: 'Oracle', version: '11g' },
      { kind: 'sql', value: "SELECT * FROM readings WHERE id='" },
      { kind: 'internal_host', value: 'dbsrv01.hosp.local' },
      { kind: 'internal_ip', value: '10.9.8.7' },
      { kind: 'username', value: 'svc_pacs' },
    ],
    evidence: { protocol: 'http', attribute: 'http.error_page', frame: 200, time: T0 + 120, snippet: 'ORA-00933: SQL command not properly ended (host dbsrv01.hosp.local, 10.9.8.7)' },
    severity: 'high',
    remediation: 'Catch database exceptions and return a generic error page.',
  };
}

const iisVuln: VulnMatch = {
  id: 'CVE-2010-3972',
  cves: ['CVE-2010-3972'],
  title: 'Microsoft IIS FTP Service heap overflow',
  source: 'nvd',
  kev: false,
  ransomware: false,
  cvss: 10,
  confidence: 0.6,
  why: "vendor 'Microsoft' (in the software's name) matches 'Microsoft' and software 'Microsoft-IIS 7.5' matches NVD product 'internet_information_services 7.5'; version 7.5 is within '7.5'",
};
const unrelatedVuln: VulnMatch = { ...iisVuln, id: 'CVE-2099-0001', cves: ['CVE-2099-0001'], title: 'Something in the DICOM stack', why: "model 'Pacs X' matches product 'Pacs X'" };

function hospital(): DeviceWithLeaks[] {
  return [
    device({
      id: 'mac:00:1b:2c:3d:4e:5f',
      ip: '10.2.0.9',
      mac: '00:1b:2c:3d:4e:5f',
      hostname: 'CT-ROOM3.hosp.local',
      vendor: 'Siemens Healthineers',
      model: 'SOMATOM go',
      type: 'CT scanner',
      risk: 55,
      leaks: [aspnet('Server Error in /PacsWeb at 10.2.0.9 (00:1b:2c:3d:4e:5f) on CT-ROOM3 from 10.2.0.50 <script>alert(1)</script> ```` | # x')],
      vulnerabilities: [iisVuln, unrelatedVuln],
    }),
    device({
      id: 'mac:00:1b:2c:3d:4e:60',
      ip: '10.2.0.10',
      mac: '00:1b:2c:3d:4e:60',
      vendor: 'siemens healthineers',
      model: 'SOMATOM go',
      type: 'CT scanner',
      risk: 70,
      leaks: [aspnet('Server Error', 'high', 150), oracle()],
    }),
    device({ id: 'mac:00:1b:2c:3d:4e:61', ip: '10.2.0.11', vendor: 'Siemens Healthineers', model: 'Sensation 64', type: 'CT scanner', risk: 20, leaks: [] }),
    device({
      id: 'ip:10.5.0.4',
      ip: '10.5.0.4',
      vendor: 'BD',
      model: 'Alaris 8015',
      type: 'infusion pump',
      category: 'infusion',
      criticality: 'life-sustaining',
      risk: 80,
      leaks: [oracle()],
    }),
    device({ id: 'ip:10.7.0.2', ip: '10.7.0.2', type: 'web camera', category: 'building-iot', criticality: 'support', risk: 10, leaks: [aspnet('x', 'low')] }),
    device({ id: 'ip:10.7.0.3', ip: '10.7.0.3', vendor: 'Acme', category: 'general-it', criticality: 'support', risk: 5 }),
  ];
}

test('aliases run A … Z, AA …', () => {
  assert.deepEqual([0, 1, 25, 26, 27, 701, 702].map(aliasLetters), ['A', 'B', 'Z', 'AA', 'AB', 'ZZ', 'AAA']);
});

test('one report per vendor with leaking devices; vendors without a name grouped; spellings folded', () => {
  const reports = disclosureReports(hospital(), { asOf: AS_OF, hospital: 'St. Example', contact: 'security@example.org' });
  assert.deepEqual(
    reports.map((r) => r.vendor).sort(),
    ['BD', 'Siemens Healthineers', UNKNOWN_VENDOR].sort(),
  );
  assert.ok(!reports.some((r) => r.vendor === 'Acme'), 'a vendor whose devices do not leak gets no report');
  const siemens = reports.find((r) => r.vendor === 'Siemens Healthineers');
  assert.ok(siemens);
  assert.equal(siemens.slug, 'siemens-healthineers');
  assert.equal(reports.find((r) => r.vendor === UNKNOWN_VENDOR)?.slug, 'unknown-manufacturer');
  // Two leaking CTs (the third leaks nothing and is not listed); aliases by risk, highest first.
  assert.equal(siemens.devices.length, 2);
  assert.deepEqual(
    siemens.devices.map((d) => [d.alias, d.risk]),
    [
      ['device A', 70],
      ['device B', 55],
    ],
  );
  assert.equal(siemens.devices[0]?.label, 'device A (CT scanner, model SOMATOM go)');
  assert.deepEqual(siemens.models, [{ model: 'SOMATOM go', type: 'CT scanner', devices: 2, aliases: ['device A', 'device B'] }]);
  // Issues: the high-severity ones first; the ASP.NET pattern counts both devices.
  assert.deepEqual(
    siemens.issues.map((i) => [i.pattern, i.severity, i.devices.length, i.findings]),
    [
      ['aspnet-ysod', 'high', 2, 2],
      ['oracle-ora-error', 'high', 1, 1],
    ],
  );
  assert.equal(siemens.highestSeverity, 'high');
  assert.equal(siemens.hospital, 'St. Example');
  assert.equal(siemens.asOf, '2026-12-01');
  assert.ok(siemens.period !== undefined && siemens.period.from.startsWith('2026-11-23T10:01'));
  assert.ok(siemens.requestedActions.length >= 4);
  assert.ok(siemens.disclosure.some((p) => /ISO\/IEC 29147/.test(p)));
  assert.ok(siemens.disclosure.some((p) => /FDA/.test(p)));
  assert.ok(siemens.references.some((r) => r.url.includes('fda.gov')));
  assert.ok(reports.find((r) => r.vendor === UNKNOWN_VENDOR)?.caveats.some((c) => /could not be identified/.test(c)));
});

test('facts grouped by kind in report order, remediation deduplicated, criticality and scores per issue', () => {
  const [siemens] = disclosureReports(hospital(), { asOf: AS_OF }).filter((r) => r.vendor.startsWith('Siemens'));
  assert.ok(siemens);
  const asp = siemens.issues.find((i) => i.pattern === 'aspnet-ysod');
  assert.ok(asp);
  assert.deepEqual(
    asp.facts.map((f) => [f.kind, f.values]),
    [
      ['web_server', ['Microsoft-IIS 7.5']],
      ['framework', ['ASP.NET 4.7.3062.0']],
      ['path', ['C:\\inetpub\\wwwroot\\PacsWeb\\Default.aspx.cs']],
    ],
  );
  assert.equal(asp.remediation.length, 1);
  assert.deepEqual(asp.risk.criticality, [{ criticality: 'diagnostic', devices: 2 }]);
  assert.deepEqual(asp.risk.scores, [
    { device: 'device A', score: 70 },
    { device: 'device B', score: 55 },
  ]);
  assert.equal(asp.risk.min, 55);
  assert.equal(asp.risk.max, 70);
  assert.equal(asp.evidence.length, 2);
  assert.equal(asp.evidence[0]?.frame, 150);
  assert.equal(asp.evidence[0]?.time, '2026-11-23T10:01:00Z');
  // The leaked IIS 7.5 has a known vulnerability in device B's list; the DICOM one is not about a leaked component.
  assert.deepEqual(
    asp.vulnerabilities.map((v) => [v.id, v.component, v.devices]),
    [['CVE-2010-3972', 'Microsoft-IIS 7.5', ['device B']]],
  );
  const ora = siemens.issues.find((i) => i.pattern === 'oracle-ora-error');
  assert.deepEqual(
    ora?.facts.map((f) => f.kind),
    ['database', 'internal_host', 'internal_ip', 'username', 'sql'],
  );
  assert.ok(siemens.factKinds.includes('sql'));
  assert.match(siemens.summary, /2 Siemens Healthineers devices \(1 model\)/);
});

test('addresses of the hospital are hidden by default: aliases in snippets, internal IPs and MACs masked', () => {
  const all = hospital();
  const reports = disclosureReports(all, { asOf: AS_OF });
  const siemens = reports.find((r) => r.vendor.startsWith('Siemens'));
  assert.ok(siemens);
  const snippet = siemens.issues[0]?.evidence.find((e) => e.device === 'device B')?.snippet ?? '';
  assert.match(snippet, /at device B \(device B\) on device B from \[hospital device\]|at device B \(device B\) on device B from \[internal IP\]/);
  const ora = siemens.issues.find((i) => i.pattern === 'oracle-ora-error');
  assert.deepEqual(ora?.facts.find((f) => f.kind === 'internal_ip')?.values, ['[internal IP]']);
  for (const r of reports) {
    for (const text of [renderMarkdown(r), renderHtml(r), JSON.stringify(r)]) {
      for (const d of all) {
        for (const a of [d.id, ...d.ips, ...d.macs, ...d.hostnames]) assert.ok(!text.includes(a), `${r.vendor}: ${a} leaked into the report`);
      }
      assert.ok(!text.includes('10.9.8.7'));
      assert.ok(!/CT-ROOM3/i.test(text));
    }
    for (const d of r.devices) {
      assert.equal(d.ips, undefined);
      assert.equal(d.id, undefined);
    }
  }
  const s = leakSummary(all, { asOf: AS_OF });
  const st = `${renderSummaryMarkdown(s)}${renderSummaryHtml(s)}${JSON.stringify(s)}`;
  for (const d of all) for (const a of [d.id, ...d.ips, ...d.macs]) assert.ok(!st.includes(a), `summary: ${a}`);
});

test('includeAddresses shows them, and says the copy is for internal use', () => {
  const [bd] = disclosureReports(hospital(), { asOf: AS_OF, includeAddresses: true }).filter((r) => r.vendor === 'BD');
  assert.ok(bd);
  assert.deepEqual(bd.devices[0]?.ips, ['10.5.0.4']);
  assert.equal(bd.devices[0]?.id, 'ip:10.5.0.4');
  assert.ok(renderMarkdown(bd).includes('10.5.0.4'));
  assert.ok(renderHtml(bd).includes('10.5.0.4'));
  assert.ok(bd.caveats.some((c) => /internal use/.test(c)));
  // With addresses on, snippets are left as seen.
  assert.match(bd.issues[0]?.evidence[0]?.snippet ?? '', /10\.9\.8\.7/);
});

test('HTML escapes hostile snippets and values', () => {
  const hostile = device({
    id: 'ip:10.6.0.1',
    ip: '10.6.0.1',
    vendor: 'Evil <img src=x onerror=alert(1)> Corp',
    model: '"><script>alert("m")</script>',
    type: 'monitor',
    leaks: [
      {
        ...aspnet('<script>alert(document.cookie)</script></pre><iframe src="javascript:alert(1)">&amp;'),
        title: '<b onmouseover=alert(2)>x</b>',
        facts: [{ kind: 'path', value: "</code><script>alert('f')</script>" }],
        remediation: '<a href="javascript:alert(3)">fix</a>',
      },
    ],
  });
  const [r] = disclosureReports([hostile], { asOf: AS_OF, hospital: '<Hospital & Co>' });
  assert.ok(r);
  const html = renderHtml(r);
  assert.ok(!/<script/i.test(html), 'no script element');
  assert.ok(!/<iframe/i.test(html));
  assert.ok(!/<img/i.test(html));
  assert.ok(!/<b onmouseover/i.test(html));
  assert.ok(!/href="javascript:/i.test(html));
  assert.ok(html.includes('&lt;script&gt;alert(document.cookie)&lt;/script&gt;&lt;/pre&gt;'));
  assert.ok(html.includes('&amp;amp;'));
  assert.ok(html.includes('&lt;Hospital &amp; Co&gt;'));
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<style>[^]*@media print/);
  // The summary too.
  const sh = renderSummaryHtml(leakSummary([hostile], { asOf: AS_OF }));
  assert.ok(!/<script|<img/i.test(sh));
});

test('Markdown keeps hostile text inert: snippets fenced beyond their own backticks, inline text escaped', () => {
  const [siemens] = disclosureReports(hospital(), { asOf: AS_OF }).filter((r) => r.vendor.startsWith('Siemens'));
  assert.ok(siemens);
  const md = renderMarkdown(siemens);
  // The snippet holds a run of 4 backticks: its fence is 5.
  assert.match(md, /\n`````text\n[^\n]*<script>alert\(1\)<\/script> ```` \| # x\n`````\n/);
  assert.equal(escapeMarkdown('<script>x</script> | [a](b) *c* _d_ `e`'), '\\<script\\>x\\</script\\> \\| \\[a\\](b) \\*c\\* \\_d\\_ \\`e\\`');
  assert.equal(escapeMarkdown('# heading'), '\\# heading');
  assert.equal(escapeMarkdown('a\nb'), 'a b');
  const hostile = device({ id: 'ip:10.6.0.1', ip: '10.6.0.1', vendor: 'X', model: 'a | b <img src=x>', leaks: [aspnet('s')] });
  const [r] = disclosureReports([hostile], { asOf: AS_OF });
  assert.ok(r);
  const out = renderMarkdown(r);
  assert.ok(!/(?<!\\)<img/.test(out), 'no unescaped tag');
  assert.ok(out.includes('a \\| b \\<img src=x\\>'));
  assert.match(out, /^# Security disclosure: information leaks in X devices/);
  assert.match(out, /## Requested actions/);
  assert.match(out, /## Coordinated disclosure/);
});

test('a low-confidence vendor is flagged for confirmation before sending', () => {
  const d = device({ id: 'ip:10.1.1.1', ip: '10.1.1.1', vendor: 'Intel', vendorConfidence: 0.4, leaks: [aspnet('s')] });
  const [r] = disclosureReports([d], { asOf: AS_OF });
  assert.ok(r?.caveats.some((c) => /confidence below 0\.6/.test(c)));
});

test('slugs are unique and never "summary"', () => {
  const a = device({ id: 'ip:10.1.1.1', ip: '10.1.1.1', vendor: 'Summary', leaks: [aspnet('s')] });
  const b = device({ id: 'ip:10.1.1.2', ip: '10.1.1.2', vendor: 'GE Healthcare', leaks: [aspnet('s')] });
  const c = device({ id: 'ip:10.1.1.3', ip: '10.1.1.3', vendor: 'GE-Healthcare', leaks: [aspnet('s')] });
  const slugs = disclosureReports([a, b, c], { asOf: AS_OF }).map((r) => r.slug).sort();
  assert.deepEqual(slugs, ['ge-healthcare', 'ge-healthcare-2', 'summary-2']);
});

test('no leaks: no reports, and a summary that says so', () => {
  const quiet = hospital().map((d) => ({ ...d, leaks: [] }));
  assert.deepEqual(disclosureReports(quiet, { asOf: AS_OF }), []);
  const s = leakSummary(quiet, { asOf: AS_OF });
  assert.equal(s.leakingDevices, 0);
  assert.equal(s.devices, 6);
  assert.match(renderSummaryMarkdown(s), /No device was seen disclosing its internals/);
});

test('the hospital-wide summary: by vendor, category, kind, pattern, severity and top devices', () => {
  const s = leakSummary(hospital(), { asOf: AS_OF, hospital: 'St. Example', top: 3 });
  assert.equal(s.devices, 6);
  assert.equal(s.leakingDevices, 4);
  assert.equal(s.findings, 5);
  assert.deepEqual(
    s.byVendor.map((v) => [v.vendor, v.devices, v.findings, v.highestSeverity, v.lifeSustaining]),
    [
      ['Siemens Healthineers', 2, 3, 'high', 0],
      ['BD', 1, 1, 'high', 1],
      [UNKNOWN_VENDOR, 1, 1, 'low', 0],
    ],
  );
  assert.equal(s.byVendor[0]?.slug, 'siemens-healthineers');
  assert.deepEqual(
    s.byCategory.map((c) => [c.category, c.devices, c.total, c.findings]),
    [
      ['imaging', 2, 3, 3],
      ['infusion', 1, 1, 1],
      ['building-iot', 1, 1, 1],
      ['general-it', 0, 1, 0],
    ],
  );
  const kinds = Object.fromEntries(s.byKind.map((k) => [k.kind, [k.devices, k.findings]]));
  assert.deepEqual(kinds.framework, [3, 3]);
  assert.deepEqual(kinds.sql, [2, 2]);
  assert.deepEqual(
    s.byPattern.map((p) => [p.pattern, p.severity, p.devices, p.vendors]),
    [
      ['aspnet-ysod', 'high', 3, 2],
      ['oracle-ora-error', 'high', 2, 2],
    ],
  );
  assert.deepEqual(
    s.bySeverity.filter((x) => x.findings > 0).map((x) => [x.severity, x.findings, x.devices]),
    [
      ['high', 3, 2],
      ['medium', 1, 1],
      ['low', 1, 1],
    ],
  );
  assert.deepEqual(
    s.topDevices.map((d) => [d.label, d.risk]),
    [
      ['#1 BD infusion pump, model Alaris 8015', 80],
      ['#2 Siemens Healthineers CT scanner, model SOMATOM go', 70],
      ['#3 Siemens Healthineers CT scanner, model SOMATOM go', 55],
    ],
  );
  const md = renderSummaryMarkdown(s);
  assert.match(md, /4 of 6 devices disclose internal details/);
  assert.match(md, /\[siemens-healthineers\.md\]\(siemens-healthineers\.md\)/);
  const html = renderSummaryHtml(s);
  assert.match(html, /href="siemens-healthineers\.html"/);
  assert.match(html, /St\. Example/);
});
