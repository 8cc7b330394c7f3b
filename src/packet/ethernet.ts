/** Ethernet II (IEEE 802.3) with 802.1Q, 802.1ad (QinQ) and legacy 0x9100 VLAN tags. */
import type { Packet } from './packet.ts';
import { readMac } from './address.ts';

export const EtherType = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPV6: 0x86dd, QINQ: 0x88a8, QINQ_OLD: 0x9100 } as const;
/** Deeper tag stacks than this are not real networks: stop and count the frame as malformed. */
const MAX_VLAN_TAGS = 4;

/** Decodes the Ethernet header and VLAN tags; returns the offset of the network layer, or a negative value when malformed. */
export function decodeEthernet(pkt: Packet, buf: Buffer): number {
  if (buf.length < 14) return -1;
  pkt.dstMac = readMac(buf, 0);
  pkt.srcMac = readMac(buf, 6);
  let type = buf.readUInt16BE(12);
  let off = 14;
  let tags = 0;
  while (type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_OLD) {
    if (++tags > MAX_VLAN_TAGS || buf.length < off + 4) return -1;
    const vid = buf.readUInt16BE(off) & 0x0fff;
    // The first tag is the outer (service) one; the last is the customer VLAN a device lives on.
    if (pkt.vlan >= 0) pkt.vlanOuter = pkt.vlan;
    pkt.vlan = vid;
    type = buf.readUInt16BE(off + 2);
    off += 4;
  }
  // Lengths below 0x600 are 802.3 frames with LLC (STP, CDP…): not IP.
  pkt.etherType = type;
  return off;
}
