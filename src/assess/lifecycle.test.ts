import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Category, OsRelease } from '../inventory/device.ts';
import { osLifecycle } from '../knowledge/os-lifecycle.ts';
import { osFromVendorClass } from '../protocols/dhcp.ts';
import { windowsName } from '../protocols/ntlmssp.ts';
import { p0fDatabase } from '../protocols/p0f-db.ts';
import { smb1Os } from '../protocols/smb.ts';
import { osFromSysDescr } from '../protocols/snmp.ts';
import { osFromProductTokens } from '../protocols/ssdp.ts';
import { addMonths, allEolAt, eolForecast, lifecycleStatus, resolveOs, sourceName, standardForecastDates } from './lifecycle.ts';

const NOW = new Date('2026-11-30T00:00:00Z');

/** "product/cycle" of each release resolveOs finds. */
function ids(text: string): string[] {
  const r = resolveOs(text);
  assert.ok(r !== undefined, `"${text}" resolves`);
  return r.releases.map((x) => `${x.product}/${x.cycle}`);
}

const WIN7_FAMILY = ['windows/7-sp1', 'windows-server/2008-r2-sp1', 'windows-embedded/standard-7-sp1', 'windows-embedded/posready-7'];
const XP_FAMILY = ['windows/5-sp3', 'windows-embedded/xp-embedded-sp3', 'windows-embedded/wepos-sp3', 'windows-embedded/standard-2009', 'windows-embedded/posready-2009'];

// ---- resolveOs ----------------------------------------------------------------------------------

test('named releases resolve to one cycle, with the real dates', () => {
  const one = (text: string): OsRelease => {
    const r = resolveOs(text);
    assert.equal(r?.releases.length, 1, `"${text}": ${JSON.stringify(r?.releases.map((x) => x.cycle))}`);
    return (r as { releases: OsRelease[] }).releases[0] as OsRelease;
  };
  assert.deepEqual([one('Windows 7 Ultimate 7601 Service Pack 1').cycle, one('Windows 7 Ultimate 7601 Service Pack 1').eol], ['7-sp1', '2020-01-14']);
  assert.equal(one('Windows 7 Professional 7601 Service Pack 1').eol, '2020-01-14');
  assert.deepEqual([one('Windows Server 2003 3790 Service Pack 2').cycle, one('Windows Server 2003 3790 Service Pack 2').eol], ['2003-sp2', '2015-07-14']);
  assert.equal(one('Windows Server 2003 3790 Service Pack 1').eol, '2009-04-14');
  assert.equal(one('Windows Server 2003 R2 3790 Service Pack 2').cycle, '2003-sp2');
  assert.deepEqual([one('Windows Embedded Standard 7601 Service Pack 1').label, one('Windows Embedded Standard 7601 Service Pack 1').eol], ['Windows Embedded Standard 7 SP1', '2020-10-13']);
  assert.equal(one('Windows Server 2012 R2 Standard 9600').eol, '2023-10-10');
  assert.equal(one('Windows Server 2012 Standard 9200').eol, '2023-10-10');
  assert.equal(one('Windows Server 2008 R2 Enterprise 7601 Service Pack 1').cycle, '2008-r2-sp1');
  assert.equal(one('Windows Server (R) 2008 Standard 6001 Service Pack 1').cycle, '2008-sp2', 'the last service pack: never earlier than it could be');
  assert.equal(one('Windows Vista (TM) Business 6002 Service Pack 2').eol, '2017-04-11');
  assert.equal(one('Windows Server 2016 Standard 14393').cycle, '2016');
  assert.equal(one('Windows Embedded POSReady 2009').eol, '2019-04-09');
  assert.equal(one('Windows Embedded Standard 2009').eol, '2019-01-08');
  assert.equal(one('Windows 8.1 Pro 9600').cycle, '8.1');
  assert.equal(one('Windows 10 Enterprise 2016 LTSB 14393').cycle, '10-1607-e-lts');
  assert.equal(one('Windows 10 Pro 19045').cycle, '10-22h2');
  // Linux distributions, from os-release / redhat-release / lsb_release text.
  assert.deepEqual([one('Debian GNU/Linux 9').cycle, one('Debian GNU/Linux 9').eol], ['9', '2020-07-18']);
  assert.equal(one('Debian GNU/Linux 12 (bookworm)').cycle, '12');
  assert.equal(one('Debian 3.1').cycle, '3.1');
  assert.deepEqual([one('Ubuntu 18.04.6 LTS').cycle, one('Ubuntu 18.04.6 LTS').label], ['18.04', 'Ubuntu 18.04 LTS (Bionic Beaver)']);
  assert.deepEqual([one('CentOS Linux release 7.9.2009').cycle, one('CentOS Linux release 7.9.2009 (Core)').eol], ['7', '2024-06-30']);
  assert.deepEqual([one('Red Hat Enterprise Linux Server 6.10').product, one('Red Hat Enterprise Linux Server 6.10').cycle], ['rhel', '6']);
  assert.equal(one('Red Hat Enterprise Linux release 8.4 (Ootpa)').cycle, '8');
  assert.equal(one('SUSE Linux Enterprise Server 12 SP5').cycle, '12.5');
  assert.equal(one('SLES 15 SP3').cycle, '15.3');
  assert.equal(one('Oracle Linux Server 7.9').product, 'oracle-linux');
  assert.equal(one('AlmaLinux 8.6').cycle, '8');
  assert.equal(one('Rocky Linux 9.2').cycle, '9');
  assert.equal(one('Alpine Linux v3.12').cycle, '3.12');
  assert.equal(one('Fedora release 38 (Thirty Eight)').cycle, '38');
  assert.equal(one('VMware ESXi 6.7.0').cycle, '6.7');
  assert.equal(one('Android 4.4.2').cycle, '4.4');
  assert.equal(one('Android 8').cycle, '8.0');
  assert.equal(one('iOS 14.4').cycle, '14');
});

