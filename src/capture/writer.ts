/**
 * Capture writers: classic pcap and pcapng, as byte buffers. Used by the simulator, the benchmark
 * capture builder and tests (which need captures with known contents in every format variant).
 */

export interface PcapWriteOptions {
  linkType: number;
  nanos?: boolean;
  bigEndian?: boolean;
  snapLen?: number;
}

export function pcapHeader(o: PcapWriteOptions): Buffer {
  const b = Buffer.alloc(24);
  const w32 = (v: number, off: number) => (o.bigEndian ? b.writeUInt32BE(v, off) : b.writeUInt32LE(v, off));
  const w16 = (v: number, off: number) => (o.bigEndian ? b.writeUInt16BE(v, off) : b.writeUInt16LE(v, off));
  w32(o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(2, 4);
  w16(4, 6);
  w32(0, 8);
  w32(0, 12);
  w32(o.snapLen ?? 262144, 16);
  w32(o.linkType, 20);
  return b;
}

/** One pcap record: 16-byte header + frame, at `sec` seconds and `nsec` nanoseconds. */
export function pcapRecord(o: PcapWriteOptions, sec: number, nsec: number, frame: Buffer, origLen = frame.length): Buffer {
  const b = Buffer.alloc(16 + frame.length);
  const frac = o.nanos ? nsec : Math.floor(nsec / 1000);
  const w32 = (v: number, off: number) => (o.bigEndian ? b.writeUInt32BE(v >>> 0, off) : b.writeUInt32LE(v >>> 0, off));
  w32(sec, 0);
  w32(Math.min(frac, o.nanos ? 999_999_999 : 999_999), 4);
  w32(frame.length, 8);
  w32(origLen, 12);
  frame.copy(b, 16);
  return b;
}

/** Writes a pcap record straight into `out` at `off` (no allocation); returns the new offset. */
export function writePcapRecordLE(out: Buffer, off: number, sec: number, usec: number, frame: Buffer, frameStart: number, frameLen: number): number {
  out.writeUInt32LE(sec >>> 0, off);
  out.writeUInt32LE(usec >>> 0, off + 4);
  out.writeUInt32LE(frameLen, off + 8);
  out.writeUInt32LE(frameLen, off + 12);
  frame.copy(out, off + 16, frameStart, frameStart + frameLen);
  return off + 16 + frameLen;
}

// ---- pcapng ----------------------------------------------------------------------------------

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function block(type: number, body: Buffer, bigEndian = false): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  if (bigEndian) {
    b.writeUInt32BE(type, 0);
    b.writeUInt32BE(len, 4);
    b.writeUInt32BE(len, len - 4);
  } else {
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    b.writeUInt32LE(len, len - 4);
  }
  body.copy(b, 8);
  return b;
}

export interface PcapngOption {
  code: number;
  value: Buffer;
}

function options(opts: PcapngOption[], bigEndian: boolean): Buffer {
  if (opts.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const o of opts) {
    const h = Buffer.alloc(4);
    if (bigEndian) {
      h.writeUInt16BE(o.code, 0);
      h.writeUInt16BE(o.value.length, 2);
    } else {
      h.writeUInt16LE(o.code, 0);
      h.writeUInt16LE(o.value.length, 2);
    }
    parts.push(h, o.value, Buffer.alloc(pad4(o.value.length) - o.value.length));
  }
  parts.push(Buffer.alloc(4)); // opt_endofopt
  return Buffer.concat(parts);
}

export function pcapngSectionHeader(bigEndian = false, opts: PcapngOption[] = []): Buffer {
  const body = Buffer.alloc(16);
  if (bigEndian) {
    body.writeUInt32BE(0x1a2b3c4d, 0);
    body.writeUInt16BE(1, 4);
    body.writeUInt16BE(0, 6);
  } else {
    body.writeUInt32LE(0x1a2b3c4d, 0);
    body.writeUInt16LE(1, 4);
    body.writeUInt16LE(0, 6);
  }
  body.writeInt32LE(-1, 8); // section length unknown
  body.writeInt32LE(-1, 12);
  return block(0x0a0d0d0a, Buffer.concat([body, options(opts, bigEndian)]), bigEndian);
}

/** Interface Description Block. `tsresol`: the if_tsresol byte (6 = µs, 9 = ns, 0x80|n = 2^-n). */
export function pcapngInterface(linkType: number, o: { snapLen?: number; tsresol?: number; tsoffset?: number; name?: string; bigEndian?: boolean } = {}): Buffer {
  const be = o.bigEndian ?? false;
  const body = Buffer.alloc(8);
  if (be) {
    body.writeUInt16BE(linkType, 0);
    body.writeUInt32BE(o.snapLen ?? 262144, 4);
  } else {
    body.writeUInt16LE(linkType, 0);
    body.writeUInt32LE(o.snapLen ?? 262144, 4);
  }
  const opts: PcapngOption[] = [];
  if (o.name !== undefined) opts.push({ code: 2, value: Buffer.from(o.name) });
  if (o.tsresol !== undefined) opts.push({ code: 9, value: Buffer.from([o.tsresol]) });
  if (o.tsoffset !== undefined) {
    const v = Buffer.alloc(8);
    if (be) v.writeBigInt64BE(BigInt(o.tsoffset));
    else v.writeBigInt64LE(BigInt(o.tsoffset));
    opts.push({ code: 14, value: v });
  }
  return block(1, Buffer.concat([body, options(opts, be)]), be);
}

/** Enhanced Packet Block; `units` is the timestamp in the interface's resolution units. */
export function pcapngPacket(ifId: number, units: bigint, frame: Buffer, o: { origLen?: number; comment?: string; bigEndian?: boolean } = {}): Buffer {
  const be = o.bigEndian ?? false;
  const head = Buffer.alloc(20);
  const w32 = (v: number, off: number) => (be ? head.writeUInt32BE(v >>> 0, off) : head.writeUInt32LE(v >>> 0, off));
  w32(ifId, 0);
  w32(Number(units >> 32n), 4);
  w32(Number(units & 0xffffffffn), 8);
  w32(frame.length, 12);
  w32(o.origLen ?? frame.length, 16);
  const data = Buffer.concat([frame, Buffer.alloc(pad4(frame.length) - frame.length)]);
  const opts = o.comment !== undefined ? options([{ code: 1, value: Buffer.from(o.comment) }], be) : Buffer.alloc(0);
  return block(6, Buffer.concat([head, data, opts]), be);
}

export function pcapngSimplePacket(frame: Buffer, origLen = frame.length, bigEndian = false): Buffer {
  const head = Buffer.alloc(4);
  if (bigEndian) head.writeUInt32BE(origLen, 0);
  else head.writeUInt32LE(origLen, 0);
  return block(3, Buffer.concat([head, frame, Buffer.alloc(pad4(frame.length) - frame.length)]), bigEndian);
}

/** Any other block type (for testing that readers skip what they don't know). */
export function pcapngCustomBlock(type: number, body: Buffer, bigEndian = false): Buffer {
  return block(type, Buffer.concat([body, Buffer.alloc(pad4(body.length) - body.length)]), bigEndian);
}
