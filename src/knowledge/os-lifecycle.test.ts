import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildOsLifecycle, DEFAULT_CORPUS, parseFrontMatter, serializeOsLifecycle, SUPPLEMENT_FILE } from '../../scripts/build-os-lifecycle.ts';
import { osLifecycle, osRelease, productCycles } from './os-lifecycle.ts';
import { parseOsLifecycle } from './os-lifecycle-schema.ts';
import { dataFile } from './paths.ts';

const FILE = dataFile('os-lifecycle.json');
const HAS_CORPUS = existsSync(join(DEFAULT_CORPUS, 'SOURCES.md'));

test('the shipped table loads, validates, and stays small', () => {
  const t = osLifecycle();
  // Read without validation: what parseOsLifecycle would return.
  const raw = JSON.parse(readFileSync(FILE, 'utf8')) as unknown;
  assert.deepEqual(parseOsLifecycle(raw), raw);
  assert.deepEqual(t, raw);
  assert.equal(t.format, 1);
  assert.ok(statSync(FILE).size < 200_000, `${statSync(FILE).size} bytes`);
  for (const p of ['windows', 'windows-server', 'windows-embedded', 'debian', 'ubuntu', 'rhel', 'centos', 'sles', 'almalinux', 'rocky-linux', 'oracle-linux', 'alpine-linux', 'fedora', 'macos', 'ios', 'android', 'linux-kernel', 'vmware-esxi']) {
    assert.ok(productCycles(p).length > 0, p);
  }
  const eol = t.sources.find((s) => s.repo === 'endoflife-date/endoflife.date');
  assert.equal(eol?.commit, 'a70eca337600e7d721dc48112c271f98661d208b');
  assert.equal(eol?.licence, 'MIT');
  // Every cycle says where its dates come from.
  for (const [id, p] of Object.entries(t.products)) for (const c of p.cycles) assert.match(c.source, /^https?:\/\//, `${id}/${c.cycle}`);
  // Hand-kept releases come from Microsoft's lifecycle pages.
  const supplemented = Object.values(t.products).flatMap((p) => p.cycles.filter((c) => c.origin === 'supplement'));
  assert.ok(supplemented.length >= 8);
  for (const c of supplemented) assert.match(c.source, /^https:\/\/learn\.microsoft\.com\/lifecycle\//, c.cycle);
});

test('real dates: Windows client, server and embedded editions, with ESU where there was one', () => {
  const w7 = osRelease('windows', '7-sp1');
  assert.deepEqual(w7, {
    product: 'windows',
    cycle: '7-sp1',
    label: 'Windows 7 SP1',
    releaseDate: '2011-02-22',
    eol: '2020-01-14',
    extendedEol: '2023-01-10',
    source: 'https://learn.microsoft.com/lifecycle/products/windows-7',
  });
  assert.equal(osRelease('windows', '5-sp3')?.eol, '2014-04-08');
  assert.equal(osRelease('windows', '5-sp3')?.label, 'Windows XP SP3');
  assert.equal(osRelease('windows', '6-sp2')?.eol, '2017-04-11');
  assert.equal(osRelease('windows-server', '2003-sp2')?.eol, '2015-07-14');
  assert.equal(osRelease('windows-server', '2008-sp2')?.eol, '2020-01-14');
  assert.equal(osRelease('windows-server', '2008-r2-sp1')?.extendedEol, '2023-01-10');
  assert.equal(osRelease('windows-server', '2012')?.eol, '2023-10-10');
  assert.equal(osRelease('windows-server', '2012-r2')?.eol, '2023-10-10');
  assert.equal(osRelease('windows-server', '2012-r2')?.extendedEol, '2026-10-13');
  assert.equal(osRelease('windows-embedded', 'standard-7-sp1')?.eol, '2020-10-13');
  assert.equal(osRelease('windows-embedded', 'standard-7-sp1')?.extendedEol, '2023-10-10');
  assert.equal(osRelease('windows-embedded', 'standard-7-sp1')?.label, 'Windows Embedded Standard 7 SP1');
  assert.equal(osRelease('windows-embedded', 'posready-7')?.extendedEol, '2024-10-08');
  // Windows 10/11: consumer, enterprise and LTSC cycles of one feature update stay apart.
  assert.equal(osRelease('windows', '10-1809-w')?.eol, '2020-11-10');
  assert.equal(osRelease('windows', '10-1809-e-lts')?.eol, '2029-01-09');
  assert.equal(osRelease('windows', '10-1809-e-lts')?.label, 'Windows 10 1809 Enterprise LTSC');
  assert.equal(osRelease('windows', '10-22h2')?.extendedEol, '2028-10-10');
  // Supplement: releases endoflife.date lacks.
  assert.equal(osRelease('windows-embedded', 'xp-embedded-sp3')?.eol, '2016-01-12');
  assert.equal(osRelease('windows-embedded', 'standard-2009')?.eol, '2019-01-08');
  assert.equal(osRelease('windows-embedded', 'posready-2009')?.eol, '2019-04-09');
  assert.equal(osRelease('windows-embedded', 'wepos-sp3')?.eol, '2016-04-12');
  assert.equal(osRelease('windows', '2000')?.eol, '2010-07-13');
  // Linux distributions: security support and the paid extension.
  assert.deepEqual([osRelease('debian', '9')?.eol, osRelease('debian', '9')?.extendedEol], ['2020-07-18', '2022-07-01']);
  assert.deepEqual([osRelease('ubuntu', '18.04')?.eol, osRelease('ubuntu', '18.04')?.extendedEol], ['2023-05-31', '2028-04-01']);
  assert.equal(osRelease('centos', '7')?.eol, '2024-06-30');
  assert.deepEqual([osRelease('rhel', '7')?.eol, osRelease('rhel', '7')?.extendedEol], ['2024-06-30', '2029-05-31']);
  // Kernel branches endoflife.date does not list, ended by their last release (release-data).
  const k310 = osLifecycle().products['linux-kernel']?.cycles.find((c) => c.cycle === '3.10');
  assert.deepEqual([k310?.eol, k310?.origin], ['2017-11-04', 'derived']);
  assert.equal(osRelease('linux-kernel', '4.9')?.eol, '2023-01-07');
  // Ended without a date in the source (old Android): not an OsRelease field, flagged.
  assert.equal(osRelease('android', '4.3')?.eol, undefined);
  assert.equal(osRelease('android', '4.3')?.eolUndated, true);
  assert.equal(osRelease('windows', 'no-such-cycle'), undefined);
});

test('osRelease hands out copies', () => {
  const a = osRelease('windows', '7-sp1');
  assert.ok(a !== undefined);
  a.label = 'changed';
  assert.equal(osRelease('windows', '7-sp1')?.label, 'Windows 7 SP1');
});

test('parseOsLifecycle rejects malformed data with the path', () => {
  const good = JSON.parse(readFileSync(FILE, 'utf8')) as { products: Record<string, { cycles: { cycle: string; eol?: unknown }[] }> };
  const badDate = structuredClone(good);
  (badDate.products.windows?.cycles[0] as { eol?: unknown }).eol = '14/01/2020';
  assert.throws(() => parseOsLifecycle(badDate), /products\.windows\.cycles\.0\.eol/);
  const dup = structuredClone(good);
  dup.products.debian?.cycles.push({ ...(dup.products.debian.cycles[0] as { cycle: string }) });
  assert.throws(() => parseOsLifecycle(dup), /cycle "13" twice/);
  assert.throws(() => parseOsLifecycle({ format: 2 }), /format/);
});

test('front matter: the YAML subset endoflife.date uses', () => {
  const fm = parseFrontMatter(
    [
      '---',
      'title: Microsoft Windows',
      'releaseLabel: "Windows Server __RELEASE_CYCLE__"',
      'identifiers:',
      '  - cpe: cpe:2.3:o:microsoft:windows',
      '',
      'releases:',
      '  - releaseCycle: "7-sp1"',
      '    # a comment',
      '    releaseDate: 2011-02-22',
      '    eol: 2020-01-14 # trailing comment',
      '    lts: true',
      '    link: null',
      "    releaseLabel: 'XP SP3'",
      '---',
      'body',
    ].join('\n'),
  );
  assert.deepEqual(fm.top, { title: 'Microsoft Windows', releaseLabel: 'Windows Server __RELEASE_CYCLE__', identifiers: null });
  assert.deepEqual(fm.releases, [{ releaseCycle: '7-sp1', releaseDate: '2011-02-22', eol: '2020-01-14', lts: true, link: null, releaseLabel: 'XP SP3' }]);
  assert.throws(() => parseFrontMatter('---\nreleases:\n  - releaseCycle: "1"\n      weird: 1\n---\n'), /unexpected line/);
});

test('the committed data file is what the generator makes from the corpus', { skip: !HAS_CORPUS && 'no ../shared/corpus' }, () => {
  const committed = readFileSync(FILE, 'utf8');
  const { generated } = JSON.parse(committed) as { generated: string };
  const { table, warnings } = buildOsLifecycle({ corpus: DEFAULT_CORPUS, supplement: JSON.parse(readFileSync(SUPPLEMENT_FILE, 'utf8')) as unknown, generated });
  assert.deepEqual(warnings, []);
  assert.equal(serializeOsLifecycle(table), committed, 'data/os-lifecycle.json is stale: run node --import tsx scripts/build-os-lifecycle.ts');
});