test('ambiguous signals give every release they could be', () => {
  assert.deepEqual(ids('Windows 7 / Server 2008 R2 SP1 (6.1.7601)'), WIN7_FAMILY);
  assert.deepEqual(ids('Windows 7 / Server 2008 R2 (6.1)'), WIN7_FAMILY);
  assert.deepEqual(ids('Windows XP (5.1.2600)'), XP_FAMILY);
  assert.deepEqual(ids('Windows 5.1'), XP_FAMILY, 'smb.native_os of XP and its embedded derivatives alike');
  assert.deepEqual(ids('Windows XP Service Pack 3 2600'), XP_FAMILY);
  assert.deepEqual(ids('Windows XP Embedded'), XP_FAMILY.filter((x) => x.startsWith('windows-embedded/')));
  assert.deepEqual(ids('Windows XP x64 / Server 2003 (5.2.3790)'), ['windows-server/2003-sp2', 'windows/5-sp3']);
  assert.deepEqual(ids('Windows 8.1 / Server 2012 R2 (6.3.9600)'), ['windows/8.1', 'windows-server/2012-r2', 'windows-embedded/8.1-industry', 'windows-embedded/8.1-pro']);
  assert.deepEqual(ids('Windows 95/98/ME (4.0)'), ['windows/98', 'windows/me']);
  // Windows 10/11 builds map to every servicing channel of that feature update, and the server release.
  assert.deepEqual(ids('Windows 10 1809 / Server 2019 (10.0.17763)'), ['windows/10-1809-e-lts', 'windows/10-1809-e', 'windows/10-1809-w', 'windows-server/1809-sac', 'windows-server/2019']);
  assert.deepEqual(ids('Windows 10 1607 / Server 2016 (10.0.14393)'), ['windows/10-1607-e-lts', 'windows/10-1607-e', 'windows/10-1607-w', 'windows-server/2016']);
  assert.deepEqual(ids('Windows 11 24H2 / Server 2025 (10.0.26100)'), ['windows/11-24h2-iot-lts', 'windows/11-24h2-e-lts', 'windows/11-24h2-e', 'windows/11-24h2-w', 'windows-server/2025']);
  assert.deepEqual(ids('Windows 10 22H2 (10.0.19045)'), ['windows/10-22h2']);
  assert.deepEqual(ids('Windows 10 Enterprise 19044'), ['windows/10-21h2-iot-lts', 'windows/10-21h2-e-lts', 'windows/10-21h2-e']);
  assert.deepEqual(ids('Windows 10 Pro 19044'), ['windows/10-21h2-w']);
  // p0f: the TCP stack of NT 6.1–6.3, clients, servers and embedded.
  assert.equal(ids('Windows 7 or 8').length, 11);
  assert.deepEqual(ids('Windows XP'), XP_FAMILY);
  // Darwin: macOS or iOS (an iPhone publishes osxvers too).
  assert.deepEqual(ids('macOS 10.13 (Darwin 17)'), ['macos/10.13', 'ios/11']);
  assert.deepEqual(ids('macOS 12 (Darwin 21)'), ['macos/12', 'ios/15']);
  // Distribution kernels name their distribution, not the kernel.org branch.
  assert.deepEqual(ids('Linux 3.10.0-1160.el7.x86_64'), ['rhel/7', 'centos/7', 'oracle-linux/7']);
  assert.deepEqual(ids('Linux 5.15.0-91-generic'), ['ubuntu/22.04', 'ubuntu/20.04']);
  assert.deepEqual(ids('Linux 4.19.0-18-amd64'), ['debian/10']);
});

