/**
 * TLS handshakes (RFC 5246, RFC 8446) on any port: ClientHello and ServerHello, their JA3/JA3S
 * (Salesforce) and JA4 (FoxIO) fingerprints, SNI and ALPN, and — for TLS 1.2 and older, where the
 * server's certificate still travels in the clear — the leaf certificate's subject, issuer and
 * validity. A device's TLS stack is as telling as its User-Agent: embedded stacks offer few, old
 * suites; a self-signed certificate names the device's factory hostname.
 *
 * Records are reassembled per direction (a hello can span records and segments), within a cap.
 * Once encryption starts (ChangeCipherSpec, or any TLS 1.3 record after ServerHello) the session is done.
 */
import { createHash } from 'node:crypto';
import { StreamVerdict, type DissectContext, type Dissector, type StreamSession } from './dissector.ts';
import { Framer } from './framer.ts';
import { readTlv, children, oid } from './ber.ts';
import { cleanText } from './redact.ts';

/** Handshake bytes held per direction (certificate chains run to a few kilobytes; 64 KiB is generous). */
const MAX_HANDSHAKE = 64 * 1024;

const VERSIONS: Record<number, string> = { 0x0300: 'SSL 3.0', 0x0301: 'TLS 1.0', 0x0302: 'TLS 1.1', 0x0303: 'TLS 1.2', 0x0304: 'TLS 1.3' };
const JA4_VERSIONS: Record<number, string> = { 0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3', 0x0002: 's2' };

/** RFC 8701: GREASE values are 0x?A?A with equal bytes. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

export interface ClientHello {
  legacyVersion: number;
  ciphers: number[];
  extensions: number[];
  groups: number[];
  pointFormats: number[];
  sigAlgs: number[];
  versions: number[];
  sni?: string;
  alpn: string[];
}

export interface ServerHello {
  legacyVersion: number;
  cipher: number;
  extensions: number[];
  selectedVersion?: number;
}

function u16list(b: Buffer, start: number, end: number): number[] {
  const out: number[] = [];
  for (let p = start; p + 1 < end && out.length < 512; p += 2) out.push(b.readUInt16BE(p));
  return out;
}

/** Parses a ClientHello body (after the 4-byte handshake header). */
export function parseClientHello(b: Buffer): ClientHello | undefined {
  if (b.length < 38) return undefined;
  const ch: ClientHello = { legacyVersion: b.readUInt16BE(0), ciphers: [], extensions: [], groups: [], pointFormats: [], sigAlgs: [], versions: [], alpn: [] };
  let p = 34;
  const sid = b[p] as number;
  p += 1 + sid;
  if (p + 2 > b.length) return undefined;
  const cl = b.readUInt16BE(p);
  if (p + 2 + cl > b.length) return undefined;
  ch.ciphers = u16list(b, p + 2, p + 2 + cl);
  p += 2 + cl;
  if (p + 1 > b.length) return undefined;
  p += 1 + (b[p] as number);
  if (p + 2 > b.length) return ch; // no extensions (SSL 3.0 style)
  const extEnd = Math.min(b.length, p + 2 + b.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd && ch.extensions.length < 128) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const d = p + 4;
    if (d + len > extEnd) break;
    ch.extensions.push(type);
    if (type === 0 && len >= 5) {
      const nlen = b.readUInt16BE(d + 3);
      if (b[d + 2] === 0 && d + 5 + nlen <= d + len) ch.sni = cleanText(b.toString('latin1', d + 5, d + 5 + nlen), 255);
    } else if (type === 10 && len >= 2) ch.groups = u16list(b, d + 2, Math.min(d + len, d + 2 + b.readUInt16BE(d)));
    else if (type === 11 && len >= 1) ch.pointFormats = [...b.subarray(d + 1, Math.min(d + len, d + 1 + (b[d] as number)))];
    else if (type === 13 && len >= 2) ch.sigAlgs = u16list(b, d + 2, Math.min(d + len, d + 2 + b.readUInt16BE(d)));
    else if (type === 43 && len >= 1) ch.versions = u16list(b, d + 1, Math.min(d + len, d + 1 + (b[d] as number)));
    else if (type === 16 && len >= 2) {
      let q = d + 2;
      const end = Math.min(d + len, d + 2 + b.readUInt16BE(d));
      while (q < end && ch.alpn.length < 16) {
        const l = b[q] as number;
        if (q + 1 + l > end) break;
        ch.alpn.push(b.toString('latin1', q + 1, q + 1 + l));
        q += 1 + l;
      }
    }
    p = d + len;
  }
  return ch;
}

