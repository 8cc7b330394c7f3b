/**
 * NTLMSSP messages (MS-NLMP §2.2): NEGOTIATE, CHALLENGE, AUTHENTICATE. Used inside SMB session
 * setups (wrapped in SPNEGO), HTTP "Authorization: NTLM", LDAP binds, and anywhere else Windows
 * authenticates.
 *
 * Why it matters: the VERSION structure (§2.2.2.10) states the sender's Windows major.minor.build —
 * the strongest OS evidence on a Windows network — and the CHALLENGE's target info (§2.2.2.1) names
 * the server's NetBIOS and DNS computer and domain names. AUTHENTICATE names the account and
 * workstation. LM/NT responses, session keys and MICs are never read: they are hash material.
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
  /** CHALLENGE TargetName (the server's domain or name, per the TARGET_TYPE flags). */
  targetName?: string;
  /** CHALLENGE target info (MsvAv*, §2.2.2.1). */
  nbComputer?: string;
  nbDomain?: string;
  dnsComputer?: string;
  dnsDomain?: string;
  dnsTree?: string;
  /** MsvAvTimestamp: the server's clock, seconds since the Unix epoch. */
  timestamp?: number;
  /** AUTHENTICATE (and NEGOTIATE when the OEM_*_SUPPLIED flags say so). */
  user?: string;
  domain?: string;
  workstation?: string;
}

// Negotiate flags, MS-NLMP §2.2.2.5.
const NEGOTIATE_UNICODE = 0x00000001;
const NEGOTIATE_OEM_DOMAIN_SUPPLIED = 0x00001000;
const NEGOTIATE_OEM_WORKSTATION_SUPPLIED = 0x00002000;
const NEGOTIATE_VERSION = 0x02000000;
export const NTLMSSP_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

/** Longest string field we decode; real names are far shorter (NetBIOS 15, DNS 255 characters). */
const MAX_FIELD = 1024;
/** AV pairs read from a target info list (Windows sends about 7). */
const MAX_AV_PAIRS = 32;

/** A (Len, MaxLen, BufferOffset) field (§2.2.1.1 DomainNameFields etc.), bounded by the message. */
function field(m: Buffer, at: number, unicode: boolean): string | undefined {
  if (at + 8 > m.length) return undefined;
  const len = m.readUInt16LE(at);
  const off = m.readUInt32LE(at + 4);
  if (len === 0 || len > MAX_FIELD || off > m.length || len > m.length - off) return undefined;
  const s = unicode ? m.toString('utf16le', off, off + (len & ~1)) : m.toString('latin1', off, off + len);
  const t = cleanText(s, 256);
  return t === '' ? undefined : t;
}

/**
 * VERSION (§2.2.2.10): ProductMajorVersion, ProductMinorVersion, ProductBuild (LE16), 3 reserved,
 * NTLMRevisionCurrent. Zeroed means "not sent" even when the flag is set.
 */
function version(m: Buffer, at: number): NtlmVersion | undefined {
  if (at + 8 > m.length) return undefined;
  const major = m[at] as number;
  const minor = m[at + 1] as number;
  const build = m.readUInt16LE(at + 2);
  if (major === 0 && minor === 0 && build === 0) return undefined;
  return { major, minor, build };
}

/**
 * Lowest payload offset among the given fields. The fixed part of a message ends there, so VERSION
 * is present only if it fits before it (old clients omit it and start the payload right away).
 */
function payloadStart(m: Buffer, fields: readonly number[]): number {
  let min = m.length;
  for (const at of fields) {
    if (at + 8 > m.length) continue;
    const len = m.readUInt16LE(at);
    const off = m.readUInt32LE(at + 4);
    if (len > 0 && off < min) min = off;
  }
  return min;
}

/** Target info AV pairs (§2.2.2.1): ids 1–5 are UTF-16LE names, 7 a FILETIME. Ends at MsvAvEOL. */
function targetInfo(m: Buffer, off: number, len: number, msg: NtlmMessage): void {
  if (len === 0 || off > m.length || len > m.length - off) return;
  const end = off + len;
  let p = off;
  for (let n = 0; n < MAX_AV_PAIRS && p + 4 <= end; n++) {
    const id = m.readUInt16LE(p);
    const l = m.readUInt16LE(p + 2);
    if (id === 0 || l > end - p - 4) break;
    if (id >= 1 && id <= 5) {
      const v = cleanText(m.toString('utf16le', p + 4, p + 4 + (l & ~1)), 256);
      if (v !== '') {
        if (id === 1) msg.nbComputer = v;
        else if (id === 2) msg.nbDomain = v;
        else if (id === 3) msg.dnsComputer = v;
        else if (id === 4) msg.dnsDomain = v;
        else msg.dnsTree = v;
      }
    } else if (id === 7 && l === 8) {
      // FILETIME: 100 ns ticks since 1601-01-01.
      const ticks = m.readUInt32LE(p + 8) * 4294967296 + m.readUInt32LE(p + 4);
      msg.timestamp = ticks / 1e7 - 11644473600;
    }
    p += 4 + l;
  }
}

