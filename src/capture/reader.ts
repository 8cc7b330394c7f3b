/**
 * A streaming capture reader: feed it chunks of any size from any source (file, stdin, a tcpdump
 * pipe); it recognises pcap or pcapng by the first bytes and calls back once per frame.
 *
 * Memory: it holds at most one incomplete record between chunks (bounded by MAX_FRAME_LEN), so a
 * capture of any size streams through in constant space.
 */
import { CaptureError, type CaptureRecord, newCaptureRecord } from './record.ts';
import { type PcapHeader, PCAP_HEADER_LEN, parsePcapHeader, parsePcapRecords, pcapRecordNeed } from './pcap.ts';
import { PcapngState, isPcapng, parsePcapngBlocks, pcapngBlockNeed } from './pcapng.ts';

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CaptureReaderStats {
  format: CaptureFormat | undefined;
  bytes: number;
  frames: number;
  /** Frames or blocks skipped inside an otherwise readable file, by reason. */
  skipped: Map<string, number>;
}

export class CaptureReader {
  readonly stats: CaptureReaderStats = { format: undefined, bytes: 0, frames: 0, skipped: new Map() };
  private pcap: PcapHeader | undefined;
  private ng: PcapngState | undefined;
  private carry: Buffer | undefined;
  /** File offset of carry[0] (or of the next chunk's first byte when there is no carry). */
  private offset = 0;
  private readonly rec: CaptureRecord = newCaptureRecord();
  private readonly onSkipped = (reason: string) => {
    this.stats.skipped.set(reason, (this.stats.skipped.get(reason) ?? 0) + 1);
  };

  constructor(private readonly onRecord: (rec: CaptureRecord) => void) {}

  get format(): CaptureFormat | undefined {
    return this.stats.format;
  }

  /** Link type of a classic pcap file (pcapng has one per interface). */
  get pcapLinkType(): number | undefined {
    return this.pcap?.linkType;
  }

  /** Feeds the next bytes. Throws CaptureError when the input is not a capture or is corrupt beyond repair. */
  push(chunk: Buffer): void {
    this.stats.bytes += chunk.length;
    let buf = chunk;
    let pos = 0;
    if (this.stats.format === undefined) {
      if (this.carry !== undefined) {
        buf = Buffer.concat([this.carry, chunk]);
        this.carry = undefined;
      }
      if (buf.length < PCAP_HEADER_LEN) {
        this.carry = Buffer.from(buf);
        return;
      }
      if (isPcapng(buf, 0)) {
        this.stats.format = 'pcapng';
        this.ng = new PcapngState();
      } else {
        const h = parsePcapHeader(buf, 0);
        if (h === undefined) throw notACapture(buf);
        this.pcap = h;
        this.stats.format = 'pcap';
        pos = PCAP_HEADER_LEN;
        this.offset = PCAP_HEADER_LEN;
      }
    } else if (this.carry !== undefined) {
      // A record straddles the chunk boundary: complete it from the new chunk (a small copy of one
      // record), rather than concatenating the whole chunk behind the tail.
      pos = this.completeCarry(chunk);
      if (this.carry !== undefined) return;
    }
    const start = pos;
    pos = this.parse(buf, pos);
    this.offset += pos - start;
    this.stats.frames = this.rec.frame;
    if (pos < buf.length) {
      // Copy so the (possibly large) chunk is not kept alive by a small tail.
      this.carry = Buffer.from(buf.subarray(pos));
    }
  }

  private parse(buf: Buffer, pos: number): number {
    if (this.pcap !== undefined) return parsePcapRecords(this.pcap, buf, pos, buf.length, this.offset, this.rec, this.onRecord);
    return parsePcapngBlocks(this.ng as PcapngState, buf, pos, buf.length, this.offset, this.rec, this.onRecord, this.onSkipped);
  }

  /** Bytes the record at the start of `b` needs in all (a header's worth when even that is incomplete). */
  private need(b: Buffer): number {
    return this.pcap !== undefined ? pcapRecordNeed(this.pcap, b, 0, b.length) : pcapngBlockNeed(this.ng as PcapngState, b, 0, b.length);
  }

  /** Moves bytes from `chunk` into the carry until it holds whole records, parses them; returns bytes of `chunk` used. */
  private completeCarry(chunk: Buffer): number {
    let used = 0;
    while (this.carry !== undefined) {
      const carry = this.carry;
      // Parsing first validates the record header (corrupt lengths throw) before we grow anything.
      const consumed = this.parse(carry, 0);
      if (consumed > 0) {
        this.offset += consumed;
        this.stats.frames = this.rec.frame;
        this.carry = consumed < carry.length ? Buffer.from(carry.subarray(consumed)) : undefined;
        continue;
      }
      const need = this.need(carry);
      if (carry.length >= need) throw new CaptureError('corrupt record length', this.offset, this.rec.frame + 1);
      const take = Math.min(need - carry.length, chunk.length - used);
      if (take <= 0) return used;
      this.carry = Buffer.concat([carry, chunk.subarray(used, used + take)]);
      used += take;
    }
    return used;
  }

  /** Call at end of input. Throws CaptureError if the input was empty, not a capture, or ends inside a record. */
  end(): void {
    if (this.stats.format === undefined) {
      const c = this.carry ?? Buffer.alloc(0);
      if (c.length === 0) throw new CaptureError('empty input: no capture data', 0, 0);
      if (c.length >= 4 && !knownMagic(c)) throw notACapture(c);
      throw new CaptureError(`capture header truncated: only ${c.length} bytes`, 0, 0);
    }
    if (this.carry !== undefined && this.carry.length > 0) {
      const have = this.carry.length;
      const need =
        this.pcap !== undefined
          ? pcapRecordNeed(this.pcap, this.carry, 0, have)
          : pcapngBlockNeed(this.ng as PcapngState, this.carry, 0, have);
      this.carry = undefined;
      throw new CaptureError(
        `capture truncated: the last record needs ${need} bytes but only ${have} remain`,
        this.offset,
        this.rec.frame + 1,
      );
    }
  }
}

function knownMagic(b: Buffer): boolean {
  const le = b.readUInt32LE(0);
  return le === 0x0a0d0d0a || le === 0xa1b2c3d4 || le === 0xa1b23c4d || le === 0xd4c3b2a1 || le === 0x4d3cb2a1;
}

function notACapture(b: Buffer): CaptureError {
  return new CaptureError(`not a pcap or pcapng capture (starts with 0x${b.subarray(0, 4).toString('hex')})`, 0, 0);
}
