import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OsRelease } from '../inventory/device.ts';
import { shippedAdvisories } from '../knowledge/advisories.ts';
import { loadDeviceProfileData } from '../knowledge/device-profiles.ts';
import {
  checkVersion,
  compareVersions,
  knownVendorsForTest,
  matchProduct,
  matchVendor,
  matchVulnerabilities,
  parseConstraint,
  productTokens,
  type VulnMatch,
  type VulnSubject,
} from './vulnerabilities.ts';

// The shipped knowledge only (data/advisories.json, data/os-flaws.json): no user imports.
const kb = shippedAdvisories();

const subject = (s: Partial<VulnSubject>): VulnSubject => ({ software: [], services: [], ...s });
const byId = (ms: VulnMatch[], id: string): VulnMatch | undefined => ms.find((m) => m.id === id);

const WIN7: OsRelease = { product: 'windows', cycle: '7-sp1', label: 'Windows 7 SP1' };
const WIN10_22H2: OsRelease = { product: 'windows', cycle: '10-22h2', label: 'Windows 10 22H2' };
const SRV2008R2: OsRelease = { product: 'windows-server', cycle: '2008-r2-sp1', label: 'Windows Server 2008 R2 SP1' };
const SRV2019: OsRelease = { product: 'windows-server', cycle: '2019', label: 'Windows Server 2019' };
const SMB = { transport: 'tcp', port: 445, app: 'smb' } as const;
const RDP = { transport: 'tcp', port: 3389 } as const;

// ─── Pieces ──────────────────────────────────────────────────────────────────────────────────────

test('versions compare as dotted numbers, with v prefixes, letters and wildcards', () => {
  assert.equal(compareVersions('8.00.01', '8.0.1'), 0);
  assert.equal(compareVersions('v2.1', '2.1.0'), 0);
  assert.equal(compareVersions('2.10', '2.9'), 1);
  assert.equal(compareVersions('B.06.10', 'B.06.18'), -1);
  assert.equal(compareVersions('12.3.1', '12.x'), 0);
  assert.equal(compareVersions('2023.3_Build_9000', '2023.3_Build_9342'), -1);
  assert.equal(compareVersions('3.6', 'U61'), undefined);
});

test('advisory version strings: vers:, operators, prose, ranges, alternatives, qualifiers, dates, variants', () => {
  assert.deepEqual(parseConstraint('vers:all/*'), { kind: 'all' });
  assert.deepEqual(parseConstraint('All versions'), { kind: 'all' });
  assert.deepEqual(parseConstraint('<= 4.3'), { kind: 'versions', bounds: [{ op: '<=', version: '4.3' }] });
  assert.deepEqual(parseConstraint('v2.1 and prior'), { kind: 'versions', bounds: [{ op: '<=', version: 'v2.1' }] });
  assert.deepEqual(parseConstraint('All versions prior to 3.6.7'), { kind: 'versions', bounds: [{ op: '<', version: '3.6.7' }] });
  assert.deepEqual(parseConstraint('vers:generic/>=2.4.49|<2.4.51'), { kind: 'versions', bounds: [{ op: '>=', version: '2.4.49' }, { op: '<', version: '2.4.51' }] });
  assert.deepEqual(parseConstraint('6.x model 35700BAX'), { kind: 'versions', bounds: [{ op: '=', version: '6.x' }], qualifier: 'model 35700BAX' });
  assert.equal(parseConstraint('< august 28').kind, 'text');
  assert.equal(parseConstraint('<8/30/2024').kind, 'text');
  assert.deepEqual(parseConstraint('MMT-1715 | MMT-1754'), { kind: 'variant', names: ['MMT-1715', 'MMT-1754'] });

  assert.equal(checkVersion(['>= 1.0.0 | <= 1.3.1'], '1.3.1', '').state, 'in');
  assert.equal(checkVersion(['>= 1.0.0 | <= 1.3.1'], '1.3.2', '').state, 'out');
  assert.equal(checkVersion(['1.1 | 1.2 | 1.4 | 1.5'], '1.4', '').state, 'in');
  assert.equal(checkVersion(['1.1 | 1.2 | 1.4 | 1.5'], '1.3', '').state, 'out');
  assert.equal(checkVersion(['1.1 | 1.2 | 1.4 | 1.5'], '1.10', '').state, 'out');
  assert.equal(checkVersion(['9.7'], '9.7.2', '').state, 'in', 'an advisory naming 9.7 covers its patch releases');
  assert.equal(checkVersion(['<= 8.00.01'], '8.00.01', '').state, 'in');
  assert.equal(checkVersion(['vers:all/*'], undefined, '').state, 'all');
  const unknown = checkVersion(['< 3.6.7'], undefined, '');
  assert.equal(unknown.state, 'unknown');
  assert.match(unknown.text, /version not seen/);
  assert.equal(checkVersion(['< august 28'], '2.0', '').state, 'unknown');
  assert.equal(checkVersion(['MMT-1710'], undefined, 'MiniMed 620G MMT-1710').state, 'in');
});

