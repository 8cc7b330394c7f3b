/**
 * SMB1 (MS-CIFS, MS-SMB) and SMB2/3 (MS-SMB2) over the NetBIOS session service (RFC 1002, port 139)
 * or direct TCP (port 445, MS-SMB2 §2.1) — any port, by signature.
 *
 * Identity: dialects offered and chosen (SMB1 still spoken is a finding in itself), signing,
 * client and server GUIDs (stable per machine), capabilities and SMB 3.1.1 negotiate contexts,
 * SMB1's Native OS and LAN Manager strings and the server's NetBIOS names, the NTLMSSP inside
 * session setups (see ntlmssp.ts: Windows version by build, computer/domain/user names), the
 * NetBIOS names of port-139 session requests, and the shares a client connects to (ADMIN$ and C$
 * are administrative: lateral movement looks like them). Threats seen in the handshake: the
 * MS17-010 check (PeekNamedPipe on FID 0 answered STATUS_INSUFF_SERVER_RESOURCES), the EternalBlue
 * NT_TRANSACT, and the DoublePulsar ping (Trans2 SESSION_SETUP).
 *
 * Only the first MAX_READ bytes of each message are looked at; READ/WRITE data is skipped by length.
 * Once negotiate and session setup are over, a few more messages are read (tree connects, the
 * exploit probes follow immediately) and the flow is Done.
 */
import { StreamVerdict, type DissectContext, type Dissector, type Side, type StreamSession } from './dissector.ts';
import { Framer } from './framer.ts';
import { emitNtlmssp, findNtlmssp, windowsFamily } from './ntlmssp.ts';
import { cleanText } from './redact.ts';

/** Messages are read from their first bytes; negotiates and session setups are small. The rest is skipped. */
const MAX_READ = 16 * 1024;
/** Hard stop: after this many messages (both directions) nothing new is learnt. */
const MAX_MESSAGES = 64;
/** Messages still read once a session is set up: tree connects and exploit probes come right after. */
const AFTER_SETUP = 16;
/** Bounds on lists and chains read from one message. */
const MAX_DIALECTS = 64;
const MAX_CHAIN = 8;
const MAX_CONTEXTS = 16;

const SMB2_DIALECTS: Record<number, string> = { 0x0202: '2.0.2', 0x0210: '2.1', 0x0222: '2.2.2', 0x0224: '2.2.4', 0x02ff: '2.x', 0x0300: '3.0', 0x0302: '3.0.2', 0x0310: '3.1', 0x0311: '3.1.1' };
/** SMB2 Capabilities (MS-SMB2 §2.2.3/§2.2.4), in bit order. */
const SMB2_CAPS = ['DFS', 'LEASING', 'LARGE_MTU', 'MULTI_CHANNEL', 'PERSISTENT_HANDLES', 'DIRECTORY_LEASING', 'ENCRYPTION', 'NOTIFICATIONS'];
/** SMB2_ENCRYPTION_CAPABILITIES cipher ids (§2.2.3.1.2); 0 in a response means no common cipher. */
const CIPHERS: Record<number, string> = { 0: 'none', 1: 'AES-128-CCM', 2: 'AES-128-GCM', 3: 'AES-256-CCM', 4: 'AES-256-GCM' };
/** SMB2_COMPRESSION_CAPABILITIES algorithm ids (§2.2.3.1.3). */
const COMPRESSION: Record<number, string> = { 0: 'none', 1: 'LZNT1', 2: 'LZ77', 3: 'LZ77+Huffman', 4: 'Pattern_V1', 5: 'LZ4' };

const STATUS_INSUFF_SERVER_RESOURCES = 0xc0000205;
/** SMB1 commands whose parameter block starts with an AndX header (MS-CIFS §2.2.3.4). */
const ANDX = new Set([0x24, 0x2d, 0x2e, 0x2f, 0x73, 0x74, 0x75, 0xa2]);
const SMB2_HEADER = 64;

/** SMB1 commands read beyond the header: NEGOTIATE, SESSION_SETUP_ANDX, TREE_CONNECT_ANDX, TRANSACTION(2), NT_TRANSACT. */
const SMB1_READ = new Set([0x72, 0x73, 0x75, 0x25, 0x32, 0xa0]);

/**
 * Whether the NBSS message at `b` (with at least its SMB header, or all of it) is worth more than
 * its header: negotiates, session setups, tree connects and the exploit-bearing SMB1 commands are;
 * READ/WRITE/CREATE… are not, and are skipped by length after the header.
 */