test('vague signals give the family and no release; unknown text gives nothing', () => {
  for (const [text, family] of [
    ['Linux 3.11 and newer', 'Linux'],
    ['Linux 2.2.x-3.x', 'Linux'],
    ['Linux 3.1-3.10', 'Linux'],
    ['Linux 2.6.x', 'Linux'],
    ['Linux 3.x', 'Linux'],
    ['Linux', 'Linux'],
    ['Windows 10 / 11 (10.0)', 'Windows'],
    ['Windows 11 (10.0.22999)', 'Windows'],
    ['Windows NT kernel', 'Windows'],
    ['Windows NT kernel 6.x', 'Windows'],
    ['Mac OS X 10.x', 'macOS'],
    ['MacOS X 10.9 or newer (sometimes iPhone or iPad)', 'macOS'],
    ['iOS iPhone or iPad', 'iOS'],
    ['Android 4.x', 'Android'],
    ['Linux (Android)', 'Android'],
    ['Unix', 'Unix'],
    ['Unix (Samba 3.6.25)', 'Unix'],
    ['Cisco IOS 15.0(2)SE4', 'Cisco IOS'],
    ['VxWorks 6.9', 'VxWorks'],
    ['FreeBSD 9.x or newer', 'FreeBSD'],
    ['CentOS Stream 9', 'Linux'],
  ] as const) {
    const r = resolveOs(text);
    assert.deepEqual([r?.family, r?.releases], [family, []], text);
    assert.equal(r?.label, text);
    assert.equal(lifecycleStatus(r?.releases ?? [], NOW).state, 'unknown', text);
  }
  assert.equal(resolveOs(''), undefined);
  assert.equal(resolveOs('HP JetDirect'), undefined);
  assert.equal(resolveOs('NMap SYN scan'), undefined);
});

