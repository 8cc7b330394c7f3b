/**
 * SMB1 (MS-CIFS/MS-SMB) and SMB2/3 (MS-SMB2) over the NetBIOS session service (RFC 1002) or direct
 * TCP 445.
 *
 * Identity: dialects offered and chosen (SMB1 still spoken is a finding in itself), signing, SMB1's
 * Native OS and LAN Manager strings, the NTLMSSP inside session setups (see ntlmssp.ts), the
 * NetBIOS names of port-139 sessions, and the shares a client connects to (ADMIN$ and C$ are
 * administrative: lateral movement looks like them). The MS17-010 probe — a PeekNamedPipe on FID 0
 * answered STATUS_INSUFF_SERVER_RESOURCES — marks the server as vulnerable to EternalBlue.
 *
 * File contents are skipped by length: only the first bytes of each message are looked at.
 */
import { StreamVerdict, type DissectContext, type Dissector, type Side, type StreamSession } from './dissector.ts';
import { Framer } from './framer.ts';
import { emitNtlmssp, findNtlmssp } from './ntlmssp.ts';
import { cleanText } from './redact.ts';

/** Messages are read from their first bytes; session setups are small. Anything bigger is skipped. */
const MAX_READ = 16 * 1024;
/** After this many messages both ends are known; the rest is file traffic. */
const MAX_MESSAGES = 64;

const SMB2_DIALECTS: Record<number, string> = { 0x0202: '2.0.2', 0x0210: '2.1', 0x0222: '2.2.2', 0x0224: '2.2.4', 0x02ff: '2.x', 0x0300: '3.0', 0x0302: '3.0.2', 0x0311: '3.1.1' };
const STATUS_INSUFF_SERVER_RESOURCES = 0xc0000205;

/** A NetBIOS name (RFC 1001 §14.1 first-level encoding) → "NAME<xx>". */
export function netbiosName(b: Buffer, off: number): string | undefined {
  if (b[off] !== 32 || off + 33 > b.length) return undefined;
  let s = '';
  for (let i = 0; i < 32; i += 2) {
    const hi = (b[off + 1 + i] as number) - 0x41;
    const lo = (b[off + 2 + i] as number) - 0x41;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) return undefined;
    s += String.fromCharCode((hi << 4) | lo);
  }
  const suffix = s.charCodeAt(15);
  const name = s.slice(0, 15).trim();
  return `${name}<${suffix.toString(16).padStart(2, '0')}>`;
}

class SmbSession implements StreamSession {
  private readonly framers: [Framer, Framer] = [new Framer(MAX_READ), new Framer(MAX_READ)];
  private messages = 0;
  /** A PeekNamedPipe(FID 0) request is outstanding: its answer tells if the server is MS17-010 vulnerable. */
  private peekProbe = false;
  private reported = new Set<string>();

  get bufferedBytes(): number {
    return this.framers[0].buffered + this.framers[1].buffered;
  }

  data(chunk: Buffer, ctx: DissectContext): StreamVerdict {
    this.framers[ctx.dir].feed(chunk, (b) => this.nbss(b, ctx));
    if (this.messages >= MAX_MESSAGES) return StreamVerdict.Done;
    return this.framers[0].broken && this.framers[1].broken ? StreamVerdict.Done : StreamVerdict.More;
  }

  skippable(dir: 0 | 1): number {
    return this.framers[dir].skipping;
  }

  skipped(dir: 0 | 1, n: number): void {
    this.framers[dir].skipped(n);
  }

  gap(dir: 0 | 1): StreamVerdict {
    this.framers[dir].gap();
    return this.framers[0].broken && this.framers[1].broken ? StreamVerdict.Done : StreamVerdict.More;
  }

  private once(key: string): boolean {
    if (this.reported.has(key)) return false;
    this.reported.add(key);
    return true;
  }

