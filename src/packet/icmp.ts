/** ICMP (RFC 792) and ICMPv6 (RFC 4443): type and code; the rest is left as payload. */
import type { Packet } from './packet.ts';

export function decodeIcmp(pkt: Packet, buf: Buffer): boolean {
  const off = pkt.payloadOffset;
  if (pkt.payloadLength < 4) return false;
  pkt.l4Offset = off;
  pkt.icmpType = buf[off] as number;
  pkt.icmpCode = buf[off + 1] as number;
  pkt.payloadOffset = off + 4;
  pkt.payloadLength -= 4;
  return true;
}
