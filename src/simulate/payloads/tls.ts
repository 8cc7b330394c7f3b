/**
 * TLS handshakes for the simulator (RFC 5246, RFC 8446): ClientHellos shaped like each client
 * stack's (cipher suites, extensions, SNI, ALPN — what JA3/JA4 read), ServerHellos, and for TLS 1.2
 * the server's certificate in the clear. Certificates are real DER X.509 signed with Ed25519 (RFC
 * 8410), whose signatures are deterministic, so the same seed still gives the same capture.
 */
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { Rng } from '../rng.ts';

export type ClientStack = 'schannel-legacy' | 'schannel-modern' | 'openssl' | 'java' | 'embedded' | 'apple';

const CIPHERS: Record<ClientStack, number[]> = {
  // Windows 7 / Server 2008 R2 SChannel with the 2016 update rollup.
  'schannel-legacy': [0xc02c, 0xc02b, 0xc030, 0xc02f, 0x009f, 0x009e, 0xc024, 0xc023, 0xc028, 0xc027, 0xc00a, 0xc009, 0xc014, 0xc013, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x000a],
  'schannel-modern': [0x1302, 0x1301, 0xc02c, 0xc02b, 0xc030, 0xc02f, 0xc024, 0xc023, 0xc028, 0xc027, 0xc00a, 0xc009, 0xc014, 0xc013, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f],
  openssl: [0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff],
  java: [0x1302, 0x1301, 0x1303, 0xc02c, 0xc02b, 0xcca9, 0xc030, 0xcca8, 0xc02f, 0x009f, 0xccaa, 0x009e, 0xc024, 0xc028, 0xc023, 0xc027, 0x006b, 0x0067, 0xc00a, 0xc014, 0xc009, 0xc013, 0x0039, 0x0033, 0x00ff],
  embedded: [0xc02f, 0xc013, 0xc014, 0x009c, 0x002f, 0x0035, 0x000a],
  apple: [0x1301, 0x1302, 0x1303, 0xc02c, 0xc02b, 0xcca9, 0xc030, 0xc02f, 0xcca8, 0xc00a, 0xc009, 0xc014, 0xc013, 0x009d, 0x009c, 0x0035, 0x002f, 0xc008, 0xc012, 0x000a],
};

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}
function vec16(b: Buffer): Buffer {
  return Buffer.concat([u16(b.length), b]);
}
function ext(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), vec16(body)]);
}
function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), u24(body.length), body]);
}
export function record(type: number, body: Buffer, version = 0x0303): Buffer {
  return Buffer.concat([Buffer.from([type]), u16(version), u16(body.length), body]);
}
function random(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) {
    const v = rng.u32();
    b[i] = v & 0xff;
    if (i + 1 < n) b[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < n) b[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < n) b[i + 3] = v >>> 24;
  }
  return b;
}

export function tls13Capable(stack: ClientStack): boolean {
  return stack !== 'schannel-legacy' && stack !== 'embedded';
}

