/**
 * Operating-system end of life: which lifecycle releases an OS string can be, whether a device
 * on them is still supported at a date, and how the share of devices on an end-of-life OS grows.
 *
 * - `resolveOs` reads the OS strings Vigil's dissectors emit (NTLMSSP and SNMP Windows versions,
 *   SMB Native OS, p0f labels, DHCP vendor classes, SSDP/UPnP product tokens, mDNS, uname-style
 *   kernel versions) and free text ("Ubuntu 18.04.6 LTS") into releases of the lifecycle table
 *   (data/os-lifecycle.json). A signal that cannot tell releases apart gives every release it could
 *   be (NT 6.1.7601 is Windows 7 SP1, Server 2008 R2 SP1, Embedded Standard 7 and POSReady 7); a
 *   vague one ("Linux 3.11 and newer", "Windows 10 / 11") gives the family and no release. A
 *   version number in parentheses — "(6.1.7601)", "(Darwin 17)" — is the evidence and wins over the
 *   name in front of it, which the dissector derived from it.
 * - `lifecycleStatus` is conservative: a device is end-of-life only when every release it could be
 *   is, and then since the latest of their end dates.
 * - `eolForecast` counts devices on an end-of-life OS at future dates, overall and per category.
 *
 * Dates are whole days (UTC). A release is end-of-life from the start of its end date.
 */
import { CATEGORIES, type Category, type OsRelease } from '../inventory/device.ts';
import { osLifecycle, toRelease, type LifecycleRelease, type OsLifecycleTable } from '../knowledge/os-lifecycle.ts';

const DAY = 86_400_000;

// ---- Resolving OS strings ---------------------------------------------------------------------

export interface ResolvedOs {
  /** 'Windows', 'Linux', 'macOS', 'iOS', 'Android', 'VMware ESXi', 'Unix', 'VxWorks' … */
  family: string;
  /** The release's label when there is one candidate, else the OS text as given. */
  label: string;
  /** The lifecycle releases the text can mean; [] when it does not name one (unknown lifecycle). */
  releases: OsRelease[];
}

type Ref = readonly [product: string, cycle: string];

/**
 * Windows releases by NT version, every edition family that reports it. Where a version had
 * service packs only the last one is listed: an earlier one ended no later, so it changes neither
 * the status nor the date (the device is never said to be end-of-life earlier than it could be).
 */
const XP: readonly Ref[] = [
  ['windows', '5-sp3'],
  ['windows-embedded', 'xp-embedded-sp3'],
  ['windows-embedded', 'wepos-sp3'],
  ['windows-embedded', 'standard-2009'],
  ['windows-embedded', 'posready-2009'],
];
const NT: Record<string, readonly Ref[]> = {
  '4.0': [['windows', 'nt-4.0'], ['windows-server', 'nt-4.0']],
  '5.0': [['windows', '2000'], ['windows-server', '2000']],
  '5.1': XP,
  // 5.2 is Server 2003 (and R2) and XP Professional x64, which follows the XP lifecycle.
  '5.2': [['windows-server', '2003-sp2'], ['windows', '5-sp3']],
  '6.0': [['windows', '6-sp2'], ['windows-server', '2008-sp2']],
  '6.1': [['windows', '7-sp1'], ['windows-server', '2008-r2-sp1'], ['windows-embedded', 'standard-7-sp1'], ['windows-embedded', 'posready-7']],
  '6.2': [['windows', '8'], ['windows-server', '2012'], ['windows-embedded', '8-standard']],
  '6.3': [['windows', '8.1'], ['windows-server', '2012-r2'], ['windows-embedded', '8.1-industry'], ['windows-embedded', '8.1-pro']],
};
const WIN9X: readonly Ref[] = [['windows', '98'], ['windows', 'me']];

/** Windows Server by year (SP: the service pack the text states, when the table has that cycle). */
const SERVER_YEAR: Record<string, readonly string[]> = {
  '2000': ['2000'],
  '2003': ['2003-sp2', '2003-sp1', '2003'],
  '2008': ['2008-sp2'],
  '2008 R2': ['2008-r2-sp1'],
  '2012': ['2012'],
  '2012 R2': ['2012-r2'],
  '2016': ['2016'],
  '2019': ['2019'],
  '2022': ['2022'],
  '2025': ['2025'],
};