test('vendors: normalised and conservative', () => {
  assert.ok(matchVendor('GE Healthcare', 'GE Healthcare'));
  assert.ok(matchVendor('GE Healthcare', 'GE'));
  assert.ok(matchVendor('GE Healthcare', 'General Electric (GE)'));
  assert.ok(matchVendor('BD', 'Becton, Dickinson and Company (BD)'));
  assert.ok(matchVendor('Philips Medical Systems', 'Philips'));
  assert.ok(matchVendor('Philips', 'Phillips'), 'two CISA advisories spell Philips "Phillips"');
  assert.ok(matchVendor('Dräger', 'Draeger'));
  assert.ok(matchVendor('Siemens Healthineers', 'Siemens'));
  assert.ok(matchVendor('Baxter', 'Hillrom and ELI, Baxter International Inc.'));
  assert.equal(matchVendor('Philips', 'Phillips 66'), undefined);
  assert.equal(matchVendor('GE Healthcare', 'GE Appliances'), undefined);
  assert.equal(matchVendor('Philips', 'Philips Lighting'), undefined);
  assert.equal(matchVendor('Smiths Medical', 'Smiths Detection'), undefined);
  assert.equal(matchVendor('Johnson Controls', 'Johnson & Johnson'), undefined);
});

test('products: token overlap, model numbers must agree, generic words never match alone', () => {
  const t = (s: string): Set<string> => productTokens(s, new Set(['bd']));
  assert.ok(matchProduct(t('Alaris PC Unit 8015'), t('Alaris 8015 PC unit')));
  assert.equal(matchProduct(t('Alaris PC Unit 8015'), t('Alaris 8000 PC unit')), undefined);
  assert.equal(matchProduct(t('IntelliVue MX800'), t('IntelliVue MX40 Patient Worn Monitor (WLAN only)')), undefined);
  assert.equal(matchProduct(t('PACS'), t('Vue PACS')), undefined);
  assert.equal(matchProduct(t('IntelliSpace Cardiovascular'), t('IntelliSpace Portal 8.0.x')), undefined);
  assert.ok(matchProduct(t('Pyxis MedStation ES'), t('BD Pyxis MedStation ES')));
});

// ─── Real advisories from the corpus (data/advisories.json) ─────────────────────────────────────

test('ICSMA-17-255-01: Philips IntelliVue MX40 before B.06.18', () => {
  const hit = byId(matchVulnerabilities(subject({ vendor: 'Philips Medical Systems', model: 'IntelliVue MX40', software: [{ name: 'IntelliVue MX40', version: 'B.06.10' }] }), kb), 'ICSMA-17-255-01');
  assert.ok(hit);
  assert.equal(hit.source, 'csaf');
  assert.ok(hit.confidence >= 0.5, `confidence ${hit.confidence}`);
  assert.match(hit.why, /version B\.06\.10 is within '< B\.06\.18'/);
  assert.match(hit.url ?? '', /icsma-17-255-01/);
  const fixed = matchVulnerabilities(subject({ vendor: 'Philips', model: 'IntelliVue MX40', software: [{ name: 'IntelliVue MX40', version: 'B.06.18' }] }), kb);
  // The model has no version of its own, but the device's software says B.06.18: fixed, not reported.
  assert.equal(byId(fixed, 'ICSMA-17-255-01'), undefined);
  // Model only, version never seen: reported, less sure, and the why says so.
  const unversioned = byId(matchVulnerabilities(subject({ vendor: 'Philips', model: 'IntelliVue MX40' }), kb), 'ICSMA-17-255-01');
  assert.ok(unversioned && unversioned.confidence < hit.confidence);
  assert.match(unversioned.why, /version not seen/);
});