test('every OS string the dissectors emit in their tests resolves', () => {
  const cases: Record<string, string[]> = {
    // ntlmssp.ts windowsName (smb.test, http.test, snmp.test)
    'Windows 7 / Server 2008 R2 SP1 (6.1.7601)': WIN7_FAMILY,
    'Windows 10 1809 / Server 2019 (10.0.17763)': ['windows/10-1809-e-lts', 'windows/10-1809-e', 'windows/10-1809-w', 'windows-server/1809-sac', 'windows-server/2019'],
    'Windows 10 22H2 (10.0.19045)': ['windows/10-22h2'],
    'Windows Server 2022 (10.0.20348)': ['windows-server/2022'],
    'Windows 8 / Server 2012 (6.2.7601)': ['windows/8', 'windows-server/2012', 'windows-embedded/8-standard'],
    'Windows 2000 (5.0.2195)': ['windows/2000', 'windows-server/2000'],
    // smb.ts smb1Os (smb.test)
    'Windows 7 Ultimate 7601 Service Pack 1': ['windows/7-sp1'],
    'Windows 7 Professional 7601 Service Pack 1': ['windows/7-sp1'],
    'Windows XP Service Pack 3 2600': XP_FAMILY,
    'Windows XP (5.1)': XP_FAMILY,
    'Windows Server 2003 3790 Service Pack 2': ['windows-server/2003-sp2'],
    'Windows NT 4.0 (1381)': ['windows/nt-4.0', 'windows-server/nt-4.0'],
    // smb.native_os as sent
    'Windows 2002 Service Pack 3 2600': XP_FAMILY,
    'Windows 4.0': ['windows/98', 'windows/me'],
    // snmp.ts / ssdp.ts / dhcp.ts / mdns.ts (their tests)
    'Linux 4.9.206': ['linux-kernel/4.9'],
    'Linux 4.9.206-axis5': ['linux-kernel/4.9'],
    'Linux 3.10.0': ['linux-kernel/3.10'],
    'Linux 5.10.0-rt': ['linux-kernel/5.10'],
    'Android 9': ['android/9'],
    'Android 11': ['android/11'],
    'macOS 10.13 (Darwin 17)': ['macos/10.13', 'ios/11'],
    'macOS 12 (Darwin 21)': ['macos/12', 'ios/15'],
    'Linux': [],
    'Windows 10 / 11 (10.0)': [],
    // tcp-fingerprint.ts (its test)
    'Windows 7 or 8': [...WIN7_FAMILY, 'windows/8', 'windows-server/2012', 'windows-embedded/8-standard', 'windows/8.1', 'windows-server/2012-r2', 'windows-embedded/8.1-industry', 'windows-embedded/8.1-pro'],
  };
  for (const [text, want] of Object.entries(cases)) assert.deepEqual(ids(text), want, text);

  // The producers themselves, over their inputs.
  const builds: Array<[number, number, number]> = [
    [5, 0, 2195], [5, 1, 2600], [5, 2, 3790], [6, 0, 6000], [6, 0, 6001], [6, 0, 6002], [6, 0, 6003], [6, 1, 7600], [6, 1, 7601], [6, 2, 9200], [6, 3, 9600],
    [10, 0, 10240], [10, 0, 10586], [10, 0, 14393], [10, 0, 15063], [10, 0, 16299], [10, 0, 17134], [10, 0, 17763], [10, 0, 18362], [10, 0, 18363], [10, 0, 19041],
    [10, 0, 19042], [10, 0, 19043], [10, 0, 19044], [10, 0, 19045], [10, 0, 20348], [10, 0, 22000], [10, 0, 22621], [10, 0, 22631], [10, 0, 25398], [10, 0, 26100], [10, 0, 26200],
  ];
  for (const [major, minor, build] of builds) {
    const name = windowsName({ major, minor, build });
    const r = resolveOs(name);
    assert.equal(r?.family, 'Windows', name);
    assert.ok((r?.releases.length ?? 0) > 0, `${name} names releases`);
    assert.notEqual(lifecycleStatus(r?.releases ?? [], NOW).state, 'unknown', name);
  }
  assert.deepEqual(ids(osFromSysDescr('Hardware: x86 Family 6 Model 15 Stepping 11 AT/AT COMPATIBLE - Software: Windows Version 6.1 (Build 7601 Multiprocessor Free)') ?? ''), WIN7_FAMILY);
  assert.deepEqual(ids(osFromSysDescr('Hardware: x86 Family 6 - Software: Windows 2000 Version 5.0 (Build 2195 Uniprocessor Free)') ?? ''), ['windows/2000', 'windows-server/2000']);
  assert.deepEqual(ids(osFromSysDescr('Linux pacs-gw 4.9.206-axis5 #1 PREEMPT Thu Jan 1 00:00:00 UTC 2020 armv7l') ?? ''), ['linux-kernel/4.9']);
  assert.deepEqual(ids(osFromSysDescr('Linux srv 3.10.0-1160.el7.x86_64 #1 SMP Tue Aug 18 14:50:17 EDT 2020 x86_64') ?? ''), ['rhel/7', 'centos/7', 'oracle-linux/7']);
  assert.deepEqual(ids(osFromProductTokens('Microsoft-Windows-NT/5.1 UPnP/1.0 UPnP-Device-Host/1.0') ?? ''), XP_FAMILY);
  assert.deepEqual(ids(osFromProductTokens('Windows NT/6.1, UPnP/1.0') ?? ''), WIN7_FAMILY);
  assert.deepEqual(ids(osFromProductTokens('Linux/3.10.0 UPnP/1.0 Sonos/57.3-79200') ?? ''), ['linux-kernel/3.10']);
  assert.deepEqual(ids(osFromProductTokens('Android/9 UPnP/1.0 Cling/2.0') ?? ''), ['android/9']);
  assert.deepEqual(ids(osFromVendorClass('dhcpcd-9.4.1:Linux-5.10.0-rt:armv7l:Pump') ?? ''), ['linux-kernel/5.10']);
  assert.deepEqual(ids(osFromVendorClass('android-dhcp-11') ?? ''), ['android/11']);
  assert.deepEqual(ids(smb1Os('Windows 5.1', '') ?? ''), XP_FAMILY);
  assert.deepEqual(ids(smb1Os('Windows 4.0', 'Windows 4.0') ?? ''), ['windows/98', 'windows/me']);
  assert.deepEqual(ids(smb1Os('Windows 2002 Service Pack 3 2600', 'Windows 2002 5.1') ?? ''), XP_FAMILY);
  assert.deepEqual(ids(smb1Os('Unix', 'Samba 3.6.25') ?? ''), []);
  // Every OS label p0f can emit is recognised (tools and crawlers are not OSes).
  const db = p0fDatabase();
  for (const sig of [...db.request, ...db.response]) {
    if (sig.tool || /spider|crawler|sendsyn/i.test(sig.name)) continue;
    assert.ok(resolveOs(sig.name) !== undefined, `p0f "${sig.name}"`);
    if (sig.generic) assert.deepEqual(resolveOs(sig.name)?.releases, [], `generic p0f "${sig.name}" names no release`);
  }
});

