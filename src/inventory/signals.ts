/**
 * Reading software and OS out of the free-text identity strings devices send: HTTP Server and
 * User-Agent product tokens (RFC 9110 §10.1.5/§10.2.4: `product/version`, comments in
 * parentheses), SSDP SERVER lines (UPnP Device Architecture 2.0 §1.1.3: `OS/version UPnP/2.0
 * product/version`), SMB1 LAN manager strings, DICOM implementation version names.
 */

export interface ProductToken {
  name: string;
  version?: string;
}

/** Tokens that are protocol versions, not software. */
const NOT_SOFTWARE = /^(upnp|dlnadoc|http|mozilla|compatible)$/i;

/** `Apache/2.4.41 (Ubuntu) OpenSSL/1.1.1f` → Apache 2.4.41, OpenSSL 1.1.1f. Comments are dropped. */
export function productTokens(text: string, max = 6): ProductToken[] {
  const out: ProductToken[] = [];
  const noComments = text.replace(/\([^)]*\)/g, ' ');
  for (const m of noComments.matchAll(/((?:[A-Za-z][\w.+-]*\s+){0,4}?[A-Za-z][\w.+-]*)\/(v?[0-9][\w.+-]*)/g)) {
    const name = (m[1] as string).trim();
    if (NOT_SOFTWARE.test(name)) continue;
    out.push({ name, version: (m[2] as string).replace(/^v/, '') });
    if (out.length >= max) break;
  }
  // A bare product with no version ("Microsoft-HTTPAPI", "nginx") is still software.
  if (out.length === 0) {
    const bare = noComments.trim().split(/\s+/)[0];
    if (bare !== undefined && /^[A-Za-z][\w.+-]{1,40}$/.test(bare) && !NOT_SOFTWARE.test(bare)) out.push({ name: bare });
  }
  return out;
}

/** The OS a User-Agent (or SSDP SERVER) states, as text the lifecycle resolver reads; undefined if none. */
export function osFromUserAgent(ua: string): string | undefined {
  const nt = /Windows NT (\d+)\.(\d+)/.exec(ua);
  if (nt !== null) {
    const v = `${nt[1]}.${nt[2]}`;
    const name: Record<string, string> = {
      '5.0': 'Windows 2000',
      '5.1': 'Windows XP',
      '5.2': 'Windows XP x64 / Server 2003',
      '6.0': 'Windows Vista / Server 2008',
      '6.1': 'Windows 7 / Server 2008 R2',
      '6.2': 'Windows 8 / Server 2012',
      '6.3': 'Windows 8.1 / Server 2012 R2',
      // Browsers froze the token at 10.0 for Windows 11 too.
      '10.0': 'Windows 10 / 11',
    };
    // "(6.1)": the resolver reads the NT version, so every edition that reports it stays a candidate.
    return name[v] !== undefined ? `${name[v]} (${v})` : 'Windows';
  }
  if (/Windows CE|Windows Mobile/.test(ua)) return 'Windows CE';
  const android = /Android (\d+(?:\.\d+)?)/.exec(ua);
  if (android !== null) return `Android ${android[1]}`;
  const ios = /(?:iPhone|CPU) OS (\d+)[_.](\d+)/.exec(ua);
  if (ios !== null) return `iOS ${ios[1]}.${ios[2]}`;
  const mac = /Mac OS X (\d+)[_.](\d+)/.exec(ua);
  if (mac !== null) return `macOS ${mac[1]}.${mac[2]}`;
  if (/CrOS/.test(ua)) return 'ChromeOS';
  const distro = /\b(Ubuntu|Debian|CentOS|Fedora|Red Hat)\b/.exec(ua);
  if (distro !== null) return `${distro[1]} Linux`;
  if (/\bLinux\b/.test(ua)) return 'Linux';
  return undefined;
}