function wanted(b: Buffer): boolean {
  if (b.length < 4 + SMB2_HEADER) return true; // a short message is read whole anyway
  if (b[4] === 0xfe) {
    const command = b.readUInt16LE(4 + 12);
    // A compound (NextCommand != 0) may chain a TREE_CONNECT behind its first command.
    return command <= 1 || command === 3 || b.readUInt32LE(4 + 20) !== 0;
  }
  if (b[4] === 0xff) return SMB1_READ.has(b[4 + 4] as number);
  return false;
}

/** A NetBIOS name (RFC 1001 §14.1 first-level encoding) at `off` → "NAME<xx>". */
export function netbiosName(b: Buffer, off: number): string | undefined {
  if (b[off] !== 32 || off + 33 > b.length) return undefined;
  let s = '';
  for (let i = 0; i < 32; i += 2) {
    const hi = (b[off + 1 + i] as number) - 0x41;
    const lo = (b[off + 2 + i] as number) - 0x41;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) return undefined;
    s += String.fromCharCode((hi << 4) | lo);
  }
  const name = cleanText(s.slice(0, 15), 15);
  return `${name}<${s.charCodeAt(15).toString(16).padStart(2, '0')}>`;
}

/** Offset just past an encoded name with its scope labels (RFC 1002 §4.1), or -1. */
function nameEnd(b: Buffer, off: number): number {
  let p = off;
  for (let n = 0; n < 16 && p < b.length; n++) {
    const l = b[p] as number;
    if (l === 0) return p + 1;
    if (l > 63) return -1;
    p += 1 + l;
  }
  return -1;
}

function hex2(b: Buffer, from: number, to: number): string {
  let s = '';
  for (let i = from; i > to; i--) s += (b[i] as number).toString(16).padStart(2, '0');
  return s;
}

/** A GUID as Windows and Wireshark print it (first three fields little-endian); undefined when all zero. */
function guid(b: Buffer, at: number): string | undefined {
  if (at + 16 > b.length) return undefined;
  let zero = true;
  for (let i = at; i < at + 16; i++) if (b[i] !== 0) zero = false;
  if (zero) return undefined;
  const fwd = b.toString('hex', at + 8, at + 16);
  return `${hex2(b, at + 3, at - 1)}-${hex2(b, at + 5, at + 3)}-${hex2(b, at + 7, at + 5)}-${fwd.slice(0, 4)}-${fwd.slice(4)}`;
}

function capabilities(caps: number): string {
  const out: string[] = [];
  for (let i = 0; i < SMB2_CAPS.length; i++) if ((caps & (1 << i)) !== 0) out.push(SMB2_CAPS[i] as string);
  return out.join(',');
}

function smb2Dialect(d: number): string {
  return SMB2_DIALECTS[d] ?? `0x${d.toString(16).padStart(4, '0')}`;
}

/**
 * SMB1 Native OS → a human OS name. Windows 95–XP send bare versions ("Windows 5.1") or marketing
 * names with the build; Vista+ send the edition and build; Samba says "Unix" and names itself in
 * the LAN Manager string.
 */
export function smb1Os(native: string, lanman: string): string | undefined {
  const bare = /^Windows (\d+)\.(\d+)$/i.exec(native);
  if (bare !== null) {
    const major = Number(bare[1]);
    const minor = Number(bare[2]);
    const name = major === 4 ? 'Windows 95/98/ME' : windowsFamily(major, minor);
    return `${name} (${major}.${minor})`;
  }
  if (/^Windows NT 1381\b/i.test(native)) return 'Windows NT 4.0 (1381)';
  if (/^Windows 2002\b/i.test(native)) return native.replace(/^Windows 2002/i, 'Windows XP');
  if (/^Windows\b/i.test(native)) return native;
  if (/^(Unix|Linux)$/i.test(native) && /samba/i.test(lanman)) return `Unix (${lanman})`;
  if (/^Mac OS X\b/i.test(native)) return native;
  return undefined;
}

/** One SMB1 command block: its parameter words and byte area within the message. */
interface Smb1Block {
  command: number;
  wc: number;
  /** Offset of the first parameter word. */
  words: number;
  /** Offset of the byte area, and its end (bounded by what was read). */
  bytes: number;
  end: number;
}

class SmbSession implements StreamSession {
  private readonly framers: [Framer, Framer] = [new Framer(MAX_READ), new Framer(MAX_READ)];
  private messages = 0;
  private limit = MAX_MESSAGES;
  private encrypted = false;
  /** Dialect strings of the SMB1 NEGOTIATE request: the response picks one by index. */
  private smb1Dialects: string[] | undefined;
  /** A PeekNamedPipe(FID 0) request is outstanding: its answer tells if the server is MS17-010 vulnerable. */
  private peekProbe = false;
  /** Multiplex id of an outstanding DoublePulsar ping. */
  private pulsarMid: number | undefined;
  private readonly reported = new Set<string>();

