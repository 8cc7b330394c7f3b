/**
 * Bounded IP fragment reassembly for IPv4 and IPv6.
 *
 * Attackers fragment to hide payloads, and broken stacks fragment by accident, so every limit here
 * is explicit: datagrams held, bytes held, fragments per datagram, and how long one waits.
 * Overlapping data: the first copy wins (BSD policy), and the overlap is counted.
 */
import type { Packet } from './packet.ts';

export interface FragmentLimits {
  /** Datagrams waiting for their fragments at once. */
  maxDatagrams: number;
  /** Bytes of fragment data held in all. */
  maxBytes: number;
  /** Fragments per datagram (tiny-fragment floods). */
  maxFragments: number;
  /** Seconds a datagram may wait for its missing fragments. */
  timeout: number;
}

export const DEFAULT_FRAGMENT_LIMITS: FragmentLimits = { maxDatagrams: 4096, maxBytes: 32 * 1024 * 1024, maxFragments: 256, timeout: 30 };

interface Piece {
  off: number;
  data: Buffer;
}

interface Datagram {
  key: string;
  firstTime: number;
  header: Buffer | undefined;
  proto: number;
  total: number; // -1 until the last fragment is seen
  pieces: Piece[];
  bytes: number;
}

export interface FragmentStats {
  fragments: number;
  reassembled: number;
  timedOut: number;
  dropped: number;
  overlaps: number;
}

const MAX_DATAGRAM = 65_535;

export class FragmentReassembler {
  readonly stats: FragmentStats = { fragments: 0, reassembled: 0, timedOut: 0, dropped: 0, overlaps: 0 };
  private readonly pending = new Map<string, Datagram>();
  private bytes = 0;

  constructor(private readonly limits: FragmentLimits = DEFAULT_FRAGMENT_LIMITS) {}

  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * Adds the fragment in `pkt` (fragment offset in bytes, more-fragments flag). When the datagram is
   * complete, rewrites `pkt` to point at a new buffer holding the whole datagram and returns true.
   */
  add(pkt: Packet, fragOffset: number, more: boolean, headerEnd: number): boolean {
    this.stats.fragments++;
    this.expire(pkt.time);
    const buf = pkt.buf;
    const key =
      pkt.ipVersion === 4
        ? `4:${pkt.src4}:${pkt.dst4}:${pkt.ipId}:${pkt.proto}`
        : `6:${buf.toString('latin1', pkt.src6, pkt.src6 + 32)}:${pkt.ipId}`;
    const len = pkt.payloadLength;
    if (fragOffset + len > MAX_DATAGRAM) {
      this.stats.dropped++;
      return false;
    }
    let d = this.pending.get(key);
    if (d === undefined) {
      if (this.pending.size >= this.limits.maxDatagrams) this.evictOldest();
      d = { key, firstTime: pkt.time, header: undefined, proto: pkt.proto, total: -1, pieces: [], bytes: 0 };
      this.pending.set(key, d);
    }
    if (d.pieces.length >= this.limits.maxFragments || this.bytes + len > this.limits.maxBytes) {
      this.drop(d);
      this.stats.dropped++;
      return false;
    }
    if (fragOffset === 0 && d.header === undefined) {
      // Keep the unfragmentable header so the rebuilt datagram decodes like any other packet.
      d.header = Buffer.from(buf.subarray(pkt.netOffset, pkt.ipVersion === 4 ? pkt.netOffset + pkt.ipHeaderLen : headerEnd));
    }
    if (!more) d.total = fragOffset + len;
    this.insert(d, fragOffset, buf.subarray(pkt.payloadOffset, pkt.payloadOffset + len));
    if (d.total < 0 || d.header === undefined || !covers(d)) return false;

    const header = d.header;
    const whole = Buffer.allocUnsafe(header.length + d.total);
    header.copy(whole, 0);
    for (const p of d.pieces) p.data.copy(whole, header.length + p.off, 0, Math.min(p.data.length, d.total - p.off));
    if (pkt.ipVersion === 4) {
      whole.writeUInt16BE(Math.min(0xffff, whole.length), 2);
      whole.writeUInt16BE(0, 6);
    } else {
      pkt.src6 = 8;
      pkt.dst6 = 24;
    }
    this.drop(d);
    this.stats.reassembled++;
    pkt.buf = whole;
    pkt.netOffset = 0;
    pkt.proto = d.proto;
    pkt.ipHeaderLen = header.length;
    pkt.payloadOffset = header.length;
    pkt.payloadLength = d.total;
    pkt.reassembled = true;
    return true;
  }

  /** Drops datagrams that waited longer than the timeout (call with capture time). */
  expire(now: number): void {
    // Map iteration is insertion order, which is arrival order: stop at the first young one.
    for (const d of this.pending.values()) {
      if (now - d.firstTime <= this.limits.timeout) break;
      this.drop(d);
      this.stats.timedOut++;
    }
  }

  private insert(d: Datagram, off: number, data: Buffer): void {
    // First copy wins: trim the new piece to the parts no earlier piece covers.
    let start = off;
    const end = off + data.length;
    const pieces = d.pieces;
    for (const p of pieces) {
      const pEnd = p.off + p.data.length;
      if (p.off <= start && pEnd > start) {
        this.stats.overlaps++;
        start = pEnd;
      }
    }
    if (start >= end) return;
    for (const p of pieces) {
      if (p.off > start && p.off < end) this.stats.overlaps++;
    }
    const copy = Buffer.from(data.subarray(start - off));
    pieces.push({ off: start, data: copy });
    pieces.sort((a, b) => a.off - b.off);
    d.bytes += copy.length;
    this.bytes += copy.length;
  }

  private drop(d: Datagram): void {
    this.pending.delete(d.key);
    this.bytes -= d.bytes;
  }

  private evictOldest(): void {
    const first = this.pending.values().next();
    if (!first.done) {
      this.drop(first.value);
      this.stats.dropped++;
    }
  }
}

function covers(d: Datagram): boolean {
  let reach = 0;
  for (const p of d.pieces) {
    if (p.off > reach) return false;
    reach = Math.max(reach, p.off + p.data.length);
    if (reach >= d.total) return true;
  }
  return reach >= d.total;
}