test('every cycle of the table resolves from its own label', () => {
  // A smoke test of the name paths: the labels the table itself uses read back to a release of that product.
  const t = osLifecycle();
  for (const product of ['debian', 'ubuntu', 'centos', 'rhel', 'rocky-linux', 'almalinux', 'fedora']) {
    for (const c of t.products[product]?.cycles ?? []) {
      if (product === 'fedora' && !/^\d+$/.test(c.cycle)) continue;
      const r = resolveOs(c.label);
      assert.ok(r?.releases.some((x) => x.product === product && x.cycle === c.cycle), `${product}/${c.cycle} "${c.label}" → ${JSON.stringify(r?.releases.map((x) => x.cycle))}`);
    }
  }
});

// ---- lifecycleStatus ----------------------------------------------------------------------------

test('status: EOL since the latest end of all candidates; supported while any is', () => {
  const w7 = resolveOs('Windows 7 Ultimate 7601 Service Pack 1')?.releases ?? [];
  const s = lifecycleStatus(w7, NOW);
  assert.deepEqual(s, {
    state: 'eol',
    since: '2020-01-14',
    eolDate: '2020-01-14',
    extendedUntil: '2023-01-10',
    basis: 'Windows 7 SP1 security support ended 2020-01-14; ESU ended 2023-01-10 (Microsoft lifecycle).',
  });
  // 7601 could be Windows 7, Server 2008 R2, WES 7 or POSReady 7: EOL since the last of them, never earlier.
  const amb = lifecycleStatus(resolveOs('Windows 7 / Server 2008 R2 SP1 (6.1.7601)')?.releases ?? [], NOW);
  assert.deepEqual([amb.state, amb.since, amb.extendedUntil], ['eol', '2021-10-12', '2024-10-08']);
  assert.match(amb.basis, /^Could be any of 4: Windows 7 SP1 security support ended 2020-01-14; ESU ended 2023-01-10 \(Microsoft lifecycle\) \| Windows Server 2008 R2 SP1/);
  // Before 2021-10-12 one candidate (POSReady 7) was still supported.
  const before = lifecycleStatus(resolveOs('Windows 7 / Server 2008 R2 SP1 (6.1.7601)')?.releases ?? [], new Date('2021-01-01T00:00:00Z'));
  assert.deepEqual([before.state, before.eolDate, before.daysLeft], ['supported', '2021-10-12', 284]);
  assert.deepEqual(
    ['Windows XP', 'Windows Server 2012 R2 Standard 9600', 'Windows Embedded Standard 7601 Service Pack 1'].map((x) => lifecycleStatus(resolveOs(x)?.releases ?? [], NOW).since),
    ['2019-04-09', '2023-10-10', '2020-10-13'],
  );
  // Windows 10 1809 or Server 2019: the LTSC and server cycles run to 2029-01-09.
  const srv = lifecycleStatus(resolveOs('Windows 10 1809 / Server 2019 (10.0.17763)')?.releases ?? [], NOW);
  assert.deepEqual([srv.state, srv.eolDate, srv.daysLeft], ['supported', '2029-01-09', 771]);
  // Ubuntu 18.04: standard support over, ESM to 2028.
  const u = lifecycleStatus(resolveOs('Ubuntu 18.04.6 LTS')?.releases ?? [], NOW);
  assert.deepEqual([u.state, u.since, u.extendedUntil], ['eol', '2023-05-31', '2028-04-01']);
  assert.match(u.basis, /ESM ends 2028-04-01/);
});