  /** One NetBIOS session message at the start of `b`. */
  private nbss(b: Buffer, ctx: DissectContext): number {
    if (b.length < 4) return 0;
    const type = b[0] as number;
    // 17-bit length: the low bit of the flags byte extends it (RFC 1002 §4.3.1).
    const len = (((b[1] as number) & 1) << 16) | b.readUInt16BE(2);
    const total = 4 + len;
    if (type === 0x85) return 4; // keep-alive
    if (type === 0x81) {
      // Session request (port 139): called and calling NetBIOS names.
      if (b.length < total) return total > MAX_READ ? -1 : 0;
      const called = netbiosName(b, 4);
      const calling = called !== undefined ? netbiosName(b, 4 + 34) : undefined;
      if (called !== undefined) ctx.emit({ side: 'server', attribute: 'netbios.called_name', value: called, confidence: 0.8 });
      if (calling !== undefined) ctx.emit({ side: 'client', attribute: 'netbios.calling_name', value: calling, confidence: 0.8 });
      return total;
    }
    if (type === 0x82 || type === 0x83 || type === 0x84) return total;
    if (type !== 0x00) return -1;
    // Read only the head of each message; the rest of a READ/WRITE is skipped, not buffered.
    const want = Math.min(total, MAX_READ);
    if (b.length < want) return 0;
    this.messages++;
    const msg = b.subarray(4, want);
    if (msg.length >= 4 && msg[1] === 0x53 && msg[2] === 0x4d && msg[3] === 0x42) {
      if (msg[0] === 0xfe) this.smb2(msg, ctx);
      else if (msg[0] === 0xff) this.smb1(msg, ctx);
      else if (msg[0] === 0xfd) this.messages = MAX_MESSAGES; // encrypted (SMB3 transform): nothing more to see
    }
    return total;
  }

  private dialects(side: Side, list: string[], ctx: DissectContext, evidence: string): void {
    if (list.length > 0) ctx.emit({ side, attribute: 'smb.dialects', value: list.join(','), confidence: 0.9, evidence });
  }

  private smb2(m: Buffer, ctx: DissectContext): void {
    if (m.length < 64) return;
    const command = m.readUInt16LE(12);
    const response = (m.readUInt32LE(16) & 1) === 1;
    const status = m.readUInt32LE(8);
    const body = 64;
    const side: Side = response ? 'server' : 'client';
    // Even mid-session (no negotiate seen), who serves files to whom is worth knowing.
    if (response && this.once('smb2-server')) ctx.emit({ side: 'server', attribute: 'smb.service', value: 'SMB2/3 file server', confidence: 0.8 });
    if (command === 0 && !response && m.length >= body + 36) {
      const count = m.readUInt16LE(body + 2);
      const list: string[] = [];
      for (let i = 0; i < count && i < 32 && body + 36 + i * 2 + 2 <= m.length; i++) {
        const d = m.readUInt16LE(body + 36 + i * 2);
        list.push(SMB2_DIALECTS[d] ?? `0x${d.toString(16)}`);
      }
      this.dialects('client', list, ctx, 'SMB2 NEGOTIATE request');
    } else if (command === 0 && response && m.length >= body + 64 && status === 0) {
      const d = m.readUInt16LE(body + 4);
      const sec = m.readUInt16LE(body + 2);
      ctx.emit({ side: 'server', attribute: 'smb.dialect', value: SMB2_DIALECTS[d] ?? `0x${d.toString(16)}`, confidence: 0.95, evidence: 'SMB2 NEGOTIATE response' });
      ctx.emit({ side: 'server', attribute: 'smb.signing', value: (sec & 2) !== 0 ? 'required' : 'not required', confidence: 0.9 });
    } else if (command === 1) {
      // SESSION_SETUP: the security buffer holds SPNEGO with NTLMSSP (or Kerberos, which we leave alone).
      const at = response ? body + 4 : body + 12;
      if (m.length >= at + 4) {
        const off = m.readUInt16LE(at);
        const len = m.readUInt16LE(at + 2);
        if (off + len <= m.length && len > 0) {
          const ntlm = findNtlmssp(m.subarray(off, off + len));
          if (ntlm !== undefined) emitNtlmssp(ntlm, side, ctx, 'SMB2 SESSION_SETUP');
        }
      }
    } else if (command === 3 && !response && m.length >= body + 8) {
      const off = m.readUInt16LE(body + 4);
      const len = m.readUInt16LE(body + 6);
      if (off + len <= m.length && len > 0 && len < 1024) this.share(m.toString('utf16le', off, off + (len & ~1)), ctx);
    }
  }

