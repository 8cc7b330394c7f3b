/**
 * Frame → Packet: link layer, IP (with fragment reassembly), transport. Never throws on bad bytes:
 * it returns why a frame could not be decoded, and the caller counts the reasons.
 */
import { LinkType, type CaptureRecord } from '../capture/record.ts';
import { decodeEthernet, EtherType } from './ethernet.ts';
import { FragmentReassembler } from './fragments.ts';
import { decodeIcmp } from './icmp.ts';
import { decodeIpv4, IPV4_MF } from './ipv4.ts';
import { decodeIpv6, lastFragment } from './ipv6.ts';
import { IpProto, type Packet } from './packet.ts';
import { decodeSll, decodeSll2 } from './sll.ts';
import { decodeTcp } from './tcp.ts';
import { decodeUdp } from './udp.ts';

/** Why a frame did not yield a complete IP packet. `undefined` means decoded. */
export const Skip = {
  linkType: 'unsupported link type',
  linkShort: 'truncated link-layer header',
  nonIp: 'not IP (ARP, LLDP, STP …)',
  ipMalformed: 'malformed IP header',
  fragmentHeld: 'IP fragment held for reassembly',
  tcpMalformed: 'malformed TCP header',
  udpMalformed: 'malformed UDP header',
  icmpMalformed: 'malformed ICMP header',
} as const;
export type SkipReason = (typeof Skip)[keyof typeof Skip];

export class PacketDecoder {
  readonly fragments = new FragmentReassembler();

  /** Decodes `rec` into `pkt` (which is reset first). */
  decode(rec: CaptureRecord, pkt: Packet): SkipReason | undefined {
    pkt.reset();
    pkt.frame = rec.frame;
    pkt.tsSec = rec.tsSec;
    pkt.tsNsec = rec.tsNsec;
    pkt.time = rec.tsSec + rec.tsNsec / 1e9;
    pkt.origLen = rec.origLen;
    pkt.linkType = rec.linkType;
    const buf = rec.buf;
    const start = rec.start;
    const end = start + rec.capLen;
    pkt.buf = buf;
    let off: number;
    let etherType: number;
    switch (rec.linkType) {
      case LinkType.ETHERNET:
        off = decodeEthernet(pkt, buf, start, end);
        etherType = pkt.etherType;
        break;
      case LinkType.RAW:
      case LinkType.RAW_DLT12:
      case LinkType.RAW_DLT14:
      case LinkType.IPV4:
      case LinkType.IPV6:
        off = start;
        etherType = end > start && (buf[start] as number) >> 4 === 6 ? EtherType.IPV6 : EtherType.IPV4;
        break;
      case LinkType.LINUX_SLL:
        off = decodeSll(pkt, buf, start, end);
        etherType = pkt.etherType;
        break;
      case LinkType.LINUX_SLL2:
        off = decodeSll2(pkt, buf, start, end);
        etherType = pkt.etherType;
        break;
      case LinkType.NULL:
      case LinkType.LOOP: {
        if (end - start < 4) return Skip.linkShort;
        // The address family is in the writer's byte order (NULL) or network order (LOOP); IPv6 has several values by OS.
        const fam = rec.linkType === LinkType.LOOP ? buf.readUInt32BE(start) : buf.readUInt32LE(start) > 0xffff ? buf.readUInt32BE(start) : buf.readUInt32LE(start);
        off = start + 4;
        etherType = fam === 2 ? EtherType.IPV4 : fam === 24 || fam === 28 || fam === 30 ? EtherType.IPV6 : 0;
        break;
      }
      default:
        return Skip.linkType;
    }
    if (off < 0) return Skip.linkShort;
    pkt.etherType = etherType;
    if (etherType === EtherType.IPV4) {
      const r = decodeIpv4(pkt, buf, off, end);
      if (r === 'malformed') return Skip.ipMalformed;
      if (r === 'fragment') {
        const fo = buf.readUInt16BE(off + 6);
        if (!this.fragments.add(pkt, (fo & 0x1fff) * 8, (fo & IPV4_MF) !== 0, 0)) return Skip.fragmentHeld;
      }
    } else if (etherType === EtherType.IPV6) {
      const r = decodeIpv6(pkt, buf, off, end);
      if (r === 'malformed') return Skip.ipMalformed;
      if (r === 'fragment') {
        if (!this.fragments.add(pkt, lastFragment.offset, lastFragment.more, lastFragment.headerEnd)) return Skip.fragmentHeld;
      }
    } else return Skip.nonIp;
    return this.decodeTransport(pkt);
  }

  private decodeTransport(pkt: Packet): SkipReason | undefined {
    const buf = pkt.buf;
    switch (pkt.proto) {
      case IpProto.TCP:
        return decodeTcp(pkt, buf) ? undefined : Skip.tcpMalformed;
      case IpProto.UDP:
        return decodeUdp(pkt, buf) ? undefined : Skip.udpMalformed;
      case IpProto.ICMP:
      case IpProto.ICMPV6:
        return decodeIcmp(pkt, buf) ? undefined : Skip.icmpMalformed;
      default:
        // Other IP protocols (GRE, ESP, IGMP, OSPF …) are still IP traffic between hosts: flows count them.
        return undefined;
    }
  }
}
