/**
 * The DNS message format (RFC 1035 §4) shared by DNS, mDNS (RFC 6762), LLMNR (RFC 4795) and the
 * NetBIOS name service (RFC 1002, which reuses it with its own name encoding).
 *
 * Bounded on every axis: records per section, name length (255), labels, and compression pointers
 * (a pointer must go backwards, and at most 64 are followed — pointer loops are a classic attack).
 */

export interface DnsQuestion {
  name: string;
  type: number;
  cls: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  cls: number;
  ttl: number;
  /** rdata as offsets into the message (read it with the helpers below). */
  rdata: number;
  rdlength: number;
}

export interface DnsMessage {
  id: number;
  flags: number;
  response: boolean;
  opcode: number;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
}

export const DnsType = { A: 1, NS: 2, CNAME: 5, PTR: 12, HINFO: 13, TXT: 16, AAAA: 28, SRV: 33, NB: 32, NBSTAT: 33, ANY: 255 } as const;

const MAX_RECORDS = 64;

/** Reads a (possibly compressed) name at `off`; returns it and the offset after it in the message. */
export function readName(m: Buffer, off: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let p = off;
  let next = -1;
  let jumps = 0;
  let total = 0;
  for (;;) {
    if (p >= m.length) return undefined;
    const len = m[p] as number;
    if (len === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= m.length || ++jumps > 64) return undefined;
      const target = ((len & 0x3f) << 8) | (m[p + 1] as number);
      if (target >= p) return undefined; // pointers point backwards only
      if (next < 0) next = p + 2;
      p = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return undefined; // extended label types: not in use
    if (p + 1 + len > m.length) return undefined;
    total += len + 1;
    if (total > 255 || labels.length >= 128) return undefined;
    labels.push(m.toString('utf8', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return { name: labels.join('.'), next };
}

function readRecords(m: Buffer, off: number, count: number, out: DnsRecord[]): number {
  let p = off;
  for (let i = 0; i < count && i < MAX_RECORDS; i++) {
    const n = readName(m, p);
    if (n === undefined || n.next + 10 > m.length) return -1;
    const rdlength = m.readUInt16BE(n.next + 8);
    const rdata = n.next + 10;
    if (rdata + rdlength > m.length) return -1;
    out.push({ name: n.name, type: m.readUInt16BE(n.next), cls: m.readUInt16BE(n.next + 2), ttl: m.readUInt32BE(n.next + 4), rdata, rdlength });
    p = rdata + rdlength;
  }
  return p;
}

/** Parses a DNS-format message; undefined when the header or question section is broken. Later sections stop at the first broken record. */
export function parseDns(m: Buffer): DnsMessage | undefined {
  if (m.length < 12) return undefined;
  const flags = m.readUInt16BE(2);
  const qd = m.readUInt16BE(4);
  const an = m.readUInt16BE(6);
  const ns = m.readUInt16BE(8);
  const ar = m.readUInt16BE(10);
  const msg: DnsMessage = { id: m.readUInt16BE(0), flags, response: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf, rcode: flags & 0xf, questions: [], answers: [], authority: [], additional: [] };
  let p = 12;
  for (let i = 0; i < qd && i < MAX_RECORDS; i++) {
    const n = readName(m, p);
    if (n === undefined || n.next + 4 > m.length) return undefined;
    msg.questions.push({ name: n.name, type: m.readUInt16BE(n.next), cls: m.readUInt16BE(n.next + 2) });
    p = n.next + 4;
  }
  p = readRecords(m, p, an, msg.answers);
  if (p >= 0) p = readRecords(m, p, ns, msg.authority);
  if (p >= 0) readRecords(m, p, ar, msg.additional);
  return msg;
}

/** probe() for the DNS-format name services: their port, and a header a real message would have. */
export function probeDnsFormat(p: Buffer, _dir: 0 | 1, portMatch: boolean): boolean {
  // Off their ports, DNS-format messages are too easy to mistake for anything.
  return portMatch && plausibleDnsHeader(p);
}

/** A sanity check cheap enough for probe(): header counts a real message would have. */
export function plausibleDnsHeader(m: Buffer): boolean {
  if (m.length < 12) return false;
  const qd = m.readUInt16BE(4);
  const an = m.readUInt16BE(6);
  const ns = m.readUInt16BE(8);
  const ar = m.readUInt16BE(10);
  const opcode = ((m[2] as number) >> 3) & 0xf;
  return opcode <= 6 && qd <= 16 && an <= 256 && ns <= 64 && ar <= 256 && qd + an + ns + ar > 0;
}

export function rdataIpv4(m: Buffer, r: DnsRecord): string | undefined {
  if (r.rdlength !== 4) return undefined;
  return `${m[r.rdata]}.${m[r.rdata + 1]}.${m[r.rdata + 2]}.${m[r.rdata + 3]}`;
}

export function rdataIpv6(m: Buffer, r: DnsRecord): string | undefined {
  if (r.rdlength !== 16) return undefined;
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(m.readUInt16BE(r.rdata + i).toString(16));
  return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export function rdataName(m: Buffer, r: DnsRecord): string | undefined {
  return readName(m, r.rdata)?.name;
}

/** TXT character-strings (RFC 1035 §3.3.14). */
export function rdataTxt(m: Buffer, r: DnsRecord): string[] {
  const out: string[] = [];
  let p = r.rdata;
  const end = r.rdata + r.rdlength;
  while (p < end && out.length < 64) {
    const l = m[p] as number;
    if (p + 1 + l > end) break;
    out.push(m.toString('utf8', p + 1, p + 1 + l));
    p += 1 + l;
  }
  return out;
}

/** SRV (RFC 2782): priority, weight, port, target. */
export function rdataSrv(m: Buffer, r: DnsRecord): { port: number; target: string } | undefined {
  if (r.rdlength < 7) return undefined;
  const t = readName(m, r.rdata + 6);
  return t === undefined ? undefined : { port: m.readUInt16BE(r.rdata + 4), target: t.name };
}