  private share(path: string, ctx: DissectContext): void {
    const p = cleanText(path, 260);
    const share = p.split('\\').filter((x) => x !== '').pop() ?? p;
    if (p !== '' && this.once(`share:${p}`)) {
      ctx.emit({ side: 'client', attribute: 'smb.share', value: p, confidence: 0.9 });
      if (/^(ADMIN\$|[A-Z]\$)$/i.test(share)) ctx.emit({ side: 'client', attribute: 'smb.admin_share', value: p, confidence: 0.9, evidence: `TREE_CONNECT ${p}` });
    }
  }

  /** SMB1 strings in the byte area: Unicode strings are 2-aligned from the SMB header (MS-CIFS §2.2.1.1). */
  private strings(m: Buffer, start: number, end: number, unicode: boolean, count: number): string[] {
    const out: string[] = [];
    let p = start;
    if (unicode && p % 2 === 1) p++;
    for (let i = 0; i < count && p < end; i++) {
      if (unicode) {
        let q = p;
        while (q + 1 < end && !(m[q] === 0 && m[q + 1] === 0)) q += 2;
        out.push(cleanText(m.toString('utf16le', p, q), 128));
        p = q + 2;
      } else {
        let q = p;
        while (q < end && m[q] !== 0) q++;
        out.push(cleanText(m.toString('latin1', p, q), 128));
        p = q + 1;
      }
    }
    return out;
  }

