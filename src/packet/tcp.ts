/** TCP header (RFC 9293). Options are left in place for the SYN fingerprint to read. */
import type { Packet } from './packet.ts';
import { u16, u32 } from './bytes.ts';

export function decodeTcp(pkt: Packet, buf: Buffer): boolean {
  const off = pkt.payloadOffset;
  const avail = pkt.payloadLength;
  if (avail < 20) return false;
  const hlen = ((buf[off + 12] as number) >> 4) * 4;
  if (hlen < 20 || hlen > avail) return false;
  pkt.l4Offset = off;
  pkt.srcPort = u16(buf, off);
  pkt.dstPort = u16(buf, off + 2);
  pkt.seq = u32(buf, off + 4);
  pkt.ack = u32(buf, off + 8);
  pkt.tcpFlags = buf[off + 13] as number;
  pkt.window = u16(buf, off + 14);
  pkt.tcpHeaderLen = hlen;
  pkt.payloadOffset = off + hlen;
  pkt.payloadLength = avail - hlen;
  return true;
}