/** Ubuntu kernel series → the LTS releases that ship it (GA or HWE; ubuntu.com/kernel/lifecycle). */
const UBUNTU_KERNELS: Record<string, readonly string[]> = {
  '3.13': ['14.04'],
  '4.4': ['16.04', '14.04'],
  '4.15': ['18.04', '16.04'],
  '5.4': ['20.04', '18.04'],
  '5.15': ['22.04', '20.04'],
  '6.8': ['24.04', '22.04'],
};
/** Debian's kernel ABI series ("4.19.0-18-amd64") → the Debian release that ships it. */
const DEBIAN_KERNELS: Record<string, string> = { '2.6.32': '6', '3.2': '7', '3.16': '8', '4.9': '9', '4.19': '10', '5.10': '11', '6.1': '12', '6.12': '13' };

/** Families recognised without lifecycle data in the table. */
const OTHER_FAMILIES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(?:Unix|Linux)\b.*\bsamba\b/i, 'Unix'],
  [/^Unix\b/i, 'Unix'],
  [/^FreeBSD\b/i, 'FreeBSD'],
  [/^OpenBSD\b/i, 'OpenBSD'],
  [/^NetBSD\b/i, 'NetBSD'],
  [/^(?:Solaris|SunOS)\b/i, 'Solaris'],
  [/^HP-UX\b/i, 'HP-UX'],
  [/^VxWorks\b/i, 'VxWorks'],
  [/^QNX\b/i, 'QNX'],
  [/^OpenVMS\b/i, 'OpenVMS'],
  [/^Tru64\b/i, 'Tru64'],
  [/^Tizen\b/i, 'Tizen'],
  [/^webOS\b/i, 'webOS'],
  [/^Blackberry\b/i, 'BlackBerry'],
  [/^NeXTSTEP\b/i, 'NeXTSTEP'],
  [/^Nintendo\b/i, 'Nintendo'],
  [/^Cisco (?:IOS|NX-OS)\b/i, 'Cisco IOS'],
];

class Resolver {
  constructor(readonly table: OsLifecycleTable) {}

  release(product: string, cycle: string): LifecycleRelease | undefined {
    const c = this.table.products[product]?.cycles.find((x) => x.cycle === cycle);
    return c === undefined ? undefined : toRelease(product, c);
  }

  refs(refs: readonly Ref[]): OsRelease[] {
    const out: OsRelease[] = [];
    for (const [p, c] of refs) {
      const r = this.release(p, c);
      if (r !== undefined && !out.some((x) => x.product === p && x.cycle === c)) out.push(r);
    }
    return out;
  }

  /** The first of `cycles` the product has (a stated service pack, else the latest). */
  firstOf(product: string, cycles: readonly string[]): OsRelease[] {
    for (const c of cycles) {
      const r = this.release(product, c);
      if (r !== undefined) return [r];
    }
    return [];
  }

  /** Cycles whose `latest` is this NT 10.0 build, in the given products. */
  byBuild(build: number, products: readonly string[]): OsRelease[] {
    const out: OsRelease[] = [];
    for (const p of products) {
      for (const c of this.table.products[p]?.cycles ?? []) if (c.latest === `10.0.${build}`) out.push(toRelease(p, c));
    }
    return out;
  }

  /** A dotted version's cycle in a product: "major.minor", else "major", else "major.0". */
  version(product: string, major: string, minor?: string): OsRelease[] {
    const cands = minor !== undefined ? [`${major}.${minor}`, major, `${major}.0`] : [major, `${major}.0`];
    return this.firstOf(product, cands);
  }
}

function result(family: string, text: string, releases: OsRelease[]): ResolvedOs {
  return { family, label: releases.length === 1 ? (releases[0] as OsRelease).label : text, releases };
}

/** Windows 10/11 edition groups: endoflife.date's (W) Home/Pro, (E) Enterprise/Education/IoT, LTSC. */
function windowsEditionFilter(text: string): (cycle: string) => boolean {
  if (/\bLTS[BC]\b/i.test(text)) return (c) => c.endsWith('-lts');
  if (/\bIoT\b/i.test(text)) return (c) => /-iot/.test(c) || /-e(?:-lts)?$/.test(c) || !/-(?:e|w|iot)(?:-lts)?$/.test(c);
  if (/\b(?:Enterprise|Education)\b/i.test(text)) return (c) => !/-w$/.test(c) && !/-iot$/.test(c);
  if (/\b(?:Pro|Professional|Home|Core|Workstations?)\b/i.test(text)) return (c) => !/-(?:e|iot)(?:-lts)?$/.test(c);
  return () => true;
}