  private smb1(m: Buffer, ctx: DissectContext): void {
    if (m.length < 35) return;
    const command = m[4] as number;
    const status = m.readUInt32LE(5);
    const response = ((m[9] as number) & 0x80) !== 0;
    const unicode = (m.readUInt16LE(10) & 0x8000) !== 0;
    const wc = m[32] as number;
    const words = 33;
    const bcAt = words + wc * 2;
    if (bcAt + 2 > m.length) return;
    const bc = m.readUInt16LE(bcAt);
    const bytes = bcAt + 2;
    const end = Math.min(m.length, bytes + bc);
    const side: Side = response ? 'server' : 'client';
    if (this.once(`smb1:${side}`)) ctx.emit({ side, attribute: 'smb.smb1', value: 'true', confidence: 0.9, evidence: `SMB1 ${response ? 'response' : 'request'} 0x${command.toString(16)}` });
    if (command === 0x72 && !response) {
      // NEGOTIATE: 0x02-prefixed, NUL-terminated dialect strings.
      const list: string[] = [];
      let p = bytes;
      while (p < end && list.length < 32) {
        if (m[p] !== 0x02) break;
        let q = p + 1;
        while (q < end && m[q] !== 0) q++;
        list.push(cleanText(m.toString('latin1', p + 1, q), 40));
        p = q + 1;
      }
      this.dialects('client', list, ctx, 'SMB1 NEGOTIATE request');
    } else if (command === 0x73) {
      let nativeOs: string | undefined;
      let lanman: string | undefined;
      if (!response && (wc === 12 || wc === 13)) {
        // Extended security (12 words): blob length in word 7; otherwise two password lengths, then account and domain.
        if (wc === 12) {
          const blobLen = m.readUInt16LE(words + 14);
          const blobEnd = Math.min(end, bytes + blobLen);
          const ntlm = findNtlmssp(m.subarray(bytes, blobEnd));
          if (ntlm !== undefined) emitNtlmssp(ntlm, 'client', ctx, 'SMB1 SESSION_SETUP_ANDX');
          [nativeOs, lanman] = this.strings(m, blobEnd, end, unicode, 2);
        } else {
          const pw = m.readUInt16LE(words + 14) + m.readUInt16LE(words + 16);
          const s = this.strings(m, bytes + pw, end, unicode, 4);
          const account = s[0];
          if (account !== undefined && account !== '') ctx.emit({ side: 'client', attribute: 'smb.account', value: account, confidence: 0.9 });
          nativeOs = s[2];
          lanman = s[3];
        }
      } else if (response && (wc === 4 || wc === 3)) {
        if (wc === 4) {
          const blobLen = m.readUInt16LE(words + 6);
          const blobEnd = Math.min(end, bytes + blobLen);
          const ntlm = findNtlmssp(m.subarray(bytes, blobEnd));
          if (ntlm !== undefined) emitNtlmssp(ntlm, 'server', ctx, 'SMB1 SESSION_SETUP_ANDX');
          [nativeOs, lanman] = this.strings(m, blobEnd, end, unicode, 2);
        } else [nativeOs, lanman] = this.strings(m, bytes, end, unicode, 2);
      }
      if (nativeOs !== undefined && nativeOs !== '') {
        ctx.emit({ side, attribute: 'smb.native_os', value: nativeOs, confidence: 0.9 });
        const os = smb1Os(nativeOs);
        if (os !== undefined) ctx.emit({ side, attribute: 'os', value: os, confidence: 0.8, evidence: `SMB1 Native OS "${nativeOs}"` });
      }
      if (lanman !== undefined && lanman !== '') ctx.emit({ side, attribute: 'smb.native_lanman', value: lanman, confidence: 0.9 });
    } else if (command === 0x75 && !response && wc >= 4) {
      const pwLen = m.readUInt16LE(words + 6);
      const [path] = this.strings(m, bytes + pwLen, end, unicode, 1);
      if (path !== undefined) this.share(path, ctx);
    } else if (command === 0x25) {
      // TRANSACTION: PeekNamedPipe (setup 0x23) on FID 0 is the MS17-010 check.
      if (!response && wc >= 16 && (m[words + 26] as number) >= 2 && m.readUInt16LE(words + 28) === 0x23 && m.readUInt16LE(words + 30) === 0) this.peekProbe = true;
      else if (response && this.peekProbe) {
        this.peekProbe = false;
        if (status === STATUS_INSUFF_SERVER_RESOURCES) {
          ctx.emit({ side: 'server', attribute: 'smb.ms17_010', value: 'vulnerable', confidence: 0.95, evidence: 'PeekNamedPipe on FID 0 answered STATUS_INSUFF_SERVER_RESOURCES (the MS17-010 check)' });
        }
      }
    } else if (command === 0xa0 && !response && wc >= 19 && m.readUInt32LE(words + 7) === 0x10fe8) {
      ctx.emit({ side: 'client', attribute: 'smb.exploit', value: 'MS17-010 EternalBlue NT_TRANSACT', confidence: 0.9, evidence: 'NT_TRANSACT with total data count 0x10fe8' });
    }
  }
}

/** SMB1 Native OS strings to a Windows name. */
function smb1Os(native: string): string | undefined {
  if (/^Windows 5\.1/i.test(native)) return 'Windows XP (5.1)';
  if (/^Windows 5\.0/i.test(native)) return 'Windows 2000 (5.0)';
  if (/^Windows 4\.0/i.test(native)) return 'Windows 95/98/NT 4.0';
  if (/^Windows (Server )?\d/i.test(native)) return native.replace(/\s+/g, ' ');
  if (/^Unix$/i.test(native)) return undefined;
  return undefined;
}

export const smb: Dissector = {
  name: 'smb',
  transport: 'tcp',
  ports: [445, 139],
  probe(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
    if (p.length < 8) return false;
    if (p[0] === 0x81 && portMatch) return p.length >= 72 && p[4] === 32;
    if (p[0] !== 0x00) return false;
    return (p[4] === 0xff || p[4] === 0xfe || p[4] === 0xfd) && p[5] === 0x53 && p[6] === 0x4d && p[7] === 0x42;
  },
  openStream(): StreamSession {
    return new SmbSession();
  },
};
