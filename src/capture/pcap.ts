/**
 * Classic libpcap file format (tcpdump.org, draft-ietf-opsawg-pcap): a 24-byte file header, then
 * records of a 16-byte header and the frame. Both byte orders, microsecond (0xa1b2c3d4) and
 * nanosecond (0xa1b23c4d) magic numbers.
 *
 * Pure parser over bytes: the caller hands it contiguous bytes starting at a record boundary and
 * learns how many it consumed. No I/O here, so the same code reads files, stdin and tcpdump's pipe.
 */
import { CaptureError, type CaptureRecord } from './record.ts';
import { u32, u32le } from '../packet/bytes.ts';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
/** Larger than any real frame (jumbo frames, USB, 802.11 A-MSDU); beyond this a length is corruption. */
export const MAX_FRAME_LEN = 262_144 * 4;

export interface PcapHeader {
  littleEndian: boolean;
  nanos: boolean;
  versionMajor: number;
  versionMinor: number;
  snapLen: number;
  linkType: number;
}

/** Reads the 24-byte header; returns undefined when the magic is not pcap's. */
export function parsePcapHeader(buf: Buffer, offset: number): PcapHeader | undefined {
  if (buf.length - offset < PCAP_HEADER_LEN) return undefined;
  const le = buf.readUInt32LE(offset);
  const be = buf.readUInt32BE(offset);
  let littleEndian: boolean;
  let nanos: boolean;
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) {
    littleEndian = true;
    nanos = le === PCAP_MAGIC_NS;
  } else if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) {
    littleEndian = false;
    nanos = be === PCAP_MAGIC_NS;
  } else return undefined;
  const u16 = (o: number) => (littleEndian ? buf.readUInt16LE(offset + o) : buf.readUInt16BE(offset + o));
  const u32 = (o: number) => (littleEndian ? buf.readUInt32LE(offset + o) : buf.readUInt32BE(offset + o));
  // The link type's upper 16 bits may carry FCS flags (LINKTYPE_FCS); only the low 16 name the type.
  return { littleEndian, nanos, versionMajor: u16(4), versionMinor: u16(6), snapLen: u32(16), linkType: u32(20) & 0xffff };
}

/**
 * Parses as many complete records as `buf[offset..end)` holds, calling `onRecord` for each.
 * Returns the offset of the first unconsumed byte (the start of an incomplete record).
 * Throws CaptureError on a record header whose lengths are impossible (no resync is possible in pcap).
 */
export function parsePcapRecords(
  header: PcapHeader,
  buf: Buffer,
  offset: number,
  end: number,
  fileOffset: number,
  rec: CaptureRecord,
  onRecord: (rec: CaptureRecord) => void,
): number {
  const le = header.littleEndian;
  const fracScale = header.nanos ? 1 : 1000;
  let pos = offset;
  while (end - pos >= RECORD_HEADER_LEN) {
    const tsSec = le ? u32le(buf, pos) : u32(buf, pos);
    const tsFrac = le ? u32le(buf, pos + 4) : u32(buf, pos + 4);
    const capLen = le ? u32le(buf, pos + 8) : u32(buf, pos + 8);
    const origLen = le ? u32le(buf, pos + 12) : u32(buf, pos + 12);
    if (capLen > MAX_FRAME_LEN) {
      throw new CaptureError(
        `corrupt pcap record header: captured length ${capLen} exceeds ${MAX_FRAME_LEN} bytes`,
        fileOffset + (pos - offset),
        rec.frame + 1,
      );
    }
    if (end - pos < RECORD_HEADER_LEN + capLen) break;
    rec.frame++;
    rec.linkType = header.linkType;
    rec.tsSec = tsSec;
    // A fraction beyond one second is corrupt but harmless: clamp rather than stop.
    rec.tsNsec = Math.min(tsFrac * fracScale, 999_999_999);
    rec.origLen = origLen < capLen ? capLen : origLen;
    rec.interfaceId = 0;
    rec.offset = fileOffset + (pos - offset);
    rec.buf = buf;
    rec.start = pos + RECORD_HEADER_LEN;
    rec.capLen = capLen;
    onRecord(rec);
    pos += RECORD_HEADER_LEN + capLen;
  }
  return pos;
}

/** Bytes still needed to complete the record starting at `pos`, for truncation messages. */
export function pcapRecordNeed(header: PcapHeader, buf: Buffer, pos: number, end: number): number {
  if (end - pos < RECORD_HEADER_LEN) return RECORD_HEADER_LEN;
  const capLen = header.littleEndian ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8);
  return RECORD_HEADER_LEN + capLen;
}