  get bufferedBytes(): number {
    return this.framers[0].buffered + this.framers[1].buffered;
  }

  data(chunk: Buffer, ctx: DissectContext): StreamVerdict {
    this.framers[ctx.dir].feed(chunk, (b) => this.nbss(b, ctx));
    return this.verdict();
  }

  skippable(dir: 0 | 1): number {
    return this.framers[dir].skipping;
  }

  skipped(dir: 0 | 1, n: number): void {
    this.framers[dir].skipped(n);
  }

  gap(dir: 0 | 1): StreamVerdict {
    this.framers[dir].gap();
    return this.verdict();
  }

  private verdict(): StreamVerdict {
    if (this.encrypted || this.messages >= this.limit) return StreamVerdict.Done;
    return this.framers[0].broken && this.framers[1].broken ? StreamVerdict.Done : StreamVerdict.More;
  }

  private once(key: string): boolean {
    if (this.reported.has(key)) return false;
    this.reported.add(key);
    return true;
  }

  /** A session setup succeeded: what follows is mostly file traffic. */
  private sessionUp(): void {
    this.limit = Math.min(this.limit, this.messages + AFTER_SETUP);
  }

  /** One NetBIOS session service packet at the start of `b` (RFC 1002 §4.3). */
  private nbss(b: Buffer, ctx: DissectContext): number {
    if (b.length < 4) return 0;
    const type = b[0] as number;
    if (type === 0x00) {
      // Session message. Direct TCP has a 24-bit length (MS-SMB2 §2.1); NBT's is 17 bits with the
      // other 7 reserved as zero (RFC 1002 §4.3.1), so one read serves both — and 1 MiB READs frame right.
      const total = 4 + (((b[1] as number) << 16) | b.readUInt16BE(2));
      // Wait for the SMB header, then read the whole head only of messages worth reading.
      const head = Math.min(total, 4 + SMB2_HEADER);
      if (b.length < head) return 0;
      // Every session message carries SMB (0xfc–0xff "SMB"): anything else means the stream lost its framing.
      if (total >= 8 && ((b[4] as number) < 0xfc || b[5] !== 0x53 || b[6] !== 0x4d || b[7] !== 0x42)) return -1;
      const want = Math.min(total, wanted(b) ? MAX_READ : head);
      if (b.length < want) return 0;
      this.messages++;
      this.message(b.subarray(4, want), ctx);
      return total;
    }
    const total = 4 + ((((b[1] as number) & 1) << 16) | b.readUInt16BE(2));
    if (type === 0x81) {
      // Session request (port 139): the called (server) and calling (client) NetBIOS names.
      if (total > 4 + 2 * 256) return -1;
      if (b.length < total) return 0;
      const msg = b.subarray(0, total);
      const called = netbiosName(msg, 4);
      const next = called !== undefined ? nameEnd(msg, 4) : -1;
      const calling = next > 0 ? netbiosName(msg, next) : undefined;
      const ev = 'NetBIOS session request';
      if (called !== undefined) ctx.emit({ side: 'server', attribute: 'netbios.called_name', value: called, confidence: 0.8, evidence: ev });
      if (calling !== undefined) ctx.emit({ side: 'client', attribute: 'netbios.calling_name', value: calling, confidence: 0.8, evidence: ev });
      return total;
    }
    // Positive/negative response, retarget, keep-alive: nothing to read.
    if (type === 0x82 || type === 0x83 || type === 0x84 || type === 0x85) return total;
    return -1;
  }

  /** One SMB message (the first MAX_READ bytes of it). */
  private message(m: Buffer, ctx: DissectContext): void {
    if (m.length < 4) return;
    const proto = m[0];
    if (proto === 0xfe) this.smb2Chain(m, ctx);
    else if (proto === 0xff) this.smb1(m, ctx);
    else if (proto === 0xfd) {
      // SMB3 TRANSFORM_HEADER (MS-SMB2 §2.2.41): everything from here on is encrypted.
      this.encrypted = true;
      ctx.emit({ side: 'server', attribute: 'smb.encrypted', value: 'true', confidence: 0.9, evidence: 'SMB3 TRANSFORM_HEADER (encrypted session)' });
    }
    // 0xfc is a compression transform (§2.2.42): compressed payload, skipped.
  }

  // ---- SMB2/3 (MS-SMB2) ----------------------------------------------------------------------

