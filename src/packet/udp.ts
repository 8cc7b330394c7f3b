/** UDP header (RFC 768). */
import type { Packet } from './packet.ts';
import { u16 } from './bytes.ts';

export function decodeUdp(pkt: Packet, buf: Buffer): boolean {
  const off = pkt.payloadOffset;
  const avail = pkt.payloadLength;
  if (avail < 8) return false;
  const len = u16(buf, off + 4);
  pkt.l4Offset = off;
  pkt.srcPort = u16(buf, off);
  pkt.dstPort = u16(buf, off + 2);
  pkt.payloadOffset = off + 8;
  // Length 0 is legal over IPv6 jumbograms; a length past the IP payload is truncation.
  if (len >= 8 && len <= avail) pkt.payloadLength = len - 8;
  else {
    if (len > avail) pkt.truncated = true;
    pkt.payloadLength = avail - 8;
  }
  return true;
}
