/** Ethernet II (IEEE 802.3) with 802.1Q, 802.1ad (QinQ) and legacy 0x9100 VLAN tags. */
import type { Packet } from './packet.ts';
import { readMac } from './address.ts';
import { u16 } from './bytes.ts';

export const EtherType = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPV6: 0x86dd, QINQ: 0x88a8, QINQ_OLD: 0x9100 } as const;
/** Deeper tag stacks than this are not real networks: stop and count the frame as malformed. */
const MAX_VLAN_TAGS = 4;

/** Decodes the Ethernet header and VLAN tags; returns the offset of the network layer, or a negative value when malformed. */
export function decodeEthernet(pkt: Packet, buf: Buffer, start: number, end: number): number {
  if (end - start < 14) return -1;
  pkt.dstMac = readMac(buf, start);
  pkt.srcMac = readMac(buf, start + 6);
  let type = u16(buf, start + 12);
  let off = start + 14;
  let tags = 0;
  while (type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_OLD) {
    if (++tags > MAX_VLAN_TAGS || end < off + 4) return -1;
    const vid = u16(buf, off) & 0x0fff;
    // The first tag is the outer (service) one; the last is the customer VLAN a device lives on.
    if (pkt.vlan >= 0) pkt.vlanOuter = pkt.vlan;
    pkt.vlan = vid;
    type = u16(buf, off + 2);
    off += 4;
  }
  // Lengths below 0x600 are 802.3 frames with LLC (STP, CDP…): not IP.
  pkt.etherType = type;
  return off;
}
