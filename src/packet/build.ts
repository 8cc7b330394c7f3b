/**
 * Frame construction with correct lengths and checksums: the inverse of the decoders, for the
 * simulator, the benchmark capture builder and tests. Addresses are given as text.
 */

export function macBytes(mac: string): Buffer {
  const parts = mac.split(/[:-]/).map((h) => parseInt(h, 16));
  if (parts.length !== 6 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad MAC ${mac}`);
  return Buffer.from(parts);
}

export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(Number.isInteger(p) && p >= 0 && p <= 255))) throw new Error(`bad IPv4 ${ip}`);
  return Buffer.from(parts);
}

export function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const words = [...h, ...Array<string>(fill).fill('0'), ...t].map((w) => parseInt(w, 16));
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff))) throw new Error(`bad IPv6 ${ip}`);
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

/** RFC 1071 Internet checksum over `buf[start..end)`, plus an initial 32-bit sum. */
export function internetChecksum(buf: Buffer, start = 0, end = buf.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i] as number) * 256 + (buf[i + 1] as number);
  if (i < end) sum += (buf[i] as number) * 256;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return ~sum & 0xffff;
}

function sum16(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] as number) * 256 + (b[i + 1] as number);
  return s;
}

export interface EthernetSpec {
  src: string;
  dst: string;
  /** 802.1Q tags, outermost first; the first of two is sent as 802.1ad (QinQ). */
  vlans?: number[];
}

export function ethernet(e: EthernetSpec, etherType: number, payload: Buffer): Buffer {
  const tags = e.vlans ?? [];
  const b = Buffer.alloc(14 + tags.length * 4 + payload.length);
  macBytes(e.dst).copy(b, 0);
  macBytes(e.src).copy(b, 6);
  let off = 12;
  tags.forEach((vid, i) => {
    b.writeUInt16BE(tags.length > 1 && i === 0 ? 0x88a8 : 0x8100, off);
    b.writeUInt16BE(vid & 0x0fff, off + 2);
    off += 4;
  });
  b.writeUInt16BE(etherType, off);
  payload.copy(b, off + 2);
  return b;
}

export interface Ipv4Spec {
  src: string;
  dst: string;
  proto: number;
  ttl?: number;
  id?: number;
  df?: boolean;
  /** Fragment offset in bytes (multiple of 8) and more-fragments flag, for building fragments. */
  fragOffset?: number;
  more?: boolean;
  options?: Buffer;
  tos?: number;
}

export function ipv4(s: Ipv4Spec, payload: Buffer): Buffer {
  const opts = s.options ?? Buffer.alloc(0);
  const hl = 20 + ((opts.length + 3) & ~3);
  const b = Buffer.alloc(hl + payload.length);
  b[0] = 0x40 | (hl / 4);
  b[1] = s.tos ?? 0;
  b.writeUInt16BE(b.length, 2);
  b.writeUInt16BE(s.id ?? 0, 4);
  b.writeUInt16BE(((s.df ?? false) ? 0x4000 : 0) | ((s.more ?? false) ? 0x2000 : 0) | ((s.fragOffset ?? 0) >> 3), 6);
  b[8] = s.ttl ?? 64;
  b[9] = s.proto;
  ipv4Bytes(s.src).copy(b, 12);
  ipv4Bytes(s.dst).copy(b, 16);
  opts.copy(b, 20);
  b.writeUInt16BE(internetChecksum(b, 0, hl), 10);
  payload.copy(b, hl);
  return b;
}

export interface Ipv6Spec {
  src: string;
  dst: string;
  next: number;
  hopLimit?: number;
  flowLabel?: number;
}

export function ipv6(s: Ipv6Spec, payload: Buffer): Buffer {
  const b = Buffer.alloc(40 + payload.length);
  b.writeUInt32BE((6 << 28) | ((s.flowLabel ?? 0) & 0xfffff), 0);
  b.writeUInt16BE(payload.length, 4);
  b[6] = s.next;
  b[7] = s.hopLimit ?? 64;
  ipv6Bytes(s.src).copy(b, 8);
  ipv6Bytes(s.dst).copy(b, 24);
  payload.copy(b, 40);
  return b;
}

/** Pseudo-header sum for TCP/UDP checksums (RFC 9293 §3.1, RFC 8200 §8.1). */
function pseudo(src: string, dst: string, proto: number, len: number): number {
  if (src.includes(':')) return sum16(ipv6Bytes(src)) + sum16(ipv6Bytes(dst)) + len + proto;
  return sum16(ipv4Bytes(src)) + sum16(ipv4Bytes(dst)) + proto + len;
}

export interface TcpSpec {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  options?: Buffer;
  urgent?: number;
}

export function tcp(s: TcpSpec, payload: Buffer, ipSrc: string, ipDst: string): Buffer {
  const opts = s.options ?? Buffer.alloc(0);
  const hl = 20 + ((opts.length + 3) & ~3);
  const b = Buffer.alloc(hl + payload.length);
  b.writeUInt16BE(s.srcPort, 0);
  b.writeUInt16BE(s.dstPort, 2);
  b.writeUInt32BE(s.seq >>> 0, 4);
  b.writeUInt32BE((s.ack ?? 0) >>> 0, 8);
  b[12] = (hl / 4) << 4;
  b[13] = s.flags;
  b.writeUInt16BE(s.window ?? 65535, 14);
  b.writeUInt16BE(s.urgent ?? 0, 18);
  opts.copy(b, 20);
  payload.copy(b, hl);
  b.writeUInt16BE(internetChecksum(b, 0, b.length, pseudo(ipSrc, ipDst, 6, b.length)), 16);
  return b;
}

export interface UdpSpec {
  srcPort: number;
  dstPort: number;
}

export function udp(s: UdpSpec, payload: Buffer, ipSrc: string, ipDst: string): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt16BE(s.srcPort, 0);
  b.writeUInt16BE(s.dstPort, 2);
  b.writeUInt16BE(b.length, 4);
  payload.copy(b, 8);
  const c = internetChecksum(b, 0, b.length, pseudo(ipSrc, ipDst, 17, b.length));
  b.writeUInt16BE(c === 0 ? 0xffff : c, 6);
  return b;
}

/** Convenience: a whole Ethernet/IPv4/TCP frame. */
export function tcpFrame(e: EthernetSpec, ip: Omit<Ipv4Spec, 'proto'>, t: TcpSpec, payload: Buffer = Buffer.alloc(0)): Buffer {
  return ethernet(e, 0x0800, ipv4({ ...ip, proto: 6 }, tcp(t, payload, ip.src, ip.dst)));
}

/** Convenience: a whole Ethernet/IPv4/UDP frame. */
export function udpFrame(e: EthernetSpec, ip: Omit<Ipv4Spec, 'proto'>, u: UdpSpec, payload: Buffer): Buffer {
  return ethernet(e, 0x0800, ipv4({ ...ip, proto: 17 }, udp(u, payload, ip.src, ip.dst)));
}