test('ICSMA-22-174-01: OFFIS DCMTK before 3.6.7 (software with its own vendor)', () => {
  const on = byId(matchVulnerabilities(subject({ vendor: 'Siemens Healthineers', model: 'MAGNETOM Vida', software: [{ name: 'DCMTK', version: '3.6.5', vendor: 'OFFIS' }] }), kb), 'ICSMA-22-174-01');
  assert.ok(on);
  assert.match(on.why, /vendor 'OFFIS' matches 'OFFIS'/);
  assert.match(on.why, /version 3\.6\.5 is within '< 3\.6\.7'/);
  assert.ok(on.cvss !== undefined && on.cvss > 0);
  assert.ok(on.confidence >= 0.8);
  assert.equal(byId(matchVulnerabilities(subject({ software: [{ name: 'DCMTK', version: '3.6.7', vendor: 'OFFIS' }] }), kb), 'ICSMA-22-174-01'), undefined);
  // The toolkit named with its vendor in the name, no vendor field: still found.
  assert.ok(byId(matchVulnerabilities(subject({ software: [{ name: 'OFFIS DCMTK', version: '3.6.6' }] }), kb), 'ICSMA-22-174-01'));
});

test('ICSMA-24-200-01: Philips Vue PACS before 12.2.8.410; an unknown version stays, less sure, and says so', () => {
  const dev = (version?: string): VulnSubject =>
    subject({ vendor: 'Philips', model: 'Vue PACS', software: version !== undefined ? [{ name: 'Vue PACS', version }] : [] });
  const inside = byId(matchVulnerabilities(dev('12.2.8.400'), kb), 'ICSMA-24-200-01');
  assert.ok(inside);
  assert.match(inside.why, /12\.2\.8\.400 is within '<12\.2\.8\.410'/);
  const unknown = byId(matchVulnerabilities(dev(), kb), 'ICSMA-24-200-01');
  assert.ok(unknown);
  assert.match(unknown.why, /version not seen/);
  assert.ok(unknown.confidence < inside.confidence);
  const after = byId(matchVulnerabilities(subject({ vendor: 'Philips', software: [{ name: 'Vue PACS', version: '12.2.8.410' }] }), kb), 'ICSMA-24-200-01');
  assert.equal(after, undefined);
});

test('ICSMA-22-251-01: Baxter Sigma Spectrum v8.x; a 7.x pump is outside every Spectrum advisory', () => {
  const pump = (version: string): VulnMatch[] => matchVulnerabilities(subject({ vendor: 'Baxter', software: [{ name: 'Sigma Spectrum', version }] }), kb);
  const hit = byId(pump('8.00.01'), 'ICSMA-22-251-01');
  assert.ok(hit);
  assert.match(hit.why, /vendor 'Baxter'.*matches 'Baxter'.*product 'Sigma Spectrum: v8\.x model 35700BAX2'.*version 8\.00\.01 is within '8\.x model 35700BAX2'/);
  assert.ok(hit.cves.includes('CVE-2022-26394'));
  assert.equal(hit.kev, false);
  assert.deepEqual(pump('7.1').filter((m) => m.source === 'csaf'), []);
});

test('ICSMA-23-117-01: Illumina NextSeq 550Dx Operating Software, ranges 1.0.0–1.3.1 and >= 1.3.3', () => {
  const seq = (version: string): VulnMatch | undefined =>
    byId(matchVulnerabilities(subject({ vendor: 'Illumina', software: [{ name: 'NextSeq 550Dx Operating Software', version }] }), kb), 'ICSMA-23-117-01');
  assert.ok(seq('1.3.1'));
  assert.ok(seq('1.2'));
  assert.equal(seq('1.3.2'), undefined);
  assert.ok(seq('1.4.0'));
});

test('ICSMA-18-037-02: every GE Optima 540 is affected (all versions); GE as "General Electric" too', () => {
  const hit = byId(matchVulnerabilities(subject({ vendor: 'GE Healthcare', model: 'Optima 540' }), kb), 'ICSMA-18-037-02');
  assert.ok(hit);
  assert.match(hit.why, /all versions are affected/);
  assert.ok(hit.confidence >= 0.8);
  assert.ok(byId(matchVulnerabilities(subject({ vendor: 'General Electric', model: 'Optima 540' }), kb), 'ICSMA-18-037-02'));
  // Another model number of the same line is not this product.
  assert.equal(byId(matchVulnerabilities(subject({ vendor: 'GE Healthcare', model: 'Optima 550' }), kb), 'ICSMA-18-037-02'), undefined);
});