  /** Related and unrelated compounds (§3.2.4.1.4): NextCommand chains headers within one message. */
  private smb2Chain(m: Buffer, ctx: DissectContext): void {
    let off = 0;
    for (let i = 0; i < MAX_CHAIN && off + SMB2_HEADER <= m.length; i++) {
      if (m.readUInt32BE(off) !== 0xfe534d42) return;
      const next = m.readUInt32LE(off + 20);
      const bounded = next >= SMB2_HEADER && next < m.length - off;
      this.smb2(m.subarray(off, bounded ? off + next : m.length), ctx);
      if (!bounded) return;
      off += next;
    }
  }

  /** One SMB2 header (§2.2.1) and its body; buffer offsets in the body count from the header. */
  private smb2(h: Buffer, ctx: DissectContext): void {
    if (h.length < SMB2_HEADER) return;
    const status = h.readUInt32LE(8);
    const command = h.readUInt16LE(12);
    const response = (h.readUInt32LE(16) & 1) === 1;
    // Even mid-session (no negotiate seen), who serves files to whom is worth knowing.
    if (response && this.once('smb2-server')) ctx.emit({ side: 'server', attribute: 'smb.service', value: 'SMB2/3 file server', confidence: 0.8, evidence: 'SMB2 response' });
    if (command === 0) {
      if (response) {
        if (status === 0) this.negotiateResponse(h, ctx);
      } else this.negotiateRequest(h, ctx);
    } else if (command === 1) this.sessionSetup(h, response, status, ctx);
    else if (command === 3 && !response) this.treeConnect(h, ctx);
  }

  /** NEGOTIATE request (§2.2.3). */
  private negotiateRequest(h: Buffer, ctx: DissectContext): void {
    const B = SMB2_HEADER;
    if (h.length < B + 36) return;
    const count = h.readUInt16LE(B + 2);
    const security = h.readUInt16LE(B + 4);
    const caps = h.readUInt32LE(B + 8);
    const list: string[] = [];
    let has311 = false;
    for (let i = 0; i < count && i < MAX_DIALECTS && B + 36 + i * 2 + 2 <= h.length; i++) {
      const d = h.readUInt16LE(B + 36 + i * 2);
      if (d === 0x0311) has311 = true;
      list.push(smb2Dialect(d));
    }
    const ev = 'SMB2 NEGOTIATE request';
    if (list.length > 0) ctx.emit({ side: 'client', attribute: 'smb.dialects', value: list.join(','), confidence: 0.9, evidence: ev });
    ctx.emit({ side: 'client', attribute: 'smb.signing', value: (security & 2) !== 0 ? 'required' : 'enabled', confidence: 0.8, evidence: ev });
    const id = guid(h, B + 12);
    if (id !== undefined) ctx.emit({ side: 'client', attribute: 'smb.client_guid', value: id, confidence: 0.9, evidence: ev });
    if (caps !== 0) ctx.emit({ side: 'client', attribute: 'smb.capabilities', value: capabilities(caps), confidence: 0.8, evidence: ev });
    // SMB 3.1.1 only: NegotiateContextOffset (from the header) and count replace ClientStartTime.
    if (has311) this.contexts(h, h.readUInt32LE(B + 28), h.readUInt16LE(B + 32), 'client', ctx);
  }

  /** NEGOTIATE response (§2.2.4). */
  private negotiateResponse(h: Buffer, ctx: DissectContext): void {
    const B = SMB2_HEADER;
    if (h.length < B + 64) return;
    const security = h.readUInt16LE(B + 2);
    const dialect = h.readUInt16LE(B + 4);
    const caps = h.readUInt32LE(B + 24);
    const ev = 'SMB2 NEGOTIATE response';
    ctx.emit({ side: 'server', attribute: 'smb.dialect', value: smb2Dialect(dialect), confidence: 0.95, evidence: ev });
    ctx.emit({ side: 'server', attribute: 'smb.signing', value: (security & 2) !== 0 ? 'required' : 'enabled', confidence: 0.9, evidence: ev });
    const id = guid(h, B + 8);
    if (id !== undefined) ctx.emit({ side: 'server', attribute: 'smb.server_guid', value: id, confidence: 0.9, evidence: ev });
    if (caps !== 0) ctx.emit({ side: 'server', attribute: 'smb.capabilities', value: capabilities(caps), confidence: 0.8, evidence: ev });
    if (dialect === 0x0311) this.contexts(h, h.readUInt32LE(B + 60), h.readUInt16LE(B + 6), 'server', ctx);
  }

