/**
 * One captured frame as a capture-file reader hands it on.
 *
 * Readers reuse a single CaptureRecord for every frame they parse (no allocation per packet);
 * `data` is a view into the reader's chunk, valid only during the callback. Anything kept
 * beyond it must be copied.
 */
export interface CaptureRecord {
  /** 1-based frame number within the whole input, as tshark and Wireshark count. */
  frame: number;
  /** Link-layer header type (LINKTYPE_* from the tcpdump.org registry). */
  linkType: number;
  /** Capture time: whole seconds since the Unix epoch. */
  tsSec: number;
  /** Capture time: nanoseconds within the second. */
  tsNsec: number;
  /** Length of the frame on the wire (may exceed data.length when the snap length cut it). */
  origLen: number;
  /** Which interface it was captured on (pcapng interface id; 0 for pcap). */
  interfaceId: number;
  /** File offset of the record, for error messages. */
  offset: number;
  data: Buffer;
}

export function newCaptureRecord(): CaptureRecord {
  return { frame: 0, linkType: 0, tsSec: 0, tsNsec: 0, origLen: 0, interfaceId: 0, offset: 0, data: Buffer.alloc(0) };
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
