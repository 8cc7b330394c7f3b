/**
 * Linux "cooked" capture headers (tcpdump `-i any`): SLL (16 bytes) and SLL2 (20 bytes).
 * They carry the EtherType of the payload and the sender's link address (a MAC on Ethernet).
 */
import type { Packet } from './packet.ts';
import { readMac } from './address.ts';

const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

/** Returns the network-layer offset, or -1 when the header is short. */
export function decodeSll(pkt: Packet, buf: Buffer): number {
  if (buf.length < 16) return -1;
  const hatype = buf.readUInt16BE(2);
  const alen = buf.readUInt16BE(4);
  if ((hatype === ARPHRD_ETHER || hatype === ARPHRD_LOOPBACK) && alen === 6) pkt.srcMac = readMac(buf, 6);
  pkt.etherType = buf.readUInt16BE(14);
  return 16;
}

export function decodeSll2(pkt: Packet, buf: Buffer): number {
  if (buf.length < 20) return -1;
  pkt.etherType = buf.readUInt16BE(0);
  const hatype = buf.readUInt16BE(8);
  const alen = buf[11] ?? 0;
  if ((hatype === ARPHRD_ETHER || hatype === ARPHRD_LOOPBACK) && alen === 6) pkt.srcMac = readMac(buf, 12);
  return 20;
}