export function clientHello(stack: ClientStack, sni: string | undefined, rng: Rng, alpn?: readonly string[]): Buffer {
  const exts: Buffer[] = [];
  if (sni !== undefined) {
    const name = Buffer.from(sni, 'ascii');
    exts.push(ext(0, vec16(Buffer.concat([Buffer.from([0]), vec16(name)]))));
  }
  if (stack !== 'embedded') exts.push(ext(0x0017, Buffer.alloc(0))); // extended master secret
  exts.push(ext(0xff01, Buffer.from([0]))); // renegotiation info
  exts.push(ext(10, vec16(Buffer.from(stack === 'embedded' ? [0x00, 0x17, 0x00, 0x18] : [0x00, 0x1d, 0x00, 0x17, 0x00, 0x18])))); // groups
  exts.push(ext(11, Buffer.from([1, 0]))); // point formats: uncompressed
  if (stack !== 'embedded') exts.push(ext(35, Buffer.alloc(0))); // session ticket
  if (alpn !== undefined && alpn.length > 0) exts.push(ext(16, vec16(Buffer.concat(alpn.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')]))))));
  exts.push(ext(13, vec16(Buffer.from(stack === 'embedded' ? [4, 1, 5, 1, 2, 1] : [4, 3, 8, 4, 4, 1, 5, 3, 8, 5, 5, 1, 8, 6, 6, 1, 2, 1]))));
  if (tls13Capable(stack)) {
    exts.push(ext(43, Buffer.from([4, 0x03, 0x04, 0x03, 0x03]))); // supported versions
    exts.push(ext(45, Buffer.from([1, 1]))); // PSK modes
    exts.push(ext(51, vec16(Buffer.concat([u16(0x001d), vec16(random(rng, 32))])))); // key share x25519
  }
  const ciphers = CIPHERS[stack];
  const body = Buffer.concat([
    u16(0x0303),
    random(rng, 32),
    Buffer.from([32]),
    random(rng, 32),
    vec16(Buffer.concat(ciphers.map(u16))),
    Buffer.from([1, 0]),
    vec16(Buffer.concat(exts)),
  ]);
  return record(0x16, handshake(1, body), 0x0301);
}

/** What the server picks: TLS 1.3 when both can, else TLS 1.2 with the first ECDHE-GCM suite the client offers. */
export function chooseCipher(stack: ClientStack, serverTls13: boolean): { version: number; cipher: number } {
  if (serverTls13 && tls13Capable(stack)) return { version: 0x0304, cipher: 0x1302 };
  const c = CIPHERS[stack].find((x) => x === 0xc030 || x === 0xc02f) ?? (CIPHERS[stack].find((x) => x < 0x1300) as number);
  return { version: 0x0303, cipher: c };
}

export interface ServerFlight {
  /** The server's handshake records in the clear (ServerHello, and for TLS 1.2 Certificate, ServerKeyExchange, ServerHelloDone). */
  hello: Buffer;
  tls13: boolean;
}

export function serverHello(stack: ClientStack, serverTls13: boolean, cert: Buffer, rng: Rng): ServerFlight {
  const { version, cipher } = chooseCipher(stack, serverTls13);
  const tls13 = version === 0x0304;
  const exts = tls13
    ? [ext(43, u16(0x0304)), ext(51, Buffer.concat([u16(0x001d), vec16(random(rng, 32))]))]
    : [ext(0xff01, Buffer.from([0])), ext(11, Buffer.from([1, 0])), ext(0x0017, Buffer.alloc(0))];
  const sh = handshake(2, Buffer.concat([u16(0x0303), random(rng, 32), Buffer.from([32]), random(rng, 32), u16(cipher), Buffer.from([0]), vec16(Buffer.concat(exts))]));
  if (tls13) {
    // Everything after ServerHello is encrypted; a compatibility ChangeCipherSpec, then opaque records.
    return { hello: Buffer.concat([record(0x16, sh), record(0x14, Buffer.from([1])), record(0x17, random(rng, 1200 + rng.int(600)))]), tls13 };
  }
  const certMsg = handshake(11, Buffer.concat([u24(cert.length + 3), u24(cert.length), cert]));
  const ske = handshake(12, Buffer.concat([Buffer.from([3]), u16(0x001d), Buffer.from([32]), random(rng, 32), u16(0x0807), vec16(random(rng, 64))]));
  const done = handshake(14, Buffer.alloc(0));
  return { hello: record(0x16, Buffer.concat([sh, certMsg, ske, done])), tls13 };
}

/** The client's second flight: key exchange (TLS 1.2), ChangeCipherSpec, encrypted Finished. */
export function clientFinish(tls13: boolean, rng: Rng): Buffer {
  const parts: Buffer[] = [];
  if (!tls13) parts.push(record(0x16, handshake(16, Buffer.concat([Buffer.from([32]), random(rng, 32)]))));
  parts.push(record(0x14, Buffer.from([1])));
  parts.push(tls13 ? record(0x17, random(rng, 53)) : record(0x16, random(rng, 40)));
  return Buffer.concat(parts);
}

export function serverFinish(rng: Rng): Buffer {
  return Buffer.concat([record(0x14, Buffer.from([1])), record(0x16, random(rng, 40))]);
}

/** Application data: opaque records (a shared pseudo-random pool, sliced; never real data). */
export function appData(rng: Rng, bytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let left = bytes; left > 0; ) {
    const n = Math.min(16384 + 24, left);
    const off = rng.int(POOL.length - n);
    parts.push(record(0x17, POOL.subarray(off, off + n)));
    left -= n;
  }
  return Buffer.concat(parts);
}

const POOL: Buffer = (() => {
  const b = Buffer.alloc(1 << 18);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
})();

// ---- X.509 (DER) ---------------------------------------------------------------------------

function der(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}
const seq = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const OID_CN = Buffer.from('0603550403', 'hex');
const OID_O = Buffer.from('060355040a', 'hex');
const OID_C = Buffer.from('0603550406', 'hex');
const OID_ED25519 = Buffer.from('06032b6570', 'hex');
const OID_SAN = Buffer.from('0603551d11', 'hex');

function name(cn: string, o: string, c = 'US'): Buffer {
  const rdn = (oid: Buffer, v: Buffer) => der(0x31, seq(oid, v));
  return seq(rdn(OID_C, der(0x13, Buffer.from(c))), rdn(OID_O, der(0x0c, Buffer.from(o, 'utf8'))), rdn(OID_CN, der(0x0c, Buffer.from(cn, 'utf8'))));
}

function utcTime(t: number): Buffer {
  const s = new Date(t * 1000).toISOString();
  return der(0x17, Buffer.from(`${s.slice(2, 4)}${s.slice(5, 7)}${s.slice(8, 10)}${s.slice(11, 13)}${s.slice(14, 16)}${s.slice(17, 19)}Z`));
}

/** An Ed25519 key derived from a label: the same name always gets the same key. */
function keyFor(label: string): KeyObject {
  const seed = createHash('sha256').update(`vigil-simulator:${label}`).digest();
  return createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
}

export interface CertSpec {
  commonName: string;
  organization: string;
  /** Self-signed (device web UIs) or issued by the named CA. */
  issuer?: { commonName: string; organization: string };
  notBefore: number;
  notAfter: number;
}

const certCache = new Map<string, Buffer>();

export function certificate(c: CertSpec): Buffer {
  const key = JSON.stringify(c);
  const hit = certCache.get(key);
  if (hit !== undefined) return hit;
  const subjectKey = keyFor(c.commonName);
  const issuerName = c.issuer ?? { commonName: c.commonName, organization: c.organization };
  const signer = c.issuer === undefined ? subjectKey : keyFor(c.issuer.commonName);
  const spki = createPublicKey(subjectKey).export({ format: 'der', type: 'spki' });
  const serial = createHash('sha1').update(key).digest().subarray(0, 8);
  serial[0] = (serial[0] as number) & 0x7f;
  const san = der(0xa3, seq(seq(OID_SAN, der(0x04, seq(der(0x82, Buffer.from(c.commonName, 'ascii')))))));
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    seq(OID_ED25519),
    name(issuerName.commonName, issuerName.organization),
    seq(utcTime(c.notBefore), utcTime(c.notAfter)),
    name(c.commonName, c.organization),
    spki,
    san,
  );
  const sig = sign(null, tbs, signer);
  const cert = seq(tbs, seq(OID_ED25519), der(0x03, Buffer.concat([Buffer.from([0]), sig])));
  if (certCache.size > 10_000) certCache.clear();
  certCache.set(key, cert);
  return cert;
}