test('no vendor-only matches, no matches on a different vendor or model number', () => {
  assert.deepEqual(matchVulnerabilities(subject({ vendor: 'Baxter', model: 'Unrelated Appliance' }), kb), []);
  assert.deepEqual(matchVulnerabilities(subject({ vendor: 'Phillips 66', model: 'IntelliVue MX40' }), kb), []);
  assert.equal(byId(matchVulnerabilities(subject({ vendor: 'BD', model: 'Alaris 8000 PC unit' }), kb), 'ICSMA-17-017-02'), undefined);
  assert.ok(byId(matchVulnerabilities(subject({ vendor: 'BD', model: 'Alaris PC Unit 8015' }), kb), 'ICSMA-17-017-02'));
});

// ─── OS flaws, with KEV facts ───────────────────────────────────────────────────────────────────

test('EternalBlue on a Windows 7 SP1 device with SMB open: KEV facts, ransomware, high confidence', () => {
  const ms = matchVulnerabilities(subject({ vendor: 'Dell', model: 'OptiPlex 7010', os: { label: 'Windows 7 SP1', releases: [WIN7] }, services: [SMB] }), kb);
  const eb = byId(ms, 'CVE-2017-0144');
  assert.ok(eb);
  assert.equal(eb.source, 'os-flaw');
  assert.equal(eb.kev, true);
  assert.equal(eb.ransomware, true);
  assert.deepEqual(eb.cves, ['CVE-2017-0143', 'CVE-2017-0144', 'CVE-2017-0145', 'CVE-2017-0146', 'CVE-2017-0147', 'CVE-2017-0148']);
  // The title is KEV's, from the same data path as every other match.
  assert.equal(eb.title, `${kb.kev.get('CVE-2017-0144')?.name} (MS17-010, EternalBlue)`);
  assert.match(eb.why, /Windows 7 SP1 \(windows\/7-sp1\) is affected/);
  assert.match(eb.why, /SMB is open \(tcp\/445\)/);
  assert.match(eb.why, /in CISA KEV since 2021-11-03, used by ransomware/);
  assert.match(eb.url ?? '', /ms17-010/);
  assert.ok(eb.confidence >= 0.7);

  const closed = byId(matchVulnerabilities(subject({ os: { label: 'Windows 7 SP1', releases: [WIN7] } }), kb), 'CVE-2017-0144');
  assert.ok(closed && closed.confidence < eb.confidence);
  assert.match(closed.why, /no SMB service was seen/);

  const confirmed = byId(matchVulnerabilities(subject({ os: { label: 'Windows 7 SP1', releases: [WIN7] }, services: [SMB], flags: ['smb1', 'ms17-010-vulnerable-response'] }), kb), 'CVE-2017-0144');
  assert.equal(confirmed?.confidence, 0.95);

  const bluekeep = byId(matchVulnerabilities(subject({ os: { label: 'Windows 7 SP1', releases: [WIN7] }, services: [RDP] }), kb), 'CVE-2019-0708');
  assert.ok(bluekeep?.kev);
  assert.match(bluekeep.why, /RDP is open \(tcp\/3389\)/);
});

test('Windows 10 22H2: no EternalBlue, no BlueKeep, nothing from the OS-flaw path, nor from KEV Windows entries', () => {
  const ms = matchVulnerabilities(
    subject({ vendor: 'HP', model: 'EliteDesk 800 G5', os: { label: 'Windows 10 22H2', releases: [WIN10_22H2] }, services: [SMB, RDP], software: [{ name: 'Windows', vendor: 'Microsoft' }] }),
    kb,
  );
  assert.deepEqual(ms.map((m) => m.id), []);
});

test('an OS that could be one of several releases: lower confidence when only some are affected', () => {
  const both = byId(matchVulnerabilities(subject({ os: { label: 'Windows 7 / 10', releases: [WIN7, WIN10_22H2] }, services: [SMB] }), kb), 'CVE-2017-0144');
  const seven = byId(matchVulnerabilities(subject({ os: { label: 'Windows 7 / Server 2008 R2', releases: [WIN7, SRV2008R2] }, services: [SMB] }), kb), 'CVE-2017-0144');
  assert.ok(both && seven);
  assert.ok(both.confidence < seven.confidence);
  assert.match(both.why, /could be .*, not affected/);
});