  /** SMB 3.1.1 negotiate contexts (§2.2.3.1): 8-byte aligned {type, length, reserved, data}. */
  private contexts(h: Buffer, off: number, count: number, side: Side, ctx: DissectContext): void {
    const ev = `SMB 3.1.1 negotiate context (${side === 'client' ? 'request' : 'response'})`;
    let p = off;
    for (let n = 0; n < count && n < MAX_CONTEXTS && p + 8 <= h.length; n++) {
      const type = h.readUInt16LE(p);
      const len = h.readUInt16LE(p + 2);
      const d = p + 8;
      if (len > h.length - d) return;
      if (type === 2 || type === 3) {
        // ENCRYPTION: CipherCount, Ciphers[]. COMPRESSION: Count, Padding, Flags(4), Algorithms[].
        const first = type === 2 ? d + 2 : d + 8;
        const ids = len >= 2 ? Math.min(h.readUInt16LE(d), 16) : 0;
        const names = type === 2 ? CIPHERS : COMPRESSION;
        const list: string[] = [];
        for (let i = 0; i < ids && first + 2 * i + 2 <= d + len; i++) {
          const id = h.readUInt16LE(first + 2 * i);
          list.push(names[id] ?? `0x${id.toString(16)}`);
        }
        // The client offers a list, the server answers with its choice.
        const attribute = type === 2 ? (side === 'client' ? 'smb.ciphers' : 'smb.cipher') : 'smb.compression';
        if (list.length > 0) ctx.emit({ side, attribute, value: list.join(','), confidence: 0.9, evidence: ev });
      } else if (type === 5 && side === 'client' && len >= 2) {
        // NETNAME: the name the client uses for the server (a host name or address).
        const name = cleanText(h.toString('utf16le', d, d + (len & ~1)), 255);
        if (name !== '') ctx.emit({ side: 'server', attribute: 'smb.netname', value: name, confidence: 0.6, evidence: `${ev}: NETNAME` });
      }
      p = (d + len + 7) & ~7;
    }
  }

  /** SESSION_SETUP (§2.2.5, §2.2.6): the security buffer holds SPNEGO with NTLMSSP (or Kerberos, left alone). */
  private sessionSetup(h: Buffer, response: boolean, status: number, ctx: DissectContext): void {
    const B = SMB2_HEADER;
    const at = response ? B + 4 : B + 12;
    if (h.length < at + 4) return;
    const off = h.readUInt16LE(at);
    const len = h.readUInt16LE(at + 2);
    if (len > 0 && off >= B && off < h.length) {
      const ntlm = findNtlmssp(h.subarray(off, Math.min(h.length, off + len)));
      if (ntlm !== undefined) emitNtlmssp(ntlm, response ? 'server' : 'client', ctx, 'SMB2 SESSION_SETUP');
    }
    if (response && status === 0) {
      this.sessionUp();
      // SessionFlags: IS_GUEST 0x1, IS_NULL 0x2 — the server let an unauthenticated user in.
      const flags = h.readUInt16LE(B + 2);
      if ((flags & 1) !== 0 && this.once('guest')) ctx.emit({ side: 'server', attribute: 'smb.guest', value: 'true', confidence: 0.9, evidence: 'SMB2 SESSION_SETUP response: SESSION_FLAG_IS_GUEST' });
      if ((flags & 2) !== 0 && this.once('anon')) ctx.emit({ side: 'server', attribute: 'smb.anonymous', value: 'true', confidence: 0.9, evidence: 'SMB2 SESSION_SETUP response: SESSION_FLAG_IS_NULL' });
    }
  }

  /** TREE_CONNECT request (§2.2.9): the UNC path of the share. */
  private treeConnect(h: Buffer, ctx: DissectContext): void {
    const B = SMB2_HEADER;
    if (h.length < B + 8) return;
    // With EXTENSION_PRESENT (3.1.1) the path is relative to an extension block: rare, not read.
    if ((h.readUInt16LE(B + 2) & 4) !== 0) return;
    const off = h.readUInt16LE(B + 4);
    const len = h.readUInt16LE(B + 6);
    if (len > 0 && len <= 1024 && off >= B && off + len <= h.length) this.share(h.toString('utf16le', off, off + (len & ~1)), 'SMB2 TREE_CONNECT', ctx);
  }

  private share(path: string, via: string, ctx: DissectContext): void {
    const p = cleanText(path, 260);
    const share = p.split('\\').filter((x) => x !== '').pop() ?? p;
    if (p === '' || !this.once(`share:${p}`)) return;
    ctx.emit({ side: 'client', attribute: 'smb.share', value: p, confidence: 0.9, evidence: `${via} ${p}` });
    if (/^(ADMIN\$|[A-Z]\$)$/i.test(share)) ctx.emit({ side: 'client', attribute: 'smb.admin_share', value: p, confidence: 0.9, evidence: `${via} ${p}` });
  }

