/** UDP header (RFC 768). */
import type { Packet } from './packet.ts';

export function decodeUdp(pkt: Packet, buf: Buffer): boolean {
  const off = pkt.payloadOffset;
  const avail = pkt.payloadLength;
  if (avail < 8) return false;
  const len = buf.readUInt16BE(off + 4);
  pkt.l4Offset = off;
  pkt.srcPort = buf.readUInt16BE(off);
  pkt.dstPort = buf.readUInt16BE(off + 2);
  pkt.payloadOffset = off + 8;
  // Length 0 is legal over IPv6 jumbograms; a length past the IP payload is truncation.
  if (len >= 8 && len <= avail) pkt.payloadLength = len - 8;
  else {
    if (len > avail) pkt.truncated = true;
    pkt.payloadLength = avail - 8;
  }
  return true;
}