function resolveWindows(r: Resolver, text: string): ResolvedOs {
  const t = text.replace(/\((?:R|TM)\)|\u00ae|\u2122/gi, ' ').replace(/\s+/g, ' ').trim();
  const ver = /\((\d+)\.(\d+)(?:\.(\d+))?\)\s*$/.exec(t);
  const stated = /\b(?:Service Pack|SP) ?(\d)\b/i.exec(t)?.[1];

  // 1. An NT version in parentheses (NTLMSSP, SNMP, SSDP, SMB "Windows 5.1"): every family that reports it.
  const bare = /^Windows (\d+)\.(\d+)$/i.exec(t);
  const nt = ver ?? bare;
  if (nt !== null) {
    const key = `${nt[1] as string}.${nt[2] as string}`;
    if (key === '4.0') return result('Windows', text, r.refs(/\bNT\b/i.test(t) ? (NT['4.0'] as readonly Ref[]) : WIN9X));
    if (key === '10.0') {
      const build = ver?.[3] !== undefined ? Number(ver[3]) : undefined;
      return result('Windows', text, build === undefined ? [] : r.byBuild(build, ['windows', 'windows-server']));
    }
    return result('Windows', text, r.refs(NT[key] ?? []));
  }

  // 2. p0f's "Windows 7 or 8": a TCP stack shared by NT 6.1 to 6.3, clients, servers and embedded alike.
  if (/\bWindows 7 or 8\b/i.test(t)) return result('Windows', text, r.refs([...(NT['6.1'] ?? []), ...(NT['6.2'] ?? []), ...(NT['6.3'] ?? [])]));

  // 3. Named releases (SMB Native OS, free text).
  const build = Number(/\b(\d{4,5})\b(?!\s*(?:R2|\)))/.exec(t.replace(/\bServer \d{4}\b|\bStandard 20\d\d\b|\bPOSReady 2009\b|\bLTS[BC] 20\d\d\b|\b20\d\d LTS[BC]\b/gi, ''))?.[1] ?? NaN);
  if (/\bNT\b.*\b(?:4\.0|1381)\b/i.test(t)) return result('Windows', text, r.refs(/server/i.test(t) ? [['windows-server', 'nt-4.0']] : /workstation/i.test(t) ? [['windows', 'nt-4.0']] : (NT['4.0'] as readonly Ref[])));
  if (/\b(?:95|98|ME|Millennium)\b/i.test(t) && !/server/i.test(t)) return result('Windows', text, r.refs(/\bME\b|Millennium/i.test(t) && !/98/.test(t) ? [['windows', 'me']] : /98/.test(t) && !/\bME\b/i.test(t) ? [['windows', '98']] : WIN9X));

  // Embedded editions.
  if (/\bPOSReady ?2009\b/i.test(t)) return result('Windows', text, r.refs([['windows-embedded', 'posready-2009']]));
  if (/\bPOSReady ?7\b/i.test(t)) return result('Windows', text, r.refs([['windows-embedded', 'posready-7']]));
  if (/\b(?:WEPOS|Point of Service)\b/i.test(t)) return result('Windows', text, r.refs([['windows-embedded', 'wepos-sp3']]));
  if (/\bXP Embedded\b|\bXPe\b/i.test(t)) return result('Windows', text, r.refs(XP.filter(([p]) => p === 'windows-embedded')));
  if (/\bEmbedded\b.*\bCE ?6|\bCE ?6\.0\b/i.test(t)) return result('Windows', text, r.refs([['windows-embedded', 'ce-6.0']]));
  if (/\bCompact ?7\b/i.test(t)) return result('Windows', text, r.refs([['windows-embedded', 'compact-7']]));
  if (/\bCompact ?2013\b/i.test(t)) return result('Windows', text, r.refs([['windows-embedded', 'compact-2013']]));
  if (/\bEmbedded\b.*\b8\.1 Industry\b|\b8\.1 Industry\b/i.test(t)) return result('Windows', text, r.refs([['windows-embedded', '8.1-industry']]));
  if (/\bEmbedded 8\.1 Pro\b/i.test(t)) return result('Windows', text, r.refs([['windows-embedded', '8.1-pro']]));
  if (/\bEmbedded\b/i.test(t)) {
    if (/\bStandard 2009\b/i.test(t) || build === 2600) return result('Windows', text, r.refs([['windows-embedded', 'standard-2009']]));
    if (/\b(?:Standard 7|7 Standard)\b/i.test(t) || build === 7600 || build === 7601) return result('Windows', text, r.refs([['windows-embedded', 'standard-7-sp1']]));
    if (/\b(?:8 Standard|Standard 8)\b/i.test(t) || build === 9200) return result('Windows', text, r.refs([['windows-embedded', '8-standard']]));
    if (build === 9600) return result('Windows', text, r.refs([['windows-embedded', '8.1-industry'], ['windows-embedded', '8.1-pro']]));
    return result('Windows', text, []);
  }

  // Servers.
  const year = /\bServer (2000|2003|2008|2012|2016|2019|2022|2025)(?: (R2))?\b/i.exec(t);
  if (year !== null) {
    const key = year[2] !== undefined ? `${year[1] as string} R2` : (year[1] as string);
    const cycles = SERVER_YEAR[key] ?? SERVER_YEAR[year[1] as string] ?? []; // 2003 R2 shares 2003's lifecycle
    const sp = stated !== undefined ? cycles.filter((c) => c.endsWith(`-sp${stated}`)) : [];
    return result('Windows', text, r.firstOf('windows-server', [...sp, ...cycles]));
  }
  if (/\bServer\b/i.test(t)) return result('Windows', text, Number.isFinite(build) && build >= 10240 ? r.byBuild(build, ['windows-server']) : []);

  // Clients.
  if (/\bWindows (?:XP|2002)\b/i.test(t)) return result('Windows', text, r.refs(/x64/i.test(t) ? [['windows', '5-sp3']] : XP));
  if (/\bWindows 2000\b/i.test(t)) return result('Windows', text, r.refs(/Professional/i.test(t) ? [['windows', '2000']] : (NT['5.0'] as readonly Ref[])));
  if (/\bWindows Vista\b/i.test(t)) return result('Windows', text, r.refs([['windows', '6-sp2']]));
  if (/\bWindows 7\b/i.test(t)) return result('Windows', text, r.refs([['windows', '7-sp1']]));
  if (/\bWindows 8\.1\b/i.test(t)) return result('Windows', text, r.refs([['windows', '8.1']]));
  if (/\bWindows 8\b/i.test(t)) return result('Windows', text, r.refs([['windows', '8']]));
  const modern = /\bWindows (10|11)\b/i.exec(t);
  if (modern !== null) {
    const keep = windowsEditionFilter(t);
    let rs: OsRelease[] = [];
    if (Number.isFinite(build) && build >= 10240) rs = r.byBuild(build, ['windows']);
    else {
      // A feature update named without a build: "Windows 10 22H2", "Windows 10 Enterprise 1809".
      const fu = /\b(1[5-9]0[37-9]|2004|2[0-9]H[12])\b/i.exec(t);
      if (fu !== null) {
        const prefix = `${modern[1] as string}-${(fu[1] as string).toLowerCase()}`;
        rs = (r.table.products.windows?.cycles ?? []).filter((c) => c.cycle === prefix || c.cycle.startsWith(`${prefix}-`)).map((c) => toRelease('windows', c));
      }
    }
    return result('Windows', text, rs.filter((x) => keep(x.cycle)));
  }
  return result('Windows', text, []);
}

