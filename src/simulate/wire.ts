/**
 * Writes simulated packets straight into capture records: Ethernet, IPv4, TCP or UDP, with correct
 * lengths and checksums, into one large output buffer (no allocation per packet). The simulator's
 * conversations describe each packet in a reusable PacketSpec; this is the only place that lays
 * out bytes.
 */
import type { WriteStream } from 'node:fs';

export interface Endpoint {
  mac: Buffer; // 6 bytes
  ip: Buffer; // 4 bytes
  ipText: string;
  /** Initial TTL of the host's stack. */
  ttl: number;
}

/** How a packet from one side looks on the segment the sensor watches. */
export interface LinkView {
  srcMac: Buffer;
  dstMac: Buffer;
  vlan: number;
  /** Routers passed before the sensor (each takes one off the TTL). */
  hops: number;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export class PacketSpec {
  time = 0;
  src!: Endpoint;
  dst!: Endpoint;
  link!: LinkView;
  /** 6 TCP, 17 UDP. */
  proto = 6;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  tcpOptions: Buffer | undefined = undefined;
  payload: Buffer = EMPTY;
  ipId = 0;
  df = true;
}

const EMPTY = Buffer.alloc(0);

/**
 * Sum of 16-bit big-endian words (RFC 1071), not yet folded. Reads through a DataView four bytes
 * at a time: three times faster than byte indexing, and the checksum is most of the writer's work.
 */
function sum16(dv: DataView, start: number, end: number): number {
  let s = 0;
  let i = start;
  for (; i + 3 < end; i += 4) {
    const w = dv.getUint32(i);
    s += (w >>> 16) + (w & 0xffff);
  }
  for (; i + 1 < end; i += 2) s += dv.getUint16(i);
  if (i < end) s += dv.getUint8(i) << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

const OUT_SIZE = 4 << 20;
const MAX_RECORD = 16 + 18 + 20 + 60 + 65535;

/** Streams pcap records (little-endian, microseconds, Ethernet) to a file. */
export class PcapSink {
  private out: Buffer = Buffer.allocUnsafe(OUT_SIZE);
  private dv = new DataView(this.out.buffer, this.out.byteOffset, this.out.length);
  private pos = 0;
  /** Frames written so far (the next frame's number is frames + 1). */
  frames = 0;
  bytes = 0;

  constructor(private readonly ws: WriteStream) {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20);
    h.copy(this.out, 0);
    this.pos = 24;
  }

  /** True when the buffer should be flushed before writing more. */
  get full(): boolean {
    return this.pos + MAX_RECORD > OUT_SIZE;
  }

  /** Writes one packet; returns its frame number. */
  write(p: PacketSpec): number {
    const o = this.out;
    const start = this.pos;
    const isTcp = p.proto === 6;
    const opts = isTcp && p.tcpOptions !== undefined ? p.tcpOptions.length : 0;
    const l4len = (isTcp ? 20 + opts : 8) + p.payload.length;
    const link = p.link;
    const tag = link.vlan >= 0 ? 4 : 0;
    const frameLen = 14 + tag + 20 + l4len;
    // record header
    const sec = Math.floor(p.time);
    o.writeUInt32LE(sec >>> 0, start);
    o.writeUInt32LE(Math.min(999_999, Math.floor((p.time - sec) * 1e6)) >>> 0, start + 4);
    o.writeUInt32LE(frameLen, start + 8);
    o.writeUInt32LE(frameLen, start + 12);
    // Ethernet
    let e = start + 16;
    o.set(link.dstMac, e);
    o.set(link.srcMac, e + 6);
    if (tag > 0) {
      o[e + 12] = 0x81;
      o[e + 13] = 0x00;
      o.writeUInt16BE(link.vlan & 0x0fff, e + 14);
      e += 4;
    }
    o[e + 12] = 0x08;
    o[e + 13] = 0x00;
    // IPv4
    const ip = e + 14;
    o[ip] = 0x45;
    o[ip + 1] = 0;
    o.writeUInt16BE(20 + l4len, ip + 2);
    o.writeUInt16BE(p.ipId & 0xffff, ip + 4);
    o.writeUInt16BE(p.df ? 0x4000 : 0, ip + 6);
    o[ip + 8] = Math.max(1, p.src.ttl - link.hops);
    o[ip + 9] = p.proto;
    o[ip + 10] = 0;
    o[ip + 11] = 0;
    o.set(p.src.ip, ip + 12);
    o.set(p.dst.ip, ip + 16);
    o.writeUInt16BE(fold(sum16(this.dv, ip, ip + 20)), ip + 10);
    // Transport
    const l4 = ip + 20;
    o.writeUInt16BE(p.srcPort, l4);
    o.writeUInt16BE(p.dstPort, l4 + 2);
    let csumAt: number;
    let dataAt: number;
    if (isTcp) {
      o.writeUInt32BE(p.seq >>> 0, l4 + 4);
      o.writeUInt32BE(p.ack >>> 0, l4 + 8);
      o[l4 + 12] = ((20 + opts) / 4) << 4;
      o[l4 + 13] = p.flags;
      o.writeUInt16BE(p.window & 0xffff, l4 + 14);
      o[l4 + 16] = 0;
      o[l4 + 17] = 0;
      o[l4 + 18] = 0;
      o[l4 + 19] = 0;
      if (opts > 0) o.set(p.tcpOptions as Buffer, l4 + 20);
      csumAt = l4 + 16;
      dataAt = l4 + 20 + opts;
    } else {
      o.writeUInt16BE(l4len, l4 + 4);
      o[l4 + 6] = 0;
      o[l4 + 7] = 0;
      csumAt = l4 + 6;
      dataAt = l4 + 8;
    }
    o.set(p.payload, dataAt);
    const end = dataAt + p.payload.length;
    // Pseudo-header: addresses, protocol, length (RFC 9293 §3.1, RFC 768).
    const pseudo = sum16(this.dv, ip + 12, ip + 20) + p.proto + l4len;
    let c = fold(pseudo + sum16(this.dv, l4, end));
    if (!isTcp && c === 0) c = 0xffff;
    o.writeUInt16BE(c, csumAt);
    e = end;
    this.pos = e;
    this.frames++;
    this.bytes += e - start;
    return this.frames;
  }

  /** Output buffers the stream has finished writing, ready for reuse (fresh 4 MiB buffers cost a page fault per 4 KiB). */
  private readonly spare: Buffer[] = [];
  private inFlight = 0;

  /** Hands the buffered records to the stream; resolves when a buffer is free to fill again. */
  async flush(): Promise<void> {
    if (this.pos === 0) return;
    const chunk = this.out.subarray(0, this.pos);
    const full = this.out;
    this.inFlight++;
    this.ws.write(chunk, () => {
      this.inFlight--;
      this.spare.push(full);
    });
    // Keep at most three buffers: wait for the stream to hand one back.
    while (this.spare.length === 0 && this.inFlight >= 2) await new Promise<void>((r) => setImmediate(r));
    this.out = this.spare.pop() ?? Buffer.allocUnsafe(OUT_SIZE);
    this.dv = new DataView(this.out.buffer, this.out.byteOffset, this.out.length);
    this.pos = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.end(() => resolve());
    });
  }
}