test('status boundaries, open and undated ends', () => {
  const r = (eol?: string, extra: Partial<OsRelease> = {}): OsRelease => ({ product: 'x', cycle: eol ?? 'open', label: `X ${eol ?? 'open'}`, ...(eol !== undefined ? { eol } : {}), ...extra });
  const at = (iso: string): Date => new Date(`${iso}T12:00:00Z`);
  assert.equal(lifecycleStatus([r('2025-01-10')], at('2025-01-10')).state, 'eol', 'end-of-life from the start of the end date');
  assert.deepEqual(lifecycleStatus([r('2025-01-10')], at('2025-01-09')), { state: 'supported', eolDate: '2025-01-10', daysLeft: 1, basis: 'X 2025-01-10 security support ends 2025-01-10 (endoflife.date).' });
  assert.deepEqual(lifecycleStatus([r('2025-01-10')], new Date('2025-01-01T00:00:00Z')).daysLeft, 9);
  const open = lifecycleStatus([r('2020-01-01'), r()], at('2025-01-01'));
  assert.deepEqual([open.state, open.eolDate, open.daysLeft], ['supported', undefined, undefined]);
  assert.match(open.basis, /X open has no announced end of support/);
  const undated = { ...r(), eolUndated: true as const };
  assert.deepEqual(lifecycleStatus([undated], at('2025-01-01')).state, 'eol');
  assert.equal(lifecycleStatus([undated], at('2025-01-01')).since, undefined);
  assert.equal(lifecycleStatus([undated, r('2019-05-05')], at('2025-01-01')).since, '2019-05-05');
  assert.equal(lifecycleStatus(resolveOs('Android 4.3')?.releases ?? [], NOW).state, 'eol');
  assert.equal(lifecycleStatus([], NOW).state, 'unknown');
  assert.equal(sourceName('https://learn.microsoft.com/lifecycle/products/windows-7'), 'Microsoft lifecycle');
  assert.equal(sourceName('https://wiki.ubuntu.com/Releases'), 'Ubuntu');
  assert.equal(sourceName('https://example.org/x'), 'example.org');
});

// ---- Forecast -----------------------------------------------------------------------------------