/** macOS and iOS releases from a Darwin major version (both report it; so do watchOS and tvOS). */
function darwin(r: Resolver, n: number): OsRelease[] {
  const out: OsRelease[] = [];
  const mac = n >= 5 && n <= 19 ? `10.${n - 4}` : n >= 20 && n <= 24 ? String(n - 9) : n >= 25 ? String(n + 1) : undefined;
  const ios = n >= 11 && n <= 24 ? String(n - 6) : n >= 25 ? String(n + 1) : undefined;
  if (mac !== undefined) out.push(...r.firstOf('macos', [mac]));
  if (ios !== undefined) out.push(...r.firstOf('ios', [ios]));
  return out;
}

function resolveLinuxKernel(r: Resolver, text: string, m: RegExpExecArray): ResolvedOs {
  const [, maj, min, patch, suffix = ''] = m as unknown as [string, string, string, string | undefined, string | undefined];
  const series = `${maj}.${min}`;
  const el = /\.el(\d+)/.exec(suffix);
  if (el !== null) {
    const v = el[1] as string;
    return result('Linux', text, r.refs([['rhel', v], ['centos', v], ['oracle-linux', v], ['almalinux', v], ['rocky-linux', v]]));
  }
  if (/-(?:generic|lowlatency|aws|azure|gcp|gke|oracle|kvm|raspi|ibm)\b/.test(suffix) || /ubuntu/i.test(text)) {
    return result('Linux', text, r.refs((UBUNTU_KERNELS[series] ?? []).map((v): Ref => ['ubuntu', v])));
  }
  const deb = /^(?:\.0)?-\d+-(?:rt-)?(?:amd64|686|686-pae|arm64|armmp|armmp-lpae|armel|marvell|cloud-amd64|powerpc64le|s390x|4kc-malta|5kc-malta|octeon|loongson-3)$/.exec(suffix);
  const debKey = patch !== undefined && maj === '2' ? `${series}.${patch}` : series;
  if (deb !== null || /\+deb\d+/.test(suffix)) {
    const v = /\+deb(\d+)/.exec(suffix)?.[1] ?? DEBIAN_KERNELS[debKey];
    return result('Linux', text, v === undefined ? [] : r.refs([['debian', v]]));
  }
  if (/-default$|\.fc\d+|\.mga\d+|-arch\d|-MANJARO|\.amzn\d/i.test(suffix)) return result('Linux', text, []); // a distribution kernel not mapped here
  // An upstream (or vendor, e.g. "-axis5", "-rt", "-yocto") kernel: its kernel.org branch.
  const branch = maj === '2' && min === '6' && patch !== undefined ? `2.6.${patch}` : series;
  return result('Linux', text, r.firstOf('linux-kernel', [branch]));
}