  // ---- SMB1 (MS-CIFS, MS-SMB) ----------------------------------------------------------------

  /**
   * SMB1 strings in a byte area: Unicode ones are 2-aligned from the SMB header (MS-CIFS §2.2.1.1),
   * except in the NEGOTIATE response, where they follow the challenge unpadded.
   */
  private strings(m: Buffer, start: number, end: number, unicode: boolean, count: number, align = true): string[] {
    const out: string[] = [];
    let p = start;
    if (unicode && align && p % 2 === 1) p++;
    for (let i = 0; i < count && p < end; i++) {
      let q = p;
      if (unicode) {
        while (q + 1 < end && !(m[q] === 0 && m[q + 1] === 0)) q += 2;
        out.push(cleanText(m.toString('utf16le', p, Math.min(q, end)), 128));
        p = q + 2;
      } else {
        while (q < end && m[q] !== 0) q++;
        out.push(cleanText(m.toString('latin1', p, q), 128));
        p = q + 1;
      }
    }
    return out;
  }

  /** One SMB1 message (§2.2.3.1 header, 32 bytes) and its AndX chain (§2.2.3.4). */
  private smb1(m: Buffer, ctx: DissectContext): void {
    if (m.length < 33) return;
    const status = m.readUInt32LE(5);
    const response = ((m[9] as number) & 0x80) !== 0;
    const unicode = (m.readUInt16LE(10) & 0x8000) !== 0;
    const mid = m.readUInt16LE(30);
    const side: Side = response ? 'server' : 'client';
    let command = m[4] as number;
    if (this.once(`smb1:${side}`)) ctx.emit({ side, attribute: 'smb.smb1', value: 'true', confidence: 0.9, evidence: `SMB1 ${response ? 'response' : 'request'} 0x${command.toString(16)}` });
    let wcAt = 32;
    for (let i = 0; i < 4; i++) {
      const wc = m[wcAt] as number;
      const words = wcAt + 1;
      const bcAt = words + wc * 2;
      if (bcAt + 2 > m.length) return;
      const bytes = bcAt + 2;
      const block: Smb1Block = { command, wc, words, bytes, end: Math.min(m.length, bytes + m.readUInt16LE(bcAt)) };
      this.smb1Command(m, block, response, status, unicode, mid, ctx);
      // AndX: AndXCommand, reserved, AndXOffset (from the header) of the next block's WordCount.
      if (!ANDX.has(command) || wc < 2) return;
      const next = m[words] as number;
      const nextAt = m.readUInt16LE(words + 2);
      if (next === 0xff || nextAt <= wcAt || nextAt >= m.length) return;
      command = next;
      wcAt = nextAt;
    }
  }