/** `OFFIS_DCMTK_367` → dcmtk 3.6.7; other implementation version names are kept as the vendor wrote them. */
export function dicomImplementation(name: string): ProductToken {
  const dcmtk = /^OFFIS_DCMTK_(\d)(\d)(\d+)$/.exec(name);
  if (dcmtk !== null) return { name: 'DCMTK', version: `${dcmtk[1]}.${dcmtk[2]}.${dcmtk[3]}` };
  const m = /^(.*?)[_ -]?v?(\d+(?:[._]\d+)+)$/i.exec(name);
  if (m !== null && (m[1] as string).length >= 2) return { name: m[1] as string, version: (m[2] as string).replace(/_/g, '.') };
  return { name };
}

/** IIS releases by Windows release (Microsoft's IIS version history): the Server header names the OS. */
const IIS_OS: Record<string, string> = {
  '5.0': 'Windows 2000 (5.0)',
  '5.1': 'Windows XP (5.1)',
  '6.0': 'Windows Server 2003 (5.2)',
  '7.0': 'Windows Vista / Server 2008 (6.0)',
  '7.5': 'Windows 7 / Server 2008 R2 (6.1)',
  '8.0': 'Windows 8 / Server 2012 (6.2)',
  '8.5': 'Windows 8.1 / Server 2012 R2 (6.3)',
  '10.0': 'Windows 10 / 11 / Server 2016 or later (10.0)',
};

/**
 * The OS an HTTP Server header states: IIS's version is tied to a Windows release; Apache and
 * others name the distribution that built them in a comment ("Apache/2.4.29 (Ubuntu)").
 */
export function osFromServerHeader(server: string): string | undefined {
  const iis = /Microsoft-IIS\/(\d+\.\d+)/.exec(server);
  if (iis !== null) return IIS_OS[iis[1] as string] ?? 'Windows';
  const comment = /\((Ubuntu|Debian|CentOS|Red Hat|Fedora|Rocky Linux|AlmaLinux|SUSE|Raspbian|Win32|Win64)[^)]*\)/i.exec(server);
  if (comment === null) return undefined;
  const c = (comment[1] as string).toLowerCase();
  if (c === 'win32' || c === 'win64') return 'Windows';
  return c === 'red hat' ? 'Red Hat Enterprise Linux' : `${comment[1]} Linux`;
}

/**
 * The OS a login or service banner names (telnet, FTP, SMTP greetings): "OpenBSD/i386 (oof)",
 * "Ubuntu 14.04.6 LTS", "Microsoft FTP Service", "BusyBox v1.20.2 built-in shell".
 */
export function osFromBanner(banner: string): string | undefined {
  const bsd = /\b(OpenBSD|FreeBSD|NetBSD)(?:\/\w+)?(?:\s+(\d+\.\d+))?/.exec(banner);
  if (bsd !== null) return bsd[2] !== undefined ? `${bsd[1]} ${bsd[2]}` : bsd[1];
  const distro = /\b(Ubuntu|Debian GNU\/Linux|CentOS(?: Linux)?|Red Hat Enterprise Linux(?: Server)?|Fedora|Raspbian)(?:\s+(?:release\s+)?(\d+(?:\.\d+)*))?/.exec(banner);
  if (distro !== null) return distro[2] !== undefined ? `${distro[1]} ${distro[2]}` : `${distro[1]}`;
  if (/\bMicrosoft (?:FTP Service|ESMTP MAIL Service|Telnet Service)|\bWindows(?: NT)?\b/.test(banner)) return 'Windows';
  if (/\bBusyBox\b|\bLinux\b/.test(banner)) return 'Linux';
  return undefined;
}

/** Service software a banner names: "ProFTPD 1.3.5 Server", "(vsFTPd 3.0.3)", "ESMTP Postfix", "Sendmail 8.8.7/8.8.7". */
export function bannerSoftware(banner: string): ProductToken | undefined {
  const m = /\b(ProFTPD|vsFTPd|Pure-FTPd|FileZilla Server|Microsoft FTP Service|wu-ftpd|Serv-U FTP Server|Postfix|Sendmail|Exim|Microsoft ESMTP MAIL Service|OpenSMTPD|BusyBox)\b[\s/,:]*(?:version\s*)?v?(\d+(?:\.\d+)+\w*)?/i.exec(banner);
  if (m === null) return undefined;
  return m[2] !== undefined ? { name: m[1] as string, version: m[2] } : { name: m[1] as string };
}