export function parseServerHello(b: Buffer): ServerHello | undefined {
  if (b.length < 38) return undefined;
  let p = 34;
  p += 1 + (b[p] as number);
  if (p + 3 > b.length) return undefined;
  const sh: ServerHello = { legacyVersion: b.readUInt16BE(0), cipher: b.readUInt16BE(p), extensions: [] };
  p += 3;
  if (p + 2 > b.length) return sh;
  const extEnd = Math.min(b.length, p + 2 + b.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd && sh.extensions.length < 64) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    if (p + 4 + len > extEnd) break;
    sh.extensions.push(type);
    if (type === 43 && len === 2) sh.selectedVersion = b.readUInt16BE(p + 4);
    p += 4 + len;
  }
  return sh;
}

export function ja3String(ch: ClientHello): string {
  const f = (xs: number[]) => xs.filter((x) => !isGrease(x)).join('-');
  return `${ch.legacyVersion},${f(ch.ciphers)},${f(ch.extensions)},${f(ch.groups)},${ch.pointFormats.join('-')}`;
}

export function ja3sString(sh: ServerHello): string {
  return `${sh.legacyVersion},${sh.cipher},${sh.extensions.join('-')}`;
}

const hex4 = (v: number) => v.toString(16).padStart(4, '0');
const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

/** JA4 (FoxIO, "ja4" over TCP): t<ver><d|i><ciphers><exts><alpn>_<sha(ciphers)>_<sha(exts_sigalgs)>. */
export function ja4(ch: ClientHello): string {
  const ciphers = ch.ciphers.filter((x) => !isGrease(x));
  const exts = ch.extensions.filter((x) => !isGrease(x));
  const versions = ch.versions.filter((x) => !isGrease(x));
  const top = versions.length > 0 ? Math.max(...versions) : ch.legacyVersion;
  const ver = JA4_VERSIONS[top] ?? '00';
  const sni = ch.sni !== undefined ? 'd' : 'i';
  const two = (n: number) => String(Math.min(n, 99)).padStart(2, '0');
  const first = ch.alpn[0] ?? '';
  let alpn = '00';
  if (first.length > 0) {
    const a = first[0] as string;
    const z = first[first.length - 1] as string;
    alpn = /^[A-Za-z0-9]$/.test(a) && /^[A-Za-z0-9]$/.test(z) ? `${a}${z}` : `${Buffer.from(a, 'latin1').toString('hex')[0]}${Buffer.from(z, 'latin1').toString('hex').slice(-1)}`;
  }
  const a = `t${ver}${sni}${two(ciphers.length)}${two(exts.length)}${alpn}`;
  const b = ciphers.length === 0 ? '000000000000' : sha12([...ciphers].sort((x, y) => x - y).map(hex4).join(','));
  const sortedExts = exts.filter((x) => x !== 0 && x !== 16).sort((x, y) => x - y).map(hex4).join(',');
  const sigs = ch.sigAlgs.filter((x) => !isGrease(x)).map(hex4).join(',');
  const c = exts.length === 0 ? '000000000000' : sha12(sigs === '' ? sortedExts : `${sortedExts}_${sigs}`);
  return `${a}_${b}_${c}`;
}

/**
 * A client stack sends the same hello shape on every connection: hash it once. The key holds
 * everything JA3 and JA4 read (the JA3 string, SNI presence, first ALPN, versions, signature algorithms).
 */
const fpCache = new Map<string, { ja3: string; ja4: string }>();

function fingerprints(ch: ClientHello, ja3s: string): { ja3: string; ja4: string } {
  const key = `${ja3s}|${ch.sni !== undefined ? 1 : 0}|${ch.alpn[0] ?? ''}|${ch.alpn.length}|${ch.versions.join('-')}|${ch.sigAlgs.join('-')}`;
  let fp = fpCache.get(key);
  if (fp === undefined) {
    fp = { ja3: createHash('md5').update(ja3s).digest('hex'), ja4: ja4(ch) };
    if (fpCache.size >= 10_000) fpCache.clear();
    fpCache.set(key, fp);
  }
  return fp;
}

// ---- certificates (X.509 DER, the parts that identify) ---------------------------------------

const NAME_ATTRS: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.5': 'serialNumber' };

function nameText(b: Buffer, t: ReturnType<typeof readTlv>): string {
  if (t === undefined) return '';
  const parts: string[] = [];
  for (const set of children(b, t, 32)) {
    for (const atv of children(b, set, 4)) {
      const [o, v] = children(b, atv, 2);
      if (o === undefined || v === undefined) continue;
      const key = NAME_ATTRS[oid(b, o) ?? ''];
      if (key === undefined) continue;
      const enc = v.tag === 0x1e ? 'utf16le' : v.tag === 0x0c ? 'utf8' : 'latin1';
      const raw = enc === 'utf16le' ? Buffer.from(b.subarray(v.start, v.end)).swap16().toString('utf16le') : b.toString(enc, v.start, v.end);
      parts.push(`${key}=${cleanText(raw, 128)}`);
    }
  }
  return parts.join(', ');
}