  private smb1Command(m: Buffer, k: Smb1Block, response: boolean, status: number, unicode: boolean, mid: number, ctx: DissectContext): void {
    const { command, wc, words, bytes, end } = k;
    if (command === 0x72) {
      if (response) this.smb1NegotiateResponse(m, k, unicode, ctx);
      else {
        // NEGOTIATE request (§2.2.4.52.1): 0x02-prefixed, NUL-terminated dialect strings.
        const list: string[] = [];
        let p = bytes;
        while (p < end && list.length < MAX_DIALECTS && m[p] === 0x02) {
          let q = p + 1;
          while (q < end && m[q] !== 0) q++;
          list.push(cleanText(m.toString('latin1', p + 1, q), 40));
          p = q + 1;
        }
        this.smb1Dialects = list;
        if (list.length > 0) ctx.emit({ side: 'client', attribute: 'smb.dialects', value: list.join(','), confidence: 0.9, evidence: 'SMB1 NEGOTIATE request' });
      }
    } else if (command === 0x73) this.smb1SessionSetup(m, k, response, status, unicode, ctx);
    else if (command === 0x75 && !response && wc >= 4) {
      // TREE_CONNECT_ANDX (§2.2.4.55.1): Password, then the path (Unicode per Flags2), then the service.
      const pwLen = m.readUInt16LE(words + 6);
      const [path] = this.strings(m, bytes + pwLen, end, unicode, 1);
      if (path !== undefined) this.share(path, 'SMB1 TREE_CONNECT_ANDX', ctx);
    } else if (command === 0x25) {
      // TRANSACTION (§2.2.4.33): SetupCount @26, Setup[] @28. PeekNamedPipe (0x23) on FID 0 is the MS17-010 check.
      if (!response && wc >= 16 && (m[words + 26] as number) >= 2 && m.readUInt16LE(words + 28) === 0x23 && m.readUInt16LE(words + 30) === 0) this.peekProbe = true;
      else if (response && this.peekProbe) {
        this.peekProbe = false;
        if (status === STATUS_INSUFF_SERVER_RESOURCES) {
          ctx.emit({ side: 'server', attribute: 'smb.ms17_010', value: 'vulnerable', confidence: 0.95, evidence: 'PeekNamedPipe on FID 0 answered STATUS_INSUFF_SERVER_RESOURCES (the MS17-010 check)' });
        }
      }
    } else if (command === 0x32) {
      // TRANSACTION2 SESSION_SETUP (subcommand 0x0e) is reserved and unused by Windows: it is the
      // DoublePulsar implant's ping. An implanted server answers with the multiplex id plus 0x10.
      if (!response && wc >= 15 && (m[words + 26] as number) >= 1 && m.readUInt16LE(words + 28) === 0x0e) {
        this.pulsarMid = mid;
        if (this.once('pulsar-ping')) ctx.emit({ side: 'client', attribute: 'smb.exploit', value: 'DoublePulsar ping (Trans2 SESSION_SETUP)', confidence: 0.8, evidence: `TRANS2 SESSION_SETUP request, MID ${mid}` });
      } else if (response && this.pulsarMid !== undefined) {
        if (mid === ((this.pulsarMid + 0x10) & 0xffff)) {
          ctx.emit({ side: 'server', attribute: 'smb.doublepulsar', value: 'installed', confidence: 0.9, evidence: `TRANS2 SESSION_SETUP answered with MID ${mid} (ping MID ${this.pulsarMid} + 0x10)` });
        }
        this.pulsarMid = undefined;
      }
    } else if (command === 0xa0 && !response && wc >= 19 && m.readUInt32LE(words + 7) === 0x10fe8) {
      // NT_TRANSACT with TotalDataCount 0x10fe8: the EternalBlue buffer overflow's signature size.
      ctx.emit({ side: 'client', attribute: 'smb.exploit', value: 'MS17-010 EternalBlue NT_TRANSACT', confidence: 0.9, evidence: 'NT_TRANSACT with total data count 0x10fe8' });
    }
  }

  /** NEGOTIATE response (MS-CIFS §2.2.4.52.2, MS-SMB §2.2.4.5.2). */
  private smb1NegotiateResponse(m: Buffer, k: Smb1Block, unicode: boolean, ctx: DissectContext): void {
    const { wc, words, bytes, end } = k;
    if (wc < 1) return;
    const ev = 'SMB1 NEGOTIATE response';
    const index = m.readUInt16LE(words);
    const chosen = this.smb1Dialects?.[index];
    if (chosen !== undefined) ctx.emit({ side: 'server', attribute: 'smb.dialect', value: chosen, confidence: 0.95, evidence: ev });
    if (wc !== 17) return;
    // NT LM 0.12: SecurityMode @2, Capabilities @19, ChallengeLength @33.
    const security = m[words + 2] as number;
    const caps = m.readUInt32LE(words + 19);
    const signing = (security & 0x08) !== 0 ? 'required' : (security & 0x04) !== 0 ? 'enabled' : 'disabled';
    ctx.emit({ side: 'server', attribute: 'smb.signing', value: signing, confidence: 0.9, evidence: ev });
    if ((security & 0x02) === 0) ctx.emit({ side: 'server', attribute: 'smb.plaintext_passwords', value: 'true', confidence: 0.9, evidence: `${ev}: SecurityMode without NEGOTIATE_ENCRYPT_PASSWORDS` });
    if ((caps & 0x80000000) !== 0) {
      // CAP_EXTENDED_SECURITY: ServerGUID then a security blob.
      const id = guid(m, bytes);
      if (id !== undefined && bytes + 16 <= end) ctx.emit({ side: 'server', attribute: 'smb.server_guid', value: id, confidence: 0.9, evidence: ev });
      return;
    }
    // Challenge, then the server's domain and NetBIOS name.
    const [domain, server] = this.strings(m, bytes + (m[words + 33] as number), end, unicode, 2, false);
    if (domain !== undefined && domain !== '') ctx.emit({ side: 'server', attribute: 'smb.primary_domain', value: domain, confidence: 0.9, evidence: ev });
    if (server !== undefined && server !== '') ctx.emit({ side: 'server', attribute: 'smb.server_name', value: server, confidence: 0.9, evidence: ev });
  }

