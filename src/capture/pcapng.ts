/**
 * pcapng (draft-ietf-opsawg-pcapng): sections of blocks, each `type, total length, body, total length`.
 * Section Header Blocks set the byte order; Interface Description Blocks give each interface its
 * link type, snap length and timestamp resolution (if_tsresol) and offset (if_tsoffset);
 * Enhanced, Simple and the obsolete Packet blocks carry frames. Every other block is skipped by
 * its length, so new block types never stop a read.
 */
import { CaptureError, type CaptureRecord } from './record.ts';
import { MAX_FRAME_LEN } from './pcap.ts';
import { u16 as u16be, u16le, u32 as u32be, u32le } from '../packet/bytes.ts';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
/** A block larger than this is corruption (pcapng allows 4 GiB; no real reader accepts that). */
const MAX_BLOCK_LEN = MAX_FRAME_LEN + 65_536;
/** More interfaces than this in one section is corruption, not a capture. */
const MAX_INTERFACES = 65_536;

interface Iface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per second: 10^n or 2^n (if_tsresol); 1e6 by default. */
  unitsPerSec: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  tsOffset: number;
}

export class PcapngState {
  littleEndian = true;
  ifaces: Iface[] = [];
  sections = 0;
}

/** Is this the start of a pcapng file? (The SHB type is a byte-order palindrome.) */
export function isPcapng(buf: Buffer, offset: number): boolean {
  return buf.length - offset >= 12 && buf.readUInt32LE(offset) === PCAPNG_SHB;
}

/**
 * Parses the complete blocks in `buf[offset..end)`; returns the offset after the last complete one.
 * Throws CaptureError on corrupt block framing (lengths that cannot be, a section with no byte-order magic).
 */
export function parsePcapngBlocks(
  st: PcapngState,
  buf: Buffer,
  offset: number,
  end: number,
  fileOffset: number,
  rec: CaptureRecord,
  onRecord: (rec: CaptureRecord) => void,
  onSkipped: (reason: string) => void,
): number {
  let pos = offset;
  while (end - pos >= 12) {
    const at = fileOffset + (pos - offset);
    const typeLE = u32le(buf, pos);
    if (typeLE === PCAPNG_SHB) {
      // The byte order of a section is only known once its magic is read.
      const magicLE = u32le(buf, pos + 8);
      if (magicLE === BYTE_ORDER_MAGIC) st.littleEndian = true;
      else if (u32be(buf, pos + 8) === BYTE_ORDER_MAGIC) st.littleEndian = false;
      else throw new CaptureError('corrupt pcapng section header: byte-order magic missing', at, rec.frame);
    }
    const le = st.littleEndian;
    const type = le ? typeLE : u32be(buf, pos);
    const len = le ? u32le(buf, pos + 4) : u32be(buf, pos + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK_LEN) {
      throw new CaptureError(`corrupt pcapng block (type 0x${type.toString(16)}): length ${len}`, at, rec.frame);
    }
    if (end - pos < len) break;
    const trailer = le ? u32le(buf, pos + len - 4) : u32be(buf, pos + len - 4);
    if (trailer !== len) {
      throw new CaptureError(`corrupt pcapng block (type 0x${type.toString(16)}): trailing length ${trailer} != ${len}`, at, rec.frame);
    }
    const body = pos + 8;
    const bodyEnd = pos + len - 4;
    switch (type) {
      case PCAPNG_SHB:
        st.sections++;
        st.ifaces = [];
        break;
      case BLOCK_IDB:
        if (bodyEnd - body < 8) throw new CaptureError('corrupt pcapng interface block: too short', at, rec.frame);
        if (st.ifaces.length >= MAX_INTERFACES) throw new CaptureError('corrupt pcapng: too many interfaces', at, rec.frame);
        st.ifaces.push(readIdb(buf, body, bodyEnd, le));
        break;
      case BLOCK_EPB:
      case BLOCK_PB: {
        if (bodyEnd - body < 20) {
          onSkipped('pcapng packet block too short');
          break;
        }
        const ifId = type === BLOCK_EPB ? u32(buf, body, le) : u16(buf, body, le);
        const iface = st.ifaces[ifId];
        if (iface === undefined) {
          onSkipped('pcapng packet on undeclared interface');
          rec.frame++;
          break;
        }
        const hi = u32(buf, body + 4, le);
        const lo = u32(buf, body + 8, le);
        const capLen = u32(buf, body + 12, le);
        const origLen = u32(buf, body + 16, le);
        const data = body + 20;
        rec.frame++;
        if (capLen > bodyEnd - data) {
          onSkipped('pcapng captured length exceeds its block');
          break;
        }
        setTime(rec, hi, lo, iface);
        emit(rec, iface, ifId, at, buf, data, capLen, origLen, onRecord);
        break;
      }
      case BLOCK_SPB: {
        const iface = st.ifaces[0];
        rec.frame++;
        if (iface === undefined || bodyEnd - body < 4) {
          onSkipped('pcapng simple packet without interface');
          break;
        }
        const origLen = u32(buf, body, le);
        // SPBs carry no captured length: it is the smaller of the original length, the snap length and the room.
        let capLen = Math.min(origLen, bodyEnd - body - 4);
        if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
        rec.tsSec = 0;
        rec.tsNsec = 0;
        emit(rec, iface, 0, at, buf, body + 4, capLen, origLen, onRecord);
        break;
      }
      default:
        // Name resolution, statistics, decryption secrets, custom blocks…: nothing Vigil needs.
        break;
    }
    pos += len;
  }
  return pos;
}