/**
 * The lifecycle releases an OS string names. Returns undefined for text that names no known OS.
 * Pass a table to resolve against other data (tests); by default the shipped one.
 */
export function resolveOs(text: string, table: OsLifecycleTable = osLifecycle()): ResolvedOs | undefined {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t === '') return undefined;
  const r = new Resolver(table);

  if (/^(?:Microsoft[- ])?Windows\b/i.test(t) || /^Win(?:dows)?\s?(?:XP|NT|2000|7|8|10|11)\b/i.test(t)) return resolveWindows(r, t.replace(/^Microsoft[- ]/i, ''));

  // Darwin-derived names: the Darwin number decides.
  const dn = /\bDarwin[ /]?(\d+)/i.exec(t);
  if (dn !== null) return result(/^i(?:OS|Phone)/i.test(t) ? 'iOS' : 'macOS', t, darwin(r, Number(dn[1])));
  const mac = /^(?:macOS|Mac ?OS X|OS X)\s*(\d+)(?:\.(\d+|x))?(.*)$/i.exec(t);
  if (mac !== null) {
    const [, a, b, rest = ''] = mac as unknown as [string, string, string | undefined, string | undefined];
    if (b === 'x' || /\bor newer\b|\bor later\b/i.test(rest)) return result('macOS', t, []);
    return result('macOS', t, a === '10' ? (b === undefined ? [] : r.firstOf('macos', [`10.${b}`])) : r.firstOf('macos', [a]));
  }
  if (/^(?:macOS|Mac ?OS X?|OS X)\b/i.test(t)) return result('macOS', t, []);
  const ios = /^(?:iOS|iPadOS|iPhone OS) (\d+)\b/i.exec(t);
  if (ios !== null) return result('iOS', t, r.firstOf('ios', [ios[1] as string]));
  if (/^(?:iOS|iPadOS)\b/i.test(t)) return result('iOS', t, []);

  const android = /^Android (\d+)(?:\.(\d+))?/i.exec(t);
  if (android !== null && !/^Android \d+\.x/i.test(t)) {
    const [, a, b] = android as unknown as [string, string, string | undefined];
    // Android's own cycles: "4.4", "8.1", "12.1" (12L) — else the major release ("12", "8.0").
    return result('Android', t, r.version('android', a, b === '0' ? undefined : b));
  }
  if (/^Android\b|\(Android\)/i.test(t)) return result('Android', t, []);

  // Distributions.
  const distro: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray) => OsRelease[]]> = [
    [/^Debian(?: GNU\/Linux)?(?: release)? (\d+)(?:\.(\d+))?/i, (m) => (Number(m[1]) >= 4 ? r.firstOf('debian', [m[1] as string]) : r.version('debian', m[1] as string, m[2]))],
    [/^Debian(?: GNU\/Linux)? \(?([a-z]+)\)?/i, (m) => debianCodename(r, m[1] as string)],
    [/^Ubuntu (\d+\.\d+)/i, (m) => r.firstOf('ubuntu', [m[1] as string])],
    [/^CentOS(?: Linux)?(?: release)? (\d+)/i, (m) => r.firstOf('centos', [m[1] as string])],
    [/^(?:Red Hat Enterprise Linux|RHEL)\b(?: (?:Server|Workstation|Client|Desktop|ES|AS|WS|for \w+))*(?: release)? ?(\d+)/i, (m) => r.firstOf('rhel', [m[1] as string])],
    [/^(?:SUSE Linux Enterprise(?: Server| Desktop)?|SLES|SLED) ?(\d+)(?:[ -]SP(\d+)|\.(\d+))?/i, (m) => r.firstOf('sles', [`${m[1] as string}.${m[2] ?? m[3] ?? '0'}`])],
    [/^Oracle Linux(?: Server)?(?: release)? (\d+)/i, (m) => r.firstOf('oracle-linux', [m[1] as string])],
    [/^AlmaLinux(?: OS)?(?: release)? (\d+)/i, (m) => r.firstOf('almalinux', [m[1] as string])],
    [/^Rocky Linux(?: release)? (\d+)/i, (m) => r.firstOf('rocky-linux', [m[1] as string])],
    [/^Alpine(?: Linux)? v?(\d+\.\d+)/i, (m) => r.firstOf('alpine-linux', [m[1] as string])],
    [/^Fedora(?: Linux| release| Core)? (\d+)/i, (m) => r.firstOf('fedora', [m[1] as string])],
    [/^(?:VMware )?ESXi? (\d+)\.(\d+)/i, (m) => r.firstOf('vmware-esxi', [`${m[1] as string}.${m[2] as string}`])],
    [/^Cisco IOS[ -]XE(?: Software)?,?(?: Version)? (\d+)\.(\d+)/i, (m) => r.firstOf('cisco-ios-xe', [`${m[1] as string}.${Number(m[2])}`])],
  ];
  for (const [re, f] of distro) {
    const m = re.exec(t);
    if (m !== null) return result(/ESXi?/i.test(t) ? 'VMware ESXi' : /^Cisco/i.test(t) ? 'Cisco IOS XE' : 'Linux', t, f(m));
  }
  if (/^(?:CentOS Stream|Debian|Ubuntu|CentOS|Red Hat|SUSE|openSUSE|Oracle Linux|AlmaLinux|Rocky|Alpine|Fedora|Amazon Linux|Raspbian|Yocto|Poky|OpenWrt|Buildroot)\b/i.test(t)) return result('Linux', t, []);
  if (/^(?:VMware )?ESXi?\b/i.test(t)) return result('VMware ESXi', t, []);

  // Kernels ("Linux 4.9.206", "Linux-3.18.31", uname's "Linux host 4.9.206 …" reduced by snmp.ts).
  const kernel = /^Linux[ -](\d+)\.(\d+)(?:\.(\d+))?(\S*)$/i.exec(t);
  // Not ranges or wildcards (p0f's "Linux 2.2.x-3.x", "Linux 3.1-3.10", "Linux 2.6.x").
  const vague = kernel !== null && /(?:^|[.-])x(?:$|[.-])|^-\d+\.\d+/i.test(kernel[4] ?? '');
  if (kernel !== null && !vague) return resolveLinuxKernel(r, t, kernel);
  if (/^Linux\b/i.test(t)) return result('Linux', t, []); // "Linux", p0f's "Linux 3.11 and newer", "Linux 2.2.x-3.x"

  for (const [re, family] of OTHER_FAMILIES) if (re.test(t)) return result(family, t, []);
  return undefined;
}

