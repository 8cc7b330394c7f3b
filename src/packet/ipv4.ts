/** IPv4 (RFC 791): header, options skipped by IHL, fragment fields for reassembly. */
import type { Packet } from './packet.ts';
import { u16, u32 } from './bytes.ts';

export const IPV4_MF = 0x2000;
export const IPV4_DF = 0x4000;

export type Ipv4Result = 'ok' | 'fragment' | 'malformed';

/** Decodes the IPv4 header at `off`. Sets payload offset/length to the IP payload. */
export function decodeIpv4(pkt: Packet, buf: Buffer, off: number, frameEnd: number): Ipv4Result {
  if (frameEnd - off < 20) return 'malformed';
  const vihl = buf[off] as number;
  if (vihl >> 4 !== 4) return 'malformed';
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20 || frameEnd - off < ihl) return 'malformed';
  const total = u16(buf, off + 2);
  if (total < ihl) return 'malformed';
  pkt.ipVersion = 4;
  pkt.netOffset = off;
  pkt.ipHeaderLen = ihl;
  pkt.ipOptions = ihl > 20;
  pkt.ipId = u16(buf, off + 4);
  const frag = u16(buf, off + 6);
  pkt.dontFragment = (frag & IPV4_DF) !== 0;
  pkt.ttl = buf[off + 8] as number;
  pkt.proto = buf[off + 9] as number;
  pkt.src4 = u32(buf, off + 12);
  pkt.dst4 = u32(buf, off + 16);
  let end = off + total;
  // Ethernet pads short frames; a capture may cut long ones (snap length). Trust the smaller.
  if (end > frameEnd) {
    pkt.truncated = true;
    end = frameEnd;
  }
  pkt.payloadOffset = off + ihl;
  pkt.payloadLength = end - (off + ihl);
  if ((frag & IPV4_MF) !== 0 || (frag & 0x1fff) !== 0) return 'fragment';
  return 'ok';
}
