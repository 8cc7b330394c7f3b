import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildAdvisories, DEFAULT_CORPUS, serialiseAdvisories } from '../../scripts/build-advisories.ts';
import { matchVulnerabilities } from '../assess/vulnerabilities.ts';
import { knowledgeImportCommand } from '../cli/knowledge.ts';
import { defaultKnowledgeDir, loadAdvisories, loadOsFlaws, loadShipped, shippedAdvisories } from './advisories.ts';
import { detectFormat, importKnowledge, KnowledgeFileSchema, OsFlawFileSchema, readKnowledgeFile, readOsFlawFile, type ImportResult } from './knowledge-import.ts';
import { dataFile } from './paths.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CORPUS = DEFAULT_CORPUS;
const haveCorpus = existsSync(join(CORPUS, 'knowledge', 'vulns'));
const skipNoCorpus = haveCorpus ? {} : { skip: `no corpus at ${CORPUS}` };

const tmp = mkdtempSync(join(tmpdir(), 'vigil-knowledge-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(tmp, `k${++n}`);
const write = (name: string, content: unknown): string => {
  const p = join(tmp, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};
const ok = (r: ImportResult | undefined): Extract<ImportResult, { ok: true }> => {
  assert.ok(r, 'a result');
  assert.ok(r.ok, `expected success, got: ${r.ok ? '' : r.error}`);
  return r;
};
const failed = (r: ImportResult | undefined): string => {
  assert.ok(r, 'a result');
  assert.ok(!r.ok, 'expected a failure');
  return r.error;
};

/** A hand-written NVD CVE API 2.0 response (schema: https://nvd.nist.gov/developers/vulnerabilities), one CVE. */
const NVD_RESPONSE = {
  resultsPerPage: 1,
  startIndex: 0,
  totalResults: 1,
  format: 'NVD_CVE',
  version: '2.0',
  timestamp: '2026-11-20T10:00:00.000',
  vulnerabilities: [
    {
      cve: {
        id: 'CVE-2021-41773',
        sourceIdentifier: 'security@apache.org',
        published: '2021-10-05T09:15:07.593',
        lastModified: '2025-10-20T12:00:00.000',
        vulnStatus: 'Analyzed',
        cisaExploitAdd: '2021-11-03',
        cisaActionDue: '2021-11-17',
        cisaRequiredAction: 'Apply updates per vendor instructions.',
        cisaVulnerabilityName: 'Apache HTTP Server Path Traversal Vulnerability',
        descriptions: [
          { lang: 'en', value: 'A flaw was found in a change made to path normalization in Apache HTTP Server 2.4.49. An attacker could use a path traversal attack to map URLs to files outside the directories configured by Alias-like directives.' },
          { lang: 'es', value: 'Se encontró un fallo en Apache HTTP Server 2.4.49.' },
        ],
        metrics: {
          cvssMetricV31: [
            {
              source: 'nvd@nist.gov',
              type: 'Primary',
              cvssData: { version: '3.1', vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', baseScore: 7.5, baseSeverity: 'HIGH' },
              exploitabilityScore: 3.9,
              impactScore: 3.6,
            },
          ],
        },
        weaknesses: [{ source: 'nvd@nist.gov', type: 'Primary', description: [{ lang: 'en', value: 'CWE-22' }] }],
        configurations: [
          {
            nodes: [
              {
                operator: 'OR',
                negate: false,
                cpeMatch: [{ vulnerable: true, criteria: 'cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*', matchCriteriaId: 'A1B2C3D4-0000-0000-0000-000000000001' }],
              },
            ],
          },
        ],
        references: [{ url: 'https://httpd.apache.org/security/vulnerabilities_24.html', source: 'security@apache.org' }],
      },
    },
  ],
};

test('the shipped advisories.json and os-flaws.json are what validation returns (they are read without it)', () => {
  const advisories = JSON.parse(readFileSync(dataFile('advisories.json'), 'utf8')) as unknown;
  assert.deepEqual(KnowledgeFileSchema.parse(advisories), advisories);
  assert.deepEqual(loadShipped(), advisories);
  const flaws = JSON.parse(readFileSync(dataFile('os-flaws.json'), 'utf8')) as { flaws: unknown };
  // Defaults filled in would differ: the file spells every field out.
  assert.deepEqual(OsFlawFileSchema.parse(flaws).flaws, flaws.flaws);
  assert.deepEqual(loadOsFlaws(), flaws.flaws);
  // An explicit path is validated.
  const dir = mkdtempSync(join(tmpdir(), 'vigil-shipped-'));
  try {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ format: 'vigil-os-flaws', version: 1, flaws: [{ id: 'x' }] }));
    assert.throws(() => readOsFlawFile(join(dir, 'bad.json')), /invalid OS flaw list/);
    assert.throws(() => readKnowledgeFile(join(dir, 'bad.json')), /invalid knowledge file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the merged knowledge is loaded again only when the knowledge directory changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-merge-'));
  try {
    const a = await loadAdvisories(dir);
    assert.equal(await loadAdvisories(dir), a);
    writeFileSync(join(dir, 'broken.json'), '{');
    const b = await loadAdvisories(dir);
    assert.notEqual(b, a);
    assert.equal(b.warnings.length, 1);
    assert.equal(await loadAdvisories(dir), b);
    rmSync(join(dir, 'broken.json'));
    assert.deepEqual((await loadAdvisories(dir)).warnings, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped knowledge loads: KEV, the ICSMA advisories with their product trees, the OS flaws', () => {
  const kb = shippedAdvisories();
  assert.ok(kb.kev.size >= 1400);
  const eb = kb.kev.get('CVE-2017-0144');
  assert.equal(eb?.knownRansomwareCampaignUse, 'Known');
  assert.equal(eb?.vendorProject, 'Microsoft');
  assert.ok(kb.advisories.length >= 144);
  const baxter = kb.advisories.find((a) => a.id === 'ICSMA-22-251-01');
  assert.ok(baxter);
  assert.equal(baxter.source, 'csaf');
  assert.equal(baxter.url, 'https://www.cisa.gov/news-events/ics-medical-advisories/icsma-22-251-01');
  assert.equal(baxter.published, '2022-09-08');
  assert.deepEqual(baxter.cves.map((c) => [c.id, c.cvss]), [['CVE-2022-26390', 4.2], ['CVE-2022-26392', 3.1], ['CVE-2022-26393', 5], ['CVE-2022-26394', 7.5]]);
  assert.ok(baxter.products.some((p) => p.vendor === 'Baxter' && p.product === 'Sigma Spectrum' && p.versions[0] === '8.x model 35700BAX2'));
  assert.ok(baxter.remediations.length > 0 && baxter.remediations.every((r) => r.text.length <= 300));
  assert.ok(kb.osFlaws.some((f) => f.cves.includes('CVE-2019-0708')));
  assert.deepEqual(kb.warnings, []);
  // Compact: well under the 3 MB budget.
  assert.ok(readFileSync(dataFile('advisories.json')).length < 3 * 1024 * 1024);
});

test('os-flaws.json: every release cycle exists in the lifecycle data, every CVE list has its primary, a source URL each', skipNoCorpus, () => {
  const cycles = new Map<string, Set<string>>();
  for (const product of ['windows', 'windows-server', 'windows-embedded']) {
    const text = readFileSync(join(CORPUS, 'knowledge', 'eol', 'endoflife.date', `${product}.md`), 'utf8');
    cycles.set(product, new Set([...text.matchAll(/releaseCycle:\s*"([^"]+)"/g)].map((m) => m[1] as string)));
  }
  // The releases Vigil's lifecycle table adds to endoflife.date's (Windows 2000, the XP Embedded family), when it is there.
  const lifecycle = dataFile('os-lifecycle.json');
  if (existsSync(lifecycle)) {
    const table = JSON.parse(readFileSync(lifecycle, 'utf8')) as { products?: Record<string, { cycles?: { cycle?: string }[] }> };
    for (const [product, set] of cycles) for (const c of table.products?.[product]?.cycles ?? []) if (c.cycle !== undefined) set.add(c.cycle);
  }
  const flaws = loadOsFlaws();
  const ids = flaws.map((f) => f.id);
  for (const want of ['CVE-2017-0144', 'CVE-2019-0708', 'CVE-2020-0796', 'CVE-2008-4250', 'CVE-2021-34527']) assert.ok(ids.includes(want), want);
  for (const f of flaws) {
    assert.ok(f.cves.includes(f.id), f.id);
    assert.match(f.url, /^https:\/\/(learn|msrc|support)\.microsoft\.com\//);
    for (const [product, list] of Object.entries(f.affects)) {
      const known = cycles.get(product);
      assert.ok(known, `${f.id}: unknown product ${product}`);
      for (const c of list) assert.ok(known.has(c), `${f.id}: ${product}/${c} is not a lifecycle release cycle`);
    }
    assert.ok(!(f.affects['windows'] ?? []).includes('10-22h2'), `${f.id} must not list Windows 10 22H2`);
  }
});

test('regenerating data/advisories.json from the corpus gives the committed file', skipNoCorpus, () => {
  const committed = readFileSync(join(ROOT, 'data', 'advisories.json'), 'utf8');
  assert.equal(serialiseAdvisories(buildAdvisories(CORPUS)), committed);
});

test('format detection', () => {
  assert.equal(detectFormat({ catalogVersion: '1', vulnerabilities: [] }), 'kev');
  assert.equal(detectFormat({ document: { csaf_version: '2.0' } }), 'csaf');
  assert.equal(detectFormat(NVD_RESPONSE), 'nvd');
  assert.equal(detectFormat({ vulnerabilities: [{ cve: { id: 'CVE-1' } }] }), 'nvd');
  assert.equal(detectFormat({ hello: 'world' }), undefined);
  assert.equal(detectFormat([1, 2]), undefined);
});

test('import a KEV catalog: a newer catalog wins per CVE, new CVEs are added', async () => {
  const dir = fresh();
  const kev = {
    title: 'CISA Catalog of Known Exploited Vulnerabilities',
    catalogVersion: '2026.11.20',
    dateReleased: '2026-11-20T12:00:00.000Z',
    count: 2,
    vulnerabilities: [
      {
        cveID: 'CVE-2026-99999',
        vendorProject: 'Example Medical',
        product: 'Quasar Infusion Gateway',
        vulnerabilityName: 'Example Medical Infusion Gateway Authentication Bypass',
        dateAdded: '2026-11-20',
        shortDescription: 'An authentication bypass.',
        requiredAction: 'Apply mitigations per vendor instructions.',
        dueDate: '2026-12-11',
        knownRansomwareCampaignUse: 'Unknown',
        notes: '',
        cwes: ['CWE-287'],
      },
      {
        cveID: 'CVE-2019-0708',
        vendorProject: 'Microsoft',
        product: 'Remote Desktop Services',
        vulnerabilityName: 'Microsoft Remote Desktop Services Remote Code Execution Vulnerability (updated)',
        dateAdded: '2021-11-03',
        shortDescription: 'Updated description.',
        requiredAction: 'Apply updates per vendor instructions.',
        dueDate: '2021-11-17',
        knownRansomwareCampaignUse: 'Known',
        notes: '',
        cwes: [],
      },
    ],
  };
  const [r] = await importKnowledge([write('kev.json', kev)], dir);
  const done = ok(r);
  assert.equal(done.kind, 'kev');
  assert.equal(done.entries, 2);
  assert.match(done.what, /KEV catalog 2026\.11\.20/);
  assert.ok(existsSync(done.savedAs));
  const kb = await loadAdvisories(dir);
  assert.equal(kb.kev.get('CVE-2026-99999')?.product, 'Quasar Infusion Gateway');
  assert.match(kb.kev.get('CVE-2019-0708')?.name ?? '', /\(updated\)$/);
  assert.ok(kb.kev.size >= 1405);
  // The new KEV entry matches a device by vendor and product, low-confidence (KEV has no versions).
  const m = matchVulnerabilities({ vendor: 'Example Medical', model: 'Quasar Infusion Gateway', software: [], services: [] }, kb);
  const hit = m.find((x) => x.id === 'CVE-2026-99999');
  assert.ok(hit);
  assert.equal(hit.source, 'kev');
  assert.ok(hit.confidence < 0.5);
  assert.match(hit.why, /KEV lists no affected versions/);
});

test('import a CSAF 2.0 advisory: a newer revision of a shipped advisory replaces it', skipNoCorpus, async () => {
  const dir = fresh();
  const doc = JSON.parse(readFileSync(join(CORPUS, 'knowledge', 'vulns', 'csaf-icsma', 'icsma-22-174-01.json'), 'utf8')) as {
    document: { tracking: { current_release_date: string } };
    product_tree: { branches: { branches: { branches: { name: string }[] }[] }[] };
  };
  // Update B (hypothetical): the fix moved to 3.6.8.
  doc.document.tracking.current_release_date = '2026-01-01T00:00:00.000000Z';
  const range = doc.product_tree.branches[0]?.branches[0]?.branches[0];
  assert.ok(range);
  range.name = '< 3.6.8';
  const [r] = await importKnowledge([write('icsma-22-174-01-updated.json', doc)], dir);
  const done = ok(r);
  assert.equal(done.kind, 'csaf');
  assert.equal(done.what, 'CSAF advisory ICSMA-22-174-01');
  const kb = await loadAdvisories(dir);
  const adv = kb.advisories.filter((a) => a.id === 'ICSMA-22-174-01');
  assert.equal(adv.length, 1);
  assert.equal(adv[0]?.updated, '2026-01-01');
  const m = matchVulnerabilities({ software: [{ name: 'DCMTK', version: '3.6.7', vendor: 'OFFIS' }], services: [] }, kb);
  assert.ok(m.some((x) => x.id === 'ICSMA-22-174-01'), 'with the import, 3.6.7 is affected');
  assert.ok(!matchVulnerabilities({ software: [{ name: 'DCMTK', version: '3.6.7', vendor: 'OFFIS' }], services: [] }, shippedAdvisories()).some((x) => x.id === 'ICSMA-22-174-01'));
});

test('import an NVD CVE API 2.0 response: CPE version logic, CVSS, KEV facts joined by CVE', async () => {
  const dir = fresh();
  const [r] = await importKnowledge([write('nvd.json', NVD_RESPONSE)], dir);
  const done = ok(r);
  assert.equal(done.kind, 'nvd');
  assert.equal(done.entries, 1);
  const kb = await loadAdvisories(dir);
  const adv = kb.advisories.find((a) => a.id === 'CVE-2021-41773');
  assert.equal(adv?.source, 'nvd');
  assert.deepEqual(adv?.products.map((p) => [p.vendor, p.product, p.versions]), [['apache', 'http server', ['2.4.49']]]);
  assert.equal(kb.cvss.get('CVE-2021-41773'), 7.5);

  const apache = (version: string) => matchVulnerabilities({ vendor: 'GE Healthcare', model: 'Centricity Universal Viewer', software: [{ name: 'Apache httpd', version }], services: [] }, kb);
  const hit = apache('2.4.49').find((x) => x.id === 'CVE-2021-41773');
  assert.ok(hit);
  assert.equal(hit.source, 'nvd');
  assert.equal(hit.kev, true);
  assert.equal(hit.ransomware, true);
  assert.equal(hit.cvss, 7.5);
  assert.match(hit.why, /version 2\.4\.49 is within '2\.4\.49'/);
  assert.ok(hit.confidence > 0.7);
  // Version known and outside the NVD range: neither the NVD record nor the version-less KEV entry reports it.
  assert.equal(apache('2.4.57').find((x) => x.cves.includes('CVE-2021-41773')), undefined);
});

test('bad files: one clear error each, never a throw, the good files still imported', async () => {
  const dir = fresh();
  const files = [
    write('notjson.json', '{ this is not json'),
    write('other.json', { hello: 'world' }),
    write('bad-kev.json', { catalogVersion: 'x', vulnerabilities: [{ cveID: 'not-a-cve', vendorProject: 'A', product: 'B' }] }),
    write('bad-csaf.json', { document: { csaf_version: '2.0', category: 'csaf_security_advisory' } }),
    join(tmp, 'does-not-exist.json'),
    write('good-nvd.json', NVD_RESPONSE),
  ];
  const results = await importKnowledge(files, dir);
  assert.equal(results.length, files.length);
  assert.match(failed(results[0]), /^not JSON/);
  assert.equal(failed(results[1]), 'not a KEV catalog, CSAF 2.0 advisory or NVD CVE API 2.0 response');
  assert.match(failed(results[2]), /^invalid KEV catalog: vulnerabilities\.0\.cveID: expected a CVE id/);
  assert.match(failed(results[3]), /^invalid CSAF advisory: document\.title/);
  assert.equal(failed(results[4]), 'no such file');
  ok(results[5]);
  for (const r of results.slice(0, 5)) assert.ok(!r.ok && !r.error.includes('\n'), 'one line');
  assert.equal(readdirSync(dir).length, 1, 'only the good file was saved');
});

test('vigil knowledge import: one line per file naming it, exit 1 when any failed, 0 when all good', async () => {
  const dataDir = fresh();
  const good = write('cli-nvd.json', NVD_RESPONSE);
  const bad = write('cli-bad.json', { hello: 'world' });
  const out: string[] = [];
  const sink = { write: (text: string): boolean => out.push(text) > 0 };
  const io = { out: sink, err: sink };
  const code1 = await knowledgeImportCommand([good, bad], { dataDir }, io);
  const code0 = await knowledgeImportCommand([good], { dataDir }, io);
  assert.equal(code1, 1);
  assert.equal(code0, 0);
  const lines = out.join('').split('\n').filter((l) => l !== '');
  assert.ok(lines.some((l) => l.includes(good) && /imported/.test(l) && /1 CVE/.test(l)));
  assert.ok(lines.some((l) => l.includes(bad) && /failed/.test(l) && /not a KEV catalog, CSAF 2\.0 advisory or NVD/.test(l)));
  assert.ok(existsSync(join(dataDir, 'knowledge')));
  assert.equal(defaultKnowledgeDir(dataDir), join(dataDir, 'knowledge'));
});

test('a corrupt file in the knowledge directory is skipped with a warning, not fatal', async () => {
  const dir = fresh();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'broken.json'), '{"format":"vigil-knowledge"');
  writeFileSync(join(dir, 'README.txt'), 'not a json file: ignored');
  const kb = await loadAdvisories(dir);
  assert.equal(kb.warnings.length, 1);
  assert.match(kb.warnings[0] ?? '', /broken\.json: skipped/);
  assert.ok(kb.kev.size >= 1400);
});