function debianCodename(r: Resolver, name: string): OsRelease[] {
  const cycles = r.table.products.debian?.cycles ?? [];
  const c = cycles.find((x) => new RegExp(`\\(${name}\\)`, 'i').test(x.label));
  return c === undefined ? [] : [toRelease('debian', c)];
}

// ---- Status at a date -------------------------------------------------------------------------

export interface LifecycleStatus {
  state: 'supported' | 'eol' | 'unknown';
  /** End-of-life since (the latest end date of the candidates): set when state is 'eol' and a date is known. */
  since?: string;
  /** The date by which every candidate is end-of-life (for 'eol' the same as since). */
  eolDate?: string;
  /** Days from `at` to eolDate, when supported and a date is announced. */
  daysLeft?: number;
  /** The latest end of paid extended support (ESU/ESM/ELS…) among the candidates, if any has one. */
  extendedUntil?: string;
  /** Why, in words, with the sources. */
  basis: string;
}

function dayStart(iso: string): number {
  return Date.parse(`${iso}T00:00:00Z`);
}

function undated(r: OsRelease): boolean {
  return (r as LifecycleRelease).eolUndated === true;
}

function endedAt(r: OsRelease, at: number): boolean {
  return undated(r) || (r.eol !== undefined && dayStart(r.eol) <= at);
}