  /** SESSION_SETUP_ANDX (MS-CIFS §2.2.4.53, MS-SMB §2.2.4.6): NTLMSSP, Native OS and LAN Manager. */
  private smb1SessionSetup(m: Buffer, k: Smb1Block, response: boolean, status: number, unicode: boolean, ctx: DissectContext): void {
    const { wc, words, bytes, end } = k;
    const side: Side = response ? 'server' : 'client';
    let strs: Array<string | undefined> = [];
    let domain: string | undefined;
    if (!response) {
      if (wc === 12) {
        // Extended security: SecurityBlobLength @14; blob, then Native OS and LAN Manager.
        const blobEnd = Math.min(end, bytes + m.readUInt16LE(words + 14));
        const ntlm = findNtlmssp(m.subarray(bytes, blobEnd));
        if (ntlm !== undefined) emitNtlmssp(ntlm, 'client', ctx, 'SMB1 SESSION_SETUP_ANDX');
        strs = this.strings(m, blobEnd, end, unicode, 2);
      } else if (wc === 13 || wc === 10) {
        // NT LM 0.12: OEM and Unicode password lengths @14, @16. LANMAN: one password length @14.
        // Then AccountName, PrimaryDomain, NativeOS, NativeLanMan. Passwords are skipped unread.
        const pw = wc === 13 ? m.readUInt16LE(words + 14) + m.readUInt16LE(words + 16) : m.readUInt16LE(words + 14);
        const [account, dom, os, lanman] = this.strings(m, bytes + pw, end, unicode, 4);
        if (account !== undefined && account !== '') ctx.emit({ side: 'client', attribute: 'smb.account', value: account, confidence: 0.9, evidence: 'SMB1 SESSION_SETUP_ANDX request' });
        domain = dom;
        strs = [os, lanman];
      }
    } else if (wc === 4) {
      // Extended security response: Action @4, SecurityBlobLength @6; blob, Native OS, LAN Manager.
      const blobEnd = Math.min(end, bytes + m.readUInt16LE(words + 6));
      const ntlm = findNtlmssp(m.subarray(bytes, blobEnd));
      if (ntlm !== undefined) emitNtlmssp(ntlm, 'server', ctx, 'SMB1 SESSION_SETUP_ANDX');
      strs = this.strings(m, blobEnd, end, unicode, 2);
    } else if (wc === 3) {
      const [os, lanman, dom] = this.strings(m, bytes, end, unicode, 3);
      strs = [os, lanman];
      domain = dom;
    }
    if (response && status === 0 && wc >= 3) {
      this.sessionUp();
      // Action bit 0: logged in as guest.
      if (((m[words + 4] as number) & 1) !== 0 && this.once('guest')) ctx.emit({ side: 'server', attribute: 'smb.guest', value: 'true', confidence: 0.9, evidence: 'SMB1 SESSION_SETUP_ANDX response: SMB_SETUP_GUEST' });
    }
    const [nativeOs, lanman] = strs;
    const ev = `SMB1 SESSION_SETUP_ANDX ${response ? 'response' : 'request'}`;
    if (nativeOs !== undefined && nativeOs !== '') {
      ctx.emit({ side, attribute: 'smb.native_os', value: nativeOs, confidence: 0.9, evidence: `${ev}: Native OS "${nativeOs}"` });
      const os = smb1Os(nativeOs, lanman ?? '');
      if (os !== undefined) ctx.emit({ side, attribute: 'os', value: os, confidence: /^Windows/i.test(os) ? 0.8 : 0.6, evidence: `${ev}: Native OS "${nativeOs}", LAN Manager "${lanman ?? ''}"` });
    }
    if (lanman !== undefined && lanman !== '') ctx.emit({ side, attribute: 'smb.native_lanman', value: lanman, confidence: 0.9, evidence: `${ev}: Native LAN Manager "${lanman}"` });
    if (domain !== undefined && domain !== '') ctx.emit({ side, attribute: 'smb.primary_domain', value: domain, confidence: 0.8, evidence: ev });
  }
}

export const smb: Dissector = {
  name: 'smb',
  transport: 'tcp',
  ports: [445, 139],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    if (p.length < 8) return false;
    if (p[0] === 0x81) {
      // NetBIOS session request: only on a NetBIOS port, and the called name must be RFC 1001 encoded.
      if (!portMatch || p.length < 72 || p[4] !== 32) return false;
      for (let i = 5; i < 37; i++) {
        const c = p[i] as number;
        if (c < 0x41 || c > 0x50) return false;
      }
      return true;
    }
    if (p[0] !== 0x00) return false;
    return (p[4] === 0xff || p[4] === 0xfe || p[4] === 0xfd) && p[5] === 0x53 && p[6] === 0x4d && p[7] === 0x42;
  },
  openStream(): StreamSession {
    return new SmbSession();
  },
};