/** Parses an NTLMSSP message starting at `m[0]`; undefined when it is not one. */
export function parseNtlmssp(m: Buffer): NtlmMessage | undefined {
  if (m.length < 12 || m.compare(NTLMSSP_SIGNATURE, 0, 8, 0, 8) !== 0) return undefined;
  const type = m.readUInt32LE(8);
  if (type === 1) {
    // §2.2.1.1: Flags @12, DomainNameFields @16, WorkstationFields @24, Version @32.
    if (m.length < 16) return undefined;
    const flags = m.readUInt32LE(12);
    const msg: NtlmMessage = { type: 1, flags };
    // These two are always OEM (§2.2.1.1), and only meaningful when their flags are set.
    if ((flags & NEGOTIATE_OEM_DOMAIN_SUPPLIED) !== 0) {
      const d = field(m, 16, false);
      if (d !== undefined) msg.domain = d;
    }
    if ((flags & NEGOTIATE_OEM_WORKSTATION_SUPPLIED) !== 0) {
      const w = field(m, 24, false);
      if (w !== undefined) msg.workstation = w;
    }
    if ((flags & NEGOTIATE_VERSION) !== 0 && payloadStart(m, [16, 24]) >= 40) {
      const v = version(m, 32);
      if (v !== undefined) msg.version = v;
    }
    return msg;
  }
  if (type === 2) {
    // §2.2.1.2: TargetNameFields @12, Flags @20, ServerChallenge @24, Reserved @32,
    // TargetInfoFields @40, Version @48.
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
    // Target info is sent whether or not NEGOTIATE_TARGET_INFO is set by old servers; always UTF-16LE.
    if (m.length >= 48) targetInfo(m, m.readUInt32LE(44), m.readUInt16LE(40), msg);
    return msg;
  }
  if (type === 3) {
    // §2.2.1.3: LmChallengeResponseFields @12, NtChallengeResponseFields @20, DomainNameFields @28,
    // UserNameFields @36, WorkstationFields @44, EncryptedRandomSessionKeyFields @52, Flags @60,
    // Version @64, MIC @72. Only the three names are decoded.
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

/** How far into a security blob the NTLMSSP signature is looked for (SPNEGO headers are < 100 bytes). */
const MAX_SEARCH = 4096;

/**
 * Finds an NTLMSSP message inside a security blob. SPNEGO (RFC 4178) wraps it in a DER
 * mechToken/responseToken OCTET STRING; rather than walk the DER, the 8-byte signature is searched
 * for in the blob's first bytes — robust against the GSS-API variants Windows, Samba and others
 * send, and a Kerberos ticket does not contain it by accident in practice.
 */
export function findNtlmssp(blob: Buffer): NtlmMessage | undefined {
  const at = blob.subarray(0, MAX_SEARCH + 8).indexOf(NTLMSSP_SIGNATURE);
  return at < 0 ? undefined : parseNtlmssp(blob.subarray(at));
}

/** Windows releases by NT version and build (Microsoft's release information). */
const BUILDS: Record<number, [major: number, minor: number, name: string]> = {
  2195: [5, 0, 'Windows 2000'],
  2600: [5, 1, 'Windows XP'],
  3790: [5, 2, 'Windows XP x64 / Server 2003'],
  6000: [6, 0, 'Windows Vista'],
  6001: [6, 0, 'Windows Vista SP1 / Server 2008'],
  6002: [6, 0, 'Windows Vista SP2 / Server 2008 SP2'],
  6003: [6, 0, 'Windows Server 2008 SP2'],
  7600: [6, 1, 'Windows 7 / Server 2008 R2'],
  7601: [6, 1, 'Windows 7 / Server 2008 R2 SP1'],
  9200: [6, 2, 'Windows 8 / Server 2012'],
  9600: [6, 3, 'Windows 8.1 / Server 2012 R2'],
  10240: [10, 0, 'Windows 10 1507'],
  10586: [10, 0, 'Windows 10 1511'],
  14393: [10, 0, 'Windows 10 1607 / Server 2016'],
  15063: [10, 0, 'Windows 10 1703'],
  16299: [10, 0, 'Windows 10 1709'],
  17134: [10, 0, 'Windows 10 1803'],
  17763: [10, 0, 'Windows 10 1809 / Server 2019'],
  18362: [10, 0, 'Windows 10 1903'],
  18363: [10, 0, 'Windows 10 1909'],
  19041: [10, 0, 'Windows 10 2004'],
  19042: [10, 0, 'Windows 10 20H2'],
  19043: [10, 0, 'Windows 10 21H1'],
  19044: [10, 0, 'Windows 10 21H2'],
  19045: [10, 0, 'Windows 10 22H2'],
  20348: [10, 0, 'Windows Server 2022'],
  22000: [10, 0, 'Windows 11 21H2'],
  22621: [10, 0, 'Windows 11 22H2'],
  22631: [10, 0, 'Windows 11 23H2'],
  25398: [10, 0, 'Windows Server 23H2'],
  26100: [10, 0, 'Windows 11 24H2 / Server 2025'],
  26200: [10, 0, 'Windows 11 25H2'],
};

/** Windows family by NT major.minor, for builds not in the table (previews, unlisted updates). */
export function windowsFamily(major: number, minor: number, build = 0): string {
  if (major === 5) return ['Windows 2000', 'Windows XP', 'Windows XP x64 / Server 2003'][minor] ?? 'Windows';
  if (major === 6) return ['Windows Vista / Server 2008', 'Windows 7 / Server 2008 R2', 'Windows 8 / Server 2012', 'Windows 8.1 / Server 2012 R2'][minor] ?? 'Windows';
  if (major === 10 && minor === 0) return build >= 22000 ? 'Windows 11' : build > 0 ? 'Windows 10' : 'Windows 10 / 11';
  return 'Windows';
}

/** "Windows 7 / Server 2008 R2 SP1 (6.1.7601)". */
export function windowsName(v: NtlmVersion): string {
  const known = BUILDS[v.build];
  const name = known !== undefined && known[0] === v.major && known[1] === v.minor ? known[2] : windowsFamily(v.major, v.minor, v.build);
  return `${name} (${v.major}.${v.minor}.${v.build})`;
}

/**
 * Whether a VERSION plausibly states a Windows release. Samba and other non-Windows stacks send a
 * fixed 6.1 with build 0: the version is still reported, but it says nothing about the OS.
 */
export function isWindowsVersion(v: NtlmVersion): boolean {
  return (v.major === 5 || v.major === 6 || v.major === 10) && v.build >= 2000;
}

const TYPE_NAMES = ['', 'NEGOTIATE', 'CHALLENGE', 'AUTHENTICATE'] as const;

/**
 * Emits what an NTLMSSP message says about its sender: NEGOTIATE and AUTHENTICATE come from the
 * client, CHALLENGE from the server (pass the side the transport saw it on). `via` names the carrier
 * for the evidence ("SMB2 SESSION_SETUP").
 */
export function emitNtlmssp(msg: NtlmMessage, side: Side, ctx: DissectContext, via: string): void {
  const what = `NTLMSSP ${TYPE_NAMES[msg.type]} (${via})`;
  if (msg.version !== undefined) {
    const v = `${msg.version.major}.${msg.version.minor}.${msg.version.build}`;
    const ev = `${what} VERSION ${v}`;
    ctx.emit({ side, attribute: 'ntlmssp.version', value: v, confidence: 0.95, evidence: ev });
    if (isWindowsVersion(msg.version)) ctx.emit({ side, attribute: 'os', value: windowsName(msg.version), confidence: 0.9, evidence: ev });
  }
  if (msg.type === 2) {
    const names: Array<[string, string | undefined]> = [
      ['ntlmssp.nb_computer', msg.nbComputer],
      ['ntlmssp.nb_domain', msg.nbDomain],
      ['ntlmssp.dns_computer', msg.dnsComputer],
      ['ntlmssp.dns_domain', msg.dnsDomain],
      ['ntlmssp.dns_tree', msg.dnsTree],
    ];
    for (const [attribute, value] of names) {
      if (value !== undefined) ctx.emit({ side, attribute, value, confidence: 0.95, evidence: `${what} target info` });
    }
    return;
  }
  if (msg.user !== undefined) ctx.emit({ side, attribute: 'ntlmssp.user', value: msg.user, confidence: 0.9, evidence: `${what} ${msg.domain ?? ''}\\${msg.user} from ${msg.workstation ?? '?'}` });
  if (msg.domain !== undefined) ctx.emit({ side, attribute: 'ntlmssp.domain', value: msg.domain, confidence: 0.9, evidence: what });
  if (msg.workstation !== undefined) ctx.emit({ side, attribute: 'ntlmssp.workstation', value: msg.workstation, confidence: 0.9, evidence: what });
}