const EXTENDED_NAME: Record<string, string> = {
  windows: 'ESU',
  'windows-server': 'ESU',
  'windows-embedded': 'ESU',
  ubuntu: 'ESM',
  rhel: 'ELS',
  debian: 'Debian LTS',
  sles: 'LTSS',
  'oracle-linux': 'Extended Support',
};

/** A short name for where a date comes from. */
export function sourceName(url: string | undefined): string {
  if (url === undefined) return 'endoflife.date';
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return url;
  }
  if (/(^|\.)microsoft\.com$/.test(host)) return 'Microsoft lifecycle';
  const known: Record<string, string> = {
    'endoflife.date': 'endoflife.date',
    'kernel.org': 'kernel.org',
    'debian.org': 'Debian',
    'lists.debian.org': 'Debian',
    'wiki.debian.org': 'Debian',
    'wiki.ubuntu.com': 'Ubuntu',
    'ubuntu.com': 'Ubuntu',
    'access.redhat.com': 'Red Hat',
    'suse.com': 'SUSE',
    'support.apple.com': 'Apple',
    'developer.apple.com': 'Apple',
    'developer.android.com': 'Android',
    'source.android.com': 'Android',
  };
  return known[host] ?? host;
}

function phrase(r: OsRelease, at: number): string {
  let s: string;
  if (undated(r)) s = `${r.label} support has ended (the source gives no date)`;
  else if (r.eol === undefined) s = `${r.label} has no announced end of support`;
  else s = `${r.label} security support ${dayStart(r.eol) <= at ? 'ended' : 'ends'} ${r.eol}`;
  if (r.extendedEol !== undefined) s += `; ${EXTENDED_NAME[r.product] ?? 'extended support'} ${dayStart(r.extendedEol) <= at ? 'ended' : 'ends'} ${r.extendedEol}`;
  return `${s} (${sourceName(r.source)})`;
}

function maxIso(values: readonly (string | undefined)[]): string | undefined {
  let m: string | undefined;
  for (const v of values) if (v !== undefined && (m === undefined || v > m)) m = v;
  return m;
}

/**
 * Where a device on one of `releases` stands at `at`. End-of-life only when every candidate is
 * (since the latest of their end dates: never overstated); supported when any is, with the days
 * until all would be; unknown when there is no candidate.
 */
const UNKNOWN: LifecycleStatus = Object.freeze({ state: 'unknown', basis: 'No OS release with lifecycle data is known for this device.' });

export function lifecycleStatus(releases: readonly OsRelease[], at: Date): LifecycleStatus {
  // One shared (read-only) status: most devices of a report state no OS.
  if (releases.length === 0) return UNKNOWN;
  const t = at.getTime();
  const phrases = releases.map((r) => phrase(r, t));
  const basis = releases.length === 1 ? `${phrases[0] as string}.` : `Could be any of ${releases.length}: ${phrases.join(' | ')}.`;
  const extendedUntil = maxIso(releases.map((r) => r.extendedEol));
  const withExtended = (s: LifecycleStatus): LifecycleStatus => (extendedUntil !== undefined ? { ...s, extendedUntil } : s);
  if (releases.every((r) => endedAt(r, t))) {
    const since = maxIso(releases.map((r) => r.eol));
    return withExtended(since !== undefined ? { state: 'eol', since, eolDate: since, basis } : { state: 'eol', basis });
  }
  // Supported by at least one candidate: all are end-of-life by the latest announced date, unless one has none.
  if (releases.some((r) => !undated(r) && r.eol === undefined)) return withExtended({ state: 'supported', basis });
  const eolDate = maxIso(releases.map((r) => r.eol)) as string;
  return withExtended({ state: 'supported', eolDate, daysLeft: Math.ceil((dayStart(eolDate) - t) / DAY), basis });
}

