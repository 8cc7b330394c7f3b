/**
 * The DNS message format (RFC 1035 §4) shared by DNS, mDNS (RFC 6762), LLMNR (RFC 4795) and the
 * NetBIOS name service (RFC 1002 §4.2, which reuses it with its own name encoding).
 *
 * Bounded on every axis, because every byte of it is attacker-controlled: records per section
 * (MAX_RECORDS), name length (255 octets, RFC 1035 §2.3.4), label count, and compression pointers.
 * A pointer must land strictly before every position the name has already visited, so a chain of
 * pointers can only walk towards the start of the message and always ends (pointer loops are a
 * classic parser attack); the jump count is capped as well.
 */
import { ipv6ToString } from '../packet/address.ts';

export interface DnsQuestion {
  name: string;
  type: number;
  cls: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  /** Class with the mDNS cache-flush bit (RFC 6762 §10.2) still in it: mask with 0x7fff for the class. */
  cls: number;
  ttl: number;
  /** Offset of the rdata in the message (read it with the rdata* helpers below). */
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

export const DnsType = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, TXT: 16, AAAA: 28, SRV: 33, NB: 32, NBSTAT: 33, OPT: 41, ANY: 255 } as const;

/** Records kept per section: a real message rarely has more than a few dozen. */
export const MAX_RECORDS = 64;
/** RFC 1035 §2.3.4: a name is at most 255 octets on the wire (length octets included). */
const MAX_NAME = 255;
const MAX_JUMPS = 32;

/**
 * Reads a (possibly compressed, RFC 1035 §4.1.4) name at `off`: its labels joined by dots (no
 * trailing dot; the root is ""), and the offset just after the name where it started.
 */
export function readName(m: Buffer, off: number): { name: string; next: number } | undefined {
  let name = '';
  let p = off;
  let next = -1;
  let jumps = 0;
  let total = 1;
  // Lowest offset visited so far: a pointer must go below it (see the header comment).
  let floor = off;
  for (;;) {
    if (p >= m.length) return undefined;
    const len = m[p] as number;
    if (len === 0) {
      if (next < 0) next = p + 1;
      return { name, next };
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= m.length || ++jumps > MAX_JUMPS) return undefined;
      const target = ((len & 0x3f) << 8) | (m[p + 1] as number);
      if (target >= floor) return undefined;
      if (next < 0) next = p + 2;
      p = floor = target;
      continue;
    }
    // 0x40 / 0x80: extended and reserved label types (RFC 6891 §5 retired them): not a name we read.
    if (kind !== 0) return undefined;
    total += len + 1;
    if (total > MAX_NAME || p + 1 + len > m.length) return undefined;
    const label = m.toString('utf8', p + 1, p + 1 + len);
    name = name === '' ? label : `${name}.${label}`;
    p += 1 + len;
  }
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
  // Records beyond the cap are not read, so what follows them cannot be found either.
  return count > MAX_RECORDS ? -1 : p;
}

/**
 * Parses a DNS-format message. Undefined when the header or the question section is broken; the
 * record sections stop at the first broken record (what came before it is kept: a truncated UDP
 * answer still names what was asked).
 */
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
  if (qd > MAX_RECORDS) return msg;
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

/**
 * A sanity check cheap enough for probe(): a known opcode, section counts a real message would
 * have, the reserved Z bit clear (RFC 1035 §4.1.1; the same bit is zero in LLMNR and NBNS flags),
 * and a first name that starts with a label length rather than a pointer (nothing lies before
 * offset 12 to point at).
 */
export function plausibleDnsHeader(m: Buffer): boolean {
  if (m.length < 17) return false;
  const qd = m.readUInt16BE(4);
  const an = m.readUInt16BE(6);
  const ns = m.readUInt16BE(8);
  const ar = m.readUInt16BE(10);
  const opcode = ((m[2] as number) >> 3) & 0xf;
  // Opcodes in use: DNS 0–2, 4–6 (RFC 1035, 1996, 2136, 8490); NBNS adds 7–9 and 15 (multi-homed registration).
  return ((0x83f7 >> opcode) & 1) === 1 && ((m[3] as number) & 0x40) === 0 && qd <= 16 && an <= 256 && ns <= 64 && ar <= 256 && qd + an + ns + ar > 0 && (m[12] as number) <= 63;
}

/** Text form of an A record's rdata, or undefined when it is not 4 bytes long. */
export function rdataIpv4(m: Buffer, r: DnsRecord): string | undefined {
  if (r.rdlength !== 4) return undefined;
  return `${m[r.rdata]}.${m[r.rdata + 1]}.${m[r.rdata + 2]}.${m[r.rdata + 3]}`;
}

/** RFC 5952 text form of an AAAA record's rdata, or undefined when it is not 16 bytes long. */
export function rdataIpv6(m: Buffer, r: DnsRecord): string | undefined {
  return r.rdlength === 16 ? ipv6ToString(m, r.rdata) : undefined;
}

/** The address of an A or AAAA record; undefined for other types. */
export function rdataAddress(m: Buffer, r: DnsRecord): string | undefined {
  return r.type === DnsType.A ? rdataIpv4(m, r) : r.type === DnsType.AAAA ? rdataIpv6(m, r) : undefined;
}

/** A name in rdata (PTR, CNAME, NS): compression may point anywhere before it in the message. */
export function rdataName(m: Buffer, r: DnsRecord): string | undefined {
  if (r.rdlength === 0) return undefined;
  const n = readName(m, r.rdata);
  return n === undefined || n.next > r.rdata + r.rdlength ? undefined : n.name;
}

/** TXT character-strings (RFC 1035 §3.3.14), at most 64. */
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
  return t === undefined || t.next > r.rdata + r.rdlength ? undefined : { port: m.readUInt16BE(r.rdata + 4), target: t.name };
}

/** HINFO (RFC 1035 §3.3.2): two character-strings, CPU and OS. */
export function rdataHinfo(m: Buffer, r: DnsRecord): { cpu: string; os: string } | undefined {
  const [cpu, os] = rdataTxt(m, r);
  return cpu === undefined || os === undefined ? undefined : { cpu, os };
}

/** Short mnemonic of a record type, for values and evidence. */
export function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

const TYPE_NAMES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR', 41: 'OPT', 47: 'NSEC', 64: 'SVCB', 65: 'HTTPS', 255: 'ANY' };
