/**
 * One captured frame as a capture-file reader hands it on.
 *
 * Readers reuse a single CaptureRecord for every frame they parse (no allocation per packet).
 * The frame is `buf[start, start + capLen)`: a window onto the reader's chunk, valid only during
 * the callback. Anything kept beyond it must be copied.
 */
export class CaptureRecord {
  /** 1-based frame number within the whole input, as tshark and Wireshark count. */
  frame = 0;
  /** Link-layer header type (LINKTYPE_* from the tcpdump.org registry). */
  linkType = 0;
  /** Capture time: whole seconds since the Unix epoch. */
  tsSec = 0;
  /** Capture time: nanoseconds within the second. */
  tsNsec = 0;
  /** Length of the frame on the wire (may exceed capLen when the snap length cut it). */
  origLen = 0;
  /** Which interface it was captured on (pcapng interface id; 0 for pcap). */
  interfaceId = 0;
  /** File offset of the record, for error messages. */
  offset = 0;
  buf: Buffer = EMPTY;
  start = 0;
  capLen = 0;

  /** The frame as its own Buffer view (allocates a view: the hot path uses buf/start/capLen). */
  get data(): Buffer {
    return this.buf.subarray(this.start, this.start + this.capLen);
  }
  set data(b: Buffer) {
    this.buf = b;
    this.start = 0;
    this.capLen = b.length;
  }
}

const EMPTY = Buffer.alloc(0);

export function newCaptureRecord(): CaptureRecord {
  return new CaptureRecord();
}

/** Link types Vigil decodes; the rest are counted and skipped. */
export const LinkType = {
  NULL: 0, // BSD loopback: 4-byte address family in host byte order
  ETHERNET: 1,
  RAW_DLT12: 12, // DLT_RAW on most BSDs and Linux libpcap < 1.0 files
  RAW_DLT14: 14, // DLT_RAW on OpenBSD
  RAW: 101,
  LOOP: 108, // OpenBSD loopback: address family in network byte order
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** A capture-file problem that stops reading: names the byte offset (and frame) so a user can look. */
export class CaptureError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly frame: number,
  ) {
    super(message);
    this.name = 'CaptureError';
  }
}