// ---- Forecast ---------------------------------------------------------------------------------

export interface ForecastCount {
  /** Devices in the group. */
  devices: number;
  /** With a known OS lifecycle (the denominator of `share`). */
  known: number;
  /** Without one (no OS, or an OS the table has no release for). */
  unknown: number;
  /** On an end-of-life OS at the date. */
  eol: number;
  /** eol / known (0 when none is known). */
  share: number;
}

export interface ForecastPoint {
  /** YYYY-MM-DD (UTC). */
  date: string;
  all: ForecastCount;
  byCategory: Record<Category, ForecastCount>;
}

/**
 * When a device's OS is end-of-life for good: the latest end date of its candidates (-Infinity
 * when all ended without a date, +Infinity when one has no announced end), or undefined when its
 * lifecycle is unknown.
 */
export function allEolAt(releases: readonly OsRelease[]): number | undefined {
  if (releases.length === 0) return undefined;
  let end = -Infinity;
  for (const r of releases) {
    if (undated(r)) continue;
    if (r.eol === undefined) return Infinity;
    end = Math.max(end, dayStart(r.eol));
  }
  return end;
}

function emptyCount(): ForecastCount {
  return { devices: 0, known: 0, unknown: 0, eol: 0, share: 0 };
}

/** For each date, how many devices (overall and per category) are on an end-of-life OS. */
export function eolForecast(devices: readonly { category: Category; releases: readonly OsRelease[] }[], dates: readonly Date[]): ForecastPoint[] {
  // Thousands of devices run a few dozen releases: counted by (category, end) first, each date then
  // reads a few dozen counts. Devices stating the same OS share one releases list (its end worked out once).
  const endOf = new Map<readonly OsRelease[], number | undefined>();
  const counts = new Map<string, { category: Category; end: number | undefined; count: number }>();
  for (const d of devices) {
    let end: number | undefined;
    if (endOf.has(d.releases)) end = endOf.get(d.releases);
    else endOf.set(d.releases, (end = allEolAt(d.releases)));
    const key = `${d.category} ${end ?? ''}`;
    const c = counts.get(key);
    if (c === undefined) counts.set(key, { category: d.category, end, count: 1 });
    else c.count++;
  }
  return eolForecastOfEnds([...counts.values()], dates);
}

/** The forecast from devices already reduced to when their OS ends (`allEolAt`), `count` devices each: what a store can aggregate. */
export function eolForecastOfEnds(ends: readonly { category: Category; end: number | undefined; count: number }[], dates: readonly Date[]): ForecastPoint[] {
  return dates.map((date) => {
    const t = date.getTime();
    const all = emptyCount();
    const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, emptyCount()])) as Record<Category, ForecastCount>;
    for (const { category, end, count } of ends) {
      for (const c of [all, byCategory[category]]) {
        if (c === undefined) continue;
        c.devices += count;
        if (end === undefined) c.unknown += count;
        else {
          c.known += count;
          if (end <= t) c.eol += count;
        }
      }
    }
    for (const c of [all, ...Object.values(byCategory)]) c.share = c.known === 0 ? 0 : c.eol / c.known;
    return { date: date.toISOString().slice(0, 10), all, byCategory };
  });
}

/** `date` plus n calendar months (UTC), the day clamped to the month's last (Aug 31 + 6 → Feb 28/29). */
export function addMonths(date: Date, n: number): Date {
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth() + n;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const d = new Date(date.getTime());
  d.setUTCFullYear(y, m, Math.min(date.getUTCDate(), last));
  return d;
}

/** The standard forecast dates: today, in 6 months, in 1, 2 and 3 years. */
export function standardForecastDates(today: Date = new Date()): Date[] {
  return [0, 6, 12, 24, 36].map((n) => addMonths(today, n));
}