test('forecast: share of devices with a known OS lifecycle on an EOL OS, overall and per category', () => {
  const rel = (eol: string): OsRelease => ({ product: 'x', cycle: eol, label: eol, eol });
  const devices: { category: Category; releases: OsRelease[] }[] = [
    { category: 'imaging', releases: [rel('2020-01-14')] }, // EOL already
    { category: 'imaging', releases: [rel('2027-06-01')] }, // EOL within a year
    { category: 'imaging', releases: [rel('2027-06-01'), rel('2031-01-01')] }, // ambiguous: supported until 2031
    { category: 'imaging', releases: [] }, // unknown OS
    { category: 'infusion', releases: [rel('2026-12-01')] },
    { category: 'general-it', releases: [{ product: 'x', cycle: 'open', label: 'open' }] }, // no end announced
  ];
  const dates = [NOW, new Date('2027-11-30T00:00:00Z'), new Date('2031-01-01T00:00:00Z')];
  const f = eolForecast(devices, dates);
  assert.deepEqual(f.map((p) => p.date), ['2026-11-30', '2027-11-30', '2031-01-01']);
  assert.deepEqual(f.map((p) => [p.all.devices, p.all.known, p.all.unknown, p.all.eol]), [
    [6, 5, 1, 1],
    [6, 5, 1, 3],
    [6, 5, 1, 4],
  ]);
  assert.deepEqual(f.map((p) => p.all.share), [1 / 5, 3 / 5, 4 / 5]);
  assert.deepEqual(f.map((p) => [p.byCategory.imaging.known, p.byCategory.imaging.unknown, p.byCategory.imaging.eol, p.byCategory.imaging.share]), [
    [3, 1, 1, 1 / 3],
    [3, 1, 2, 2 / 3],
    [3, 1, 3, 1],
  ]);
  assert.deepEqual(f.map((p) => p.byCategory.infusion.eol), [0, 1, 1]);
  assert.deepEqual(f.map((p) => p.byCategory['general-it'].share), [0, 0, 0]);
  assert.deepEqual(f[0]?.byCategory.laboratory, { devices: 0, known: 0, unknown: 0, eol: 0, share: 0 });
  // The forecast agrees with lifecycleStatus device by device.
  for (const d of dates) {
    const eol = devices.filter((x) => lifecycleStatus(x.releases, d).state === 'eol').length;
    assert.equal(eolForecast(devices, [d])[0]?.all.eol, eol);
  }
  assert.equal(allEolAt([]), undefined);
  assert.deepEqual(eolForecast([], [NOW])[0]?.all, { devices: 0, known: 0, unknown: 0, eol: 0, share: 0 });
});

test('forecast on resolved hospital devices: "by next year, N% of imaging systems"', () => {
  const dev = (category: Category, os: string): { category: Category; releases: OsRelease[] } => ({ category, releases: resolveOs(os)?.releases ?? [] });
  const devices = [
    dev('imaging', 'Windows 7 Professional 7601 Service Pack 1'),
    dev('imaging', 'Windows 10 Enterprise 2016 LTSB 14393'), // LTSB 2016: ends 2026-10-13
    dev('imaging', 'Windows Server 2019 Standard 17763'),
    dev('imaging', 'Linux 3.11 and newer'),
    dev('patient-monitoring', 'Windows XP Embedded'),
    dev('laboratory', 'Red Hat Enterprise Linux release 8.4 (Ootpa)'),
  ];
  const [today, inSixMonths, nextYear] = eolForecast(devices, standardForecastDates(NOW));
  assert.deepEqual([today?.byCategory.imaging.eol, today?.byCategory.imaging.known, today?.byCategory.imaging.unknown], [2, 3, 1]);
  assert.equal(nextYear?.byCategory.imaging.share, 2 / 3);
  assert.equal(inSixMonths?.byCategory['patient-monitoring'].share, 1);
  assert.equal(nextYear?.byCategory.laboratory.eol, 0);
  assert.deepEqual([today?.all.known, today?.all.eol], [5, 3]);
});

test('standard forecast dates: today, +6 months, +1, +2, +3 years (calendar months, clamped)', () => {
  assert.deepEqual(standardForecastDates(NOW).map((d) => d.toISOString().slice(0, 10)), ['2026-11-30', '2027-05-30', '2027-11-30', '2028-11-30', '2029-11-30']);
  assert.equal(addMonths(new Date('2026-08-31T10:00:00Z'), 6).toISOString(), '2027-02-28T10:00:00.000Z');
  assert.equal(addMonths(new Date('2028-02-29T00:00:00Z'), 12).toISOString(), '2029-02-28T00:00:00.000Z');
  assert.equal(addMonths(new Date('2027-01-31T00:00:00Z'), 1).toISOString(), '2027-02-28T00:00:00.000Z');
  assert.equal(standardForecastDates().length, 5);
});