function timeText(b: Buffer, t: ReturnType<typeof readTlv>): string | undefined {
  if (t === undefined) return undefined;
  const s = b.toString('latin1', t.start, t.end);
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})/.exec(s) : /^(\d{4})(\d{2})(\d{2})/.exec(s);
  if (m === null) return undefined;
  const year = t.tag === 0x17 ? (Number(m[1]) < 50 ? 2000 : 1900) + Number(m[1]) : Number(m[1]);
  return `${year}-${m[2]}-${m[3]}`;
}

export interface CertInfo {
  subject: string;
  issuer: string;
  notAfter?: string;
}

export function parseCertificate(der: Buffer): CertInfo | undefined {
  const cert = readTlv(der, 0);
  if (cert === undefined || cert.tag !== 0x30) return undefined;
  const tbs = readTlv(der, cert.start, cert.end);
  if (tbs === undefined || tbs.tag !== 0x30) return undefined;
  const f = children(der, tbs, 10);
  // An explicit [0] version shifts the fields by one.
  const i = f[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = nameText(der, f[i + 2]);
  const validity = f[i + 3];
  const subject = nameText(der, f[i + 4]);
  const times = validity !== undefined ? children(der, validity, 2) : [];
  const info: CertInfo = { subject, issuer };
  const na = timeText(der, times[1]);
  if (na !== undefined) info.notAfter = na;
  return info;
}

// ---- the session ---------------------------------------------------------------------------

class TlsSession implements StreamSession {
  private readonly framers: [Framer, Framer] = [new Framer(18432 + 5), new Framer(18432 + 5)];
  /** Handshake bytes not yet parsed, per direction. */
  private readonly hs: [Buffer[], Buffer[]] = [[], []];
  private readonly hsSize: [number, number] = [0, 0];
  private readonly encrypted: [boolean, boolean] = [false, false];
  private tls13 = false;

  get bufferedBytes(): number {
    return this.framers[0].buffered + this.framers[1].buffered + this.hsSize[0] + this.hsSize[1];
  }

  data(chunk: Buffer, ctx: DissectContext): StreamVerdict {
    const dir = ctx.dir;
    if (!this.encrypted[dir]) this.framers[dir].feed(chunk, (b) => this.record(b, ctx));
    if (this.encrypted[0] && this.encrypted[1]) return StreamVerdict.Done;
    if (this.framers[0].broken && this.framers[1].broken) return StreamVerdict.Done;
    return StreamVerdict.More;
  }

  skippable(dir: 0 | 1): number {
    // Once a direction is encrypted nothing in it is read again.
    return this.encrypted[dir] ? Infinity : this.framers[dir].skipping;
  }

  skipped(dir: 0 | 1, n: number): void {
    if (!this.encrypted[dir]) this.framers[dir].skipped(n);
  }

  gap(dir: 0 | 1): StreamVerdict {
    this.framers[dir].gap();
    this.encrypted[dir] = true;
    return this.encrypted[0] && this.encrypted[1] ? StreamVerdict.Done : StreamVerdict.More;
  }

  private record(b: Buffer, ctx: DissectContext): number {
    if (b.length < 5) return 0;
    const type = b[0] as number;
    const len = b.readUInt16BE(3);
    if (type < 0x14 || type > 0x18 || b[1] !== 3 || len > 18432) return -1;
    if (b.length < 5 + len) return type === 0x16 ? 0 : 5 + len; // wait for handshakes; skip the rest unbuffered
    const dir = ctx.dir;
    if (type === 0x14) {
      // ChangeCipherSpec: from here this direction is encrypted (in TLS 1.3 it is only a compatibility record).
      if (!this.tls13) this.encrypted[dir] = true;
    } else if (type === 0x17) {
      this.encrypted[dir] = true;
    } else if (type === 0x16 && !this.encrypted[dir]) {
      this.hs[dir].push(Buffer.from(b.subarray(5, 5 + len)));
      this.hsSize[dir] += len;
      if (this.hsSize[dir] > MAX_HANDSHAKE) {
        this.hs[dir] = [];
        this.hsSize[dir] = 0;
        this.encrypted[dir] = true;
      } else this.handshakes(ctx);
    }
    return 5 + len;
  }

  private handshakes(ctx: DissectContext): void {
    const dir = ctx.dir;
    let buf = this.hs[dir].length === 1 ? (this.hs[dir][0] as Buffer) : Buffer.concat(this.hs[dir]);
    let p = 0;
    while (p + 4 <= buf.length) {
      const type = buf[p] as number;
      const len = ((buf[p + 1] as number) << 16) | buf.readUInt16BE(p + 2);
      if (p + 4 + len > buf.length) break;
      this.handshake(type, buf.subarray(p + 4, p + 4 + len), ctx);
      p += 4 + len;
      if (this.encrypted[dir]) break;
    }
    buf = buf.subarray(p);
    this.hs[dir] = buf.length > 0 ? [Buffer.from(buf)] : [];
    this.hsSize[dir] = buf.length;
  }

  private handshake(type: number, body: Buffer, ctx: DissectContext): void {
    if (type === 1 && ctx.dir === 0) {
      const ch = parseClientHello(body);
      if (ch === undefined) return;
      if (ch.sni !== undefined && ch.sni !== '') ctx.emit({ side: 'client', attribute: 'tls.sni', value: ch.sni, confidence: 0.9 });
      if (ch.alpn.length > 0) ctx.emit({ side: 'client', attribute: 'tls.alpn', value: cleanText(ch.alpn.join(','), 100), confidence: 0.8 });
      const versions = ch.versions.filter((v) => !isGrease(v));
      const top = versions.length > 0 ? Math.max(...versions) : ch.legacyVersion;
      ctx.emit({ side: 'client', attribute: 'tls.client_version', value: VERSIONS[top] ?? `0x${top.toString(16)}`, confidence: 0.9 });
      const s = ja3String(ch);
      const fp = fingerprints(ch, s);
      ctx.emit({ side: 'client', attribute: 'tls.ja3', value: fp.ja3, confidence: 0.85, evidence: s });
      ctx.emit({ side: 'client', attribute: 'tls.ja4', value: fp.ja4, confidence: 0.85, ...(ch.sni !== undefined ? { evidence: `SNI ${ch.sni}` } : {}) });
    } else if (type === 2 && ctx.dir === 1) {
      const sh = parseServerHello(body);
      if (sh === undefined) return;
      const v = sh.selectedVersion ?? sh.legacyVersion;
      this.tls13 = v === 0x0304;
      const name = VERSIONS[v] ?? `0x${v.toString(16)}`;
      ctx.emit({ side: 'server', attribute: 'tls.version', value: name, confidence: 0.95 });
      if (v < 0x0303) ctx.emit({ side: 'server', attribute: 'tls.legacy_version', value: name, confidence: 0.95, evidence: `ServerHello chose ${name}` });
      ctx.emit({ side: 'server', attribute: 'tls.cipher', value: `0x${sh.cipher.toString(16).padStart(4, '0')}`, confidence: 0.9 });
      const s = ja3sString(sh);
      ctx.emit({ side: 'server', attribute: 'tls.ja3s', value: createHash('md5').update(s).digest('hex'), confidence: 0.8, evidence: s });
      // Everything after a TLS 1.3 ServerHello is encrypted.
      if (this.tls13) this.encrypted[1] = true;
    } else if (type === 11 && ctx.dir === 1 && !this.tls13) {
      if (body.length < 6) return;
      const first = ((body[3] as number) << 16) | body.readUInt16BE(4);
      if (6 + first > body.length) return;
      const info = parseCertificate(body.subarray(6, 6 + first));
      if (info === undefined) return;
      if (info.subject !== '') ctx.emit({ side: 'server', attribute: 'tls.cert_subject', value: info.subject, confidence: 0.9 });
      if (info.issuer !== '') ctx.emit({ side: 'server', attribute: 'tls.cert_issuer', value: info.issuer, confidence: 0.9 });
      if (info.notAfter !== undefined) ctx.emit({ side: 'server', attribute: 'tls.cert_not_after', value: info.notAfter, confidence: 0.9 });
      if (info.subject !== '' && info.subject === info.issuer) ctx.emit({ side: 'server', attribute: 'tls.cert_self_signed', value: 'true', confidence: 0.9, evidence: info.subject });
    }
  }
}

export const tls: Dissector = {
  name: 'tls',
  transport: 'tcp',
  ports: [443, 8443, 636, 993, 995, 465, 5061, 2762, 3389],
  probe(p: Buffer, dir: 0 | 1): boolean {
    // A handshake record (22), version 3.x, a sane length, and the hello its direction sends first.
    if (p.length < 6 || p[0] !== 0x16 || p[1] !== 3 || (p[2] as number) > 4) return false;
    const len = p.readUInt16BE(3);
    return len >= 4 && len <= 18432 && p[5] === (dir === 0 ? 1 : 2);
  },
  openStream(): StreamSession {
    return new TlsSession();
  },
};

export { TlsSession };
