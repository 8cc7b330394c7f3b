/**
 * Linux "cooked" capture headers (tcpdump `-i any`): SLL (16 bytes) and SLL2 (20 bytes).
 * They carry the EtherType of the payload and the sender's link address (a MAC on Ethernet).
 */
import type { Packet } from './packet.ts';
import { readMac } from './address.ts';

const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

/** Returns the network-layer offset, or -1 when the header is short. */
export function decodeSll(pkt: Packet, buf: Buffer, s: number, end: number): number {
  if (end - s < 16) return -1;
  const hatype = buf.readUInt16BE(s + 2);
  const alen = buf.readUInt16BE(s + 4);
  if ((hatype === ARPHRD_ETHER || hatype === ARPHRD_LOOPBACK) && alen === 6) pkt.srcMac = readMac(buf, s + 6);
  pkt.etherType = buf.readUInt16BE(s + 14);
  return s + 16;
}

export function decodeSll2(pkt: Packet, buf: Buffer, s: number, end: number): number {
  if (end - s < 20) return -1;
  pkt.etherType = buf.readUInt16BE(s);
  const hatype = buf.readUInt16BE(s + 8);
  const alen = buf[s + 11] ?? 0;
  if ((hatype === ARPHRD_ETHER || hatype === ARPHRD_LOOPBACK) && alen === 6) pkt.srcMac = readMac(buf, s + 12);
  return s + 20;
}
