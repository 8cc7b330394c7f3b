/**
 * NTLMSSP messages (MS-NLMP §2.2): NEGOTIATE, CHALLENGE, AUTHENTICATE. Used inside SMB session
 * setups, HTTP "Authorization: NTLM", and anywhere else Windows authenticates.
 *
 * Why it matters: the VERSION structure (§2.2.2.10) states the sender's Windows major.minor.build —
 * the strongest OS evidence on a Windows network — and the CHALLENGE's target info names the
 * server's NetBIOS and DNS computer and domain names. AUTHENTICATE names the account and
 * workstation. Responses and hashes are never read.
 *
 * Every (length, offset) pair is checked against the message: hostile values are common.
 */
import type { DissectContext, Side } from './dissector.ts';
import { cleanText } from './redact.ts';

export interface NtlmVersion {
  major: number;
  minor: number;
  build: number;
}

export interface NtlmMessage {
  type: 1 | 2 | 3;
  flags: number;
  version?: NtlmVersion;
  targetName?: string;
  /** CHALLENGE target info (MsvAv*). */
  nbComputer?: string;
  nbDomain?: string;
  dnsComputer?: string;
  dnsDomain?: string;
  dnsTree?: string;
  /** AUTHENTICATE. */
  user?: string;
  domain?: string;
  workstation?: string;
}

const NEGOTIATE_UNICODE = 0x00000001;
const NEGOTIATE_VERSION = 0x02000000;
export const NTLMSSP_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

function field(m: Buffer, at: number, unicode: boolean): string | undefined {
  if (at + 8 > m.length) return undefined;
  const len = m.readUInt16LE(at);
  const off = m.readUInt32LE(at + 4);
  if (len === 0 || off + len > m.length || len > 1024) return undefined;
  const s = unicode ? m.toString('utf16le', off, off + (len & ~1)) : m.toString('latin1', off, off + len);
  const t = cleanText(s, 256);
  return t === '' ? undefined : t;
}

function version(m: Buffer, at: number): NtlmVersion | undefined {
  if (at + 8 > m.length) return undefined;
  const major = m[at] as number;
  const minor = m[at + 1] as number;
  const build = m.readUInt16LE(at + 2);
  // A zeroed or absurd VERSION is "not sent", not Windows 0.0.
  if (major < 5 || major > 10 || build === 0) return undefined;
  return { major, minor, build };
}

/** Lowest payload offset among the given fields: the fixed part ends there, so VERSION is present only if it fits before. */
function payloadStart(m: Buffer, fields: number[]): number {
  let min = m.length;
  for (const at of fields) {
    if (at + 8 > m.length) continue;
    const len = m.readUInt16LE(at);
    const off = m.readUInt32LE(at + 4);
    if (len > 0 && off < min) min = off;
  }
  return min;
}

/** Parses an NTLMSSP message starting at `m[0]`; undefined when it is not one. */
export function parseNtlmssp(m: Buffer): NtlmMessage | undefined {
  if (m.length < 12 || !m.subarray(0, 8).equals(NTLMSSP_SIGNATURE)) return undefined;
  const type = m.readUInt32LE(8);
  if (type === 1) {
    if (m.length < 16) return undefined;
    const flags = m.readUInt32LE(12);
    const msg: NtlmMessage = { type: 1, flags };
    if ((flags & NEGOTIATE_VERSION) !== 0 && payloadStart(m, [16, 24]) >= 40) {
      const v = version(m, 32);
      if (v !== undefined) msg.version = v;
    }
    return msg;
  }
  if (type === 2) {
    if (m.length < 32) return undefined;
    const flags = m.readUInt32LE(20);
    const unicode = (flags & NEGOTIATE_UNICODE) !== 0;
    const msg: NtlmMessage = { type: 2, flags };
    const tn = field(m, 12, unicode);
    if (tn !== undefined) msg.targetName = tn;
    if ((flags & NEGOTIATE_VERSION) !== 0 && payloadStart(m, [12, 40]) >= 56) {
      const v = version(m, 48);
      if (v !== undefined) msg.version = v;
    }
    // Target info: AV pairs (MS-NLMP §2.2.2.1), always UTF-16LE.
    if (m.length >= 48) {
      const len = m.readUInt16LE(40);
      const off = m.readUInt32LE(44);
      if (len > 0 && off + len <= m.length) {
        let p = off;
        const end = off + len;
        for (let n = 0; p + 4 <= end && n < 32; n++) {
          const id = m.readUInt16LE(p);
          const l = m.readUInt16LE(p + 2);
          if (id === 0 || p + 4 + l > end) break;
          const v = cleanText(m.toString('utf16le', p + 4, p + 4 + (l & ~1)), 256);
          if (v !== '') {
            if (id === 1) msg.nbComputer = v;
            else if (id === 2) msg.nbDomain = v;
            else if (id === 3) msg.dnsComputer = v;
            else if (id === 4) msg.dnsDomain = v;
            else if (id === 5) msg.dnsTree = v;
          }
          p += 4 + l;
        }
      }
    }
    return msg;
  }
  if (type === 3) {
    if (m.length < 64) return undefined;
    const flags = m.readUInt32LE(60);
    const unicode = (flags & NEGOTIATE_UNICODE) !== 0;
    const msg: NtlmMessage = { type: 3, flags };
    const domain = field(m, 28, unicode);
    const user = field(m, 36, unicode);
    const ws = field(m, 44, unicode);
    if (domain !== undefined) msg.domain = domain;
    if (user !== undefined) msg.user = user;
    if (ws !== undefined) msg.workstation = ws;
    if ((flags & NEGOTIATE_VERSION) !== 0 && payloadStart(m, [12, 20, 28, 36, 44, 52]) >= 72) {
      const v = version(m, 64);
      if (v !== undefined) msg.version = v;
    }
    return msg;
  }
  return undefined;
}