test('Windows XP as the lifecycle table resolves it (XP and its embedded editions): all affected by MS17-010 and MS08-067', () => {
  const xp: OsRelease[] = [
    { product: 'windows', cycle: '5-sp3', label: 'Windows XP SP3' },
    { product: 'windows-embedded', cycle: 'xp-embedded-sp3', label: 'Windows XP Embedded SP3' },
    { product: 'windows-embedded', cycle: 'wepos-sp3', label: 'WEPOS SP3' },
    { product: 'windows-embedded', cycle: 'standard-2009', label: 'Windows Embedded Standard 2009' },
    { product: 'windows-embedded', cycle: 'posready-2009', label: 'Windows Embedded POSReady 2009' },
  ];
  const ms = matchVulnerabilities(subject({ vendor: 'Sysmex', model: 'XN-1000 (IPU)', os: { label: 'Windows XP', releases: xp }, services: [SMB] }), kb);
  const eb = byId(ms, 'CVE-2017-0144');
  assert.ok(eb && /are all affected/.test(eb.why));
  const conficker = byId(ms, 'CVE-2008-4250');
  assert.ok(conficker, 'MS08-067');
  assert.equal(conficker.kev, false, 'MS08-067 is not in KEV: its title comes from os-flaws.json');
  assert.match(conficker.title, /MS08-067/);
});

test('a flaw of a server role (SIGRed, DNS) needs the service seen', () => {
  const os = { label: 'Windows Server 2019', releases: [SRV2019] };
  assert.equal(byId(matchVulnerabilities(subject({ os }), kb), 'CVE-2020-1350'), undefined);
  assert.ok(byId(matchVulnerabilities(subject({ os, services: [{ transport: 'udp', port: 53, app: 'dns' }] }), kb), 'CVE-2020-1350'));
});

test('results are sorted, most certain first, confidences within 0..1', () => {
  const ms = matchVulnerabilities(
    subject({ vendor: 'BD', model: 'Pyxis MedStation ES', os: { label: 'Windows Embedded Standard 7', releases: [{ product: 'windows-embedded', cycle: 'standard-7-sp1', label: 'Windows Embedded Standard 7 SP1' }] }, services: [SMB] }),
    kb,
  );
  assert.ok(ms.length >= 3);
  for (let i = 1; i < ms.length; i++) assert.ok((ms[i - 1] as VulnMatch).confidence >= (ms[i] as VulnMatch).confidence);
  for (const m of ms) assert.ok(m.confidence > 0 && m.confidence <= 1 && m.why.length > 0);
});

test('the vendor index finds exactly the vendor names a scan of every vendor finds', () => {
  // Names as devices and software state them: the knowledge base's own, the profiles', variants, and product names.
  const names = new Set<string>(['GE', 'General Electric Company', 'Phillips 66', 'philips medizin systeme', 'B. Braun Melsungen AG', 'Hill-Rom', 'St. Jude Medical', 'Dräger', 'Fuji Film', 'Becton, Dickinson and Company (BD)', 'Silex Technology and GE Healthcare', 'Apache', '']);
  const products = new Set<string>(['Apache httpd', 'OFFIS DCMTK', 'Microsoft Windows', 'Orthanc', 'GE Healthcare Centricity', 'Welch Allyn Connex', 'nginx', 'hill rom voalte', 'b braun spacecom']);
  for (const e of kb.kev.values()) {
    names.add(e.vendorProject);
    products.add(`${e.vendorProject} ${e.product}`);
    products.add(e.product);
  }
  for (const a of kb.advisories) for (const p of a.products) {
    names.add(p.vendor);
    products.add(p.product);
  }
  for (const p of loadDeviceProfileData().profiles) {
    if (p.vendor !== undefined) names.add(p.vendor);
    if (p.software !== undefined) products.add(p.software);
  }
  let found = 0;
  for (const vendor of names) {
    const r = knownVendorsForTest(subject({ vendor, model: 'X1' }), kb);
    assert.deepEqual(r.indexed, r.scanned, vendor);
    found += r.indexed.length;
  }
  for (const name of products) {
    const r = knownVendorsForTest(subject({ software: [{ name }] }), kb);
    assert.deepEqual(r.indexed, r.scanned, name);
    found += r.indexed.length;
  }
  assert.ok(found > 1000, `${found}`);
});