/** Bytes needed to complete the block starting at `pos`, for truncation messages. */
export function pcapngBlockNeed(st: PcapngState, buf: Buffer, pos: number, end: number): number {
  if (end - pos < 12) return 12;
  return st.littleEndian ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
}

function emit(
  rec: CaptureRecord,
  iface: Iface,
  ifId: number,
  at: number,
  buf: Buffer,
  start: number,
  capLen: number,
  origLen: number,
  onRecord: (rec: CaptureRecord) => void,
): void {
  rec.linkType = iface.linkType;
  rec.interfaceId = ifId;
  rec.offset = at;
  rec.buf = buf;
  rec.start = start;
  rec.capLen = capLen;
  rec.origLen = origLen < capLen ? capLen : origLen;
  onRecord(rec);
}

function setTime(rec: CaptureRecord, hi: number, lo: number, iface: Iface): void {
  const ups = iface.unitsPerSec;
  if (hi < 0x200000) {
    // Fits in 53 bits: exact in doubles.
    const total = hi * 4294967296 + lo;
    const sec = Math.floor(total / ups);
    rec.tsSec = sec + iface.tsOffset;
    rec.tsNsec = Math.min(999_999_999, Math.round(((total - sec * ups) * 1e9) / ups));
  } else {
    const total = (BigInt(hi) << 32n) | BigInt(lo);
    const u = BigInt(ups);
    const sec = total / u;
    rec.tsSec = Number(sec) + iface.tsOffset;
    rec.tsNsec = Math.min(999_999_999, Number(((total - sec * u) * 1_000_000_000n) / u));
  }
}

function readIdb(buf: Buffer, body: number, bodyEnd: number, le: boolean): Iface {
  const iface: Iface = { linkType: u16(buf, body, le), snapLen: u32(buf, body + 4, le), unitsPerSec: 1e6, tsOffset: 0 };
  let p = body + 8;
  while (bodyEnd - p >= 4) {
    const code = u16(buf, p, le);
    const olen = u16(buf, p + 2, le);
    const v = p + 4;
    if (code === 0 || v + olen > bodyEnd) break; // opt_endofopt, or an option that overruns: stop reading options
    if (code === 9 && olen >= 1) {
      const r = buf[v] ?? 6;
      const exp = r & 0x7f;
      // Resolutions finer than 2^-63 / 10^-18 cannot be real; keep the default rather than divide by infinity.
      if (r & 0x80) iface.unitsPerSec = exp <= 63 ? 2 ** exp : 1e6;
      else iface.unitsPerSec = exp <= 18 ? 10 ** exp : 1e6;
      if (iface.unitsPerSec < 1) iface.unitsPerSec = 1;
    } else if (code === 14 && olen >= 8) {
      const off = le ? buf.readBigInt64LE(v) : buf.readBigInt64BE(v);
      iface.tsOffset = Number(off);
    }
    p = v + ((olen + 3) & ~3);
  }
  return iface;
}

// Unchecked reads (Buffer's own validate every call, a cost per block): callers bound-check first.
function u32(buf: Buffer, o: number, le: boolean): number {
  return le ? u32le(buf, o) : u32be(buf, o);
}
function u16(buf: Buffer, o: number, le: boolean): number {
  return le ? u16le(buf, o) : u16be(buf, o);
}