/** Finds an NTLMSSP message inside a security blob (SPNEGO/GSS-API wraps it; the signature marks it). */
export function findNtlmssp(blob: Buffer): NtlmMessage | undefined {
  const at = blob.indexOf(NTLMSSP_SIGNATURE);
  return at < 0 ? undefined : parseNtlmssp(blob.subarray(at));
}

/** Windows releases by NT version and build (Microsoft's release information). */
const BUILDS: Record<number, string> = {
  2195: 'Windows 2000',
  2600: 'Windows XP',
  3790: 'Windows XP x64 / Server 2003',
  6000: 'Windows Vista',
  6001: 'Windows Vista SP1 / Server 2008',
  6002: 'Windows Vista SP2 / Server 2008 SP2',
  6003: 'Windows Server 2008 SP2',
  7600: 'Windows 7 / Server 2008 R2',
  7601: 'Windows 7 SP1 / Server 2008 R2 SP1',
  9200: 'Windows 8 / Server 2012',
  9600: 'Windows 8.1 / Server 2012 R2',
  10240: 'Windows 10 1507',
  10586: 'Windows 10 1511',
  14393: 'Windows 10 1607 / Server 2016',
  15063: 'Windows 10 1703',
  16299: 'Windows 10 1709',
  17134: 'Windows 10 1803',
  17763: 'Windows 10 1809 / Server 2019',
  18362: 'Windows 10 1903',
  18363: 'Windows 10 1909',
  19041: 'Windows 10 2004',
  19042: 'Windows 10 20H2',
  19043: 'Windows 10 21H1',
  19044: 'Windows 10 21H2',
  19045: 'Windows 10 22H2',
  20348: 'Windows Server 2022',
  22000: 'Windows 11 21H2',
  22621: 'Windows 11 22H2',
  22631: 'Windows 11 23H2',
  25398: 'Windows Server 23H2',
  26100: 'Windows 11 24H2 / Server 2025',
};

export function windowsName(v: NtlmVersion): string {
  const known = BUILDS[v.build];
  if (known !== undefined) return `${known} (${v.major}.${v.minor}.${v.build})`;
  const family =
    v.major === 5 ? (v.minor === 0 ? 'Windows 2000' : v.minor === 1 ? 'Windows XP' : 'Windows Server 2003') : v.major === 6 ? (['Windows Vista / Server 2008', 'Windows 7 / Server 2008 R2', 'Windows 8 / Server 2012', 'Windows 8.1 / Server 2012 R2'][v.minor] ?? 'Windows') : v.build >= 22000 ? 'Windows 11' : 'Windows 10';
  return `${family} (${v.major}.${v.minor}.${v.build})`;
}

/** Emits what an NTLMSSP message says about its sender (and, for CHALLENGE, the server's names). */
export function emitNtlmssp(msg: NtlmMessage, side: Side, ctx: DissectContext, via: string): void {
  if (msg.version !== undefined) {
    const v = `${msg.version.major}.${msg.version.minor}.${msg.version.build}`;
    const ev = `NTLMSSP ${['', 'NEGOTIATE', 'CHALLENGE', 'AUTHENTICATE'][msg.type]} VERSION ${v} (${via})`;
    ctx.emit({ side, attribute: 'ntlmssp.version', value: v, confidence: 0.95, evidence: ev });
    ctx.emit({ side, attribute: 'os', value: windowsName(msg.version), confidence: 0.9, evidence: ev });
  }
  if (msg.type === 2) {
    if (msg.nbComputer !== undefined) ctx.emit({ side, attribute: 'ntlmssp.nb_computer', value: msg.nbComputer, confidence: 0.95 });
    if (msg.nbDomain !== undefined) ctx.emit({ side, attribute: 'ntlmssp.nb_domain', value: msg.nbDomain, confidence: 0.95 });
    if (msg.dnsComputer !== undefined) ctx.emit({ side, attribute: 'ntlmssp.dns_computer', value: msg.dnsComputer, confidence: 0.95 });
    if (msg.dnsDomain !== undefined) ctx.emit({ side, attribute: 'ntlmssp.dns_domain', value: msg.dnsDomain, confidence: 0.95 });
  }
  if (msg.type === 3) {
    if (msg.user !== undefined) ctx.emit({ side, attribute: 'ntlmssp.user', value: msg.user, confidence: 0.9, evidence: `NTLMSSP AUTHENTICATE ${msg.domain ?? ''}\\${msg.user} from ${msg.workstation ?? '?'} (${via})` });
    if (msg.domain !== undefined) ctx.emit({ side, attribute: 'ntlmssp.domain', value: msg.domain, confidence: 0.9 });
    if (msg.workstation !== undefined) ctx.emit({ side, attribute: 'ntlmssp.workstation', value: msg.workstation, confidence: 0.9 });
  }
}
