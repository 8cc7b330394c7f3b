/**
 * A decoded packet: numbers and offsets into one Buffer, no copies.
 *
 * The decoder reuses one Packet for every frame (a SPAN port runs at millions of frames per
 * second; an object per frame would be the main cost). Consumers read it during the call and copy
 * what they keep. MAC addresses are 48-bit integers and IPv4 addresses 32-bit integers so that
 * hashing and comparing them allocates nothing; format them with the helpers in address.ts.
 */
export const IpProto = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export class Packet {
  frame = 0;
  tsSec = 0;
  tsNsec = 0;
  /** Capture time in seconds (float), for timeouts and rates. */
  time = 0;
  origLen = 0;
  linkType = 0;

  /** Source/destination MAC as 48-bit integers; -1 when the link layer has none (raw IP, some SLL). */
  srcMac = -1;
  dstMac = -1;
  /** Innermost 802.1Q VLAN id; -1 when untagged. `vlanOuter` is the service tag of QinQ. */
  vlan = -1;
  vlanOuter = -1;
  /** EtherType of the network layer (0x0800, 0x86dd, 0x0806 …); 0 for raw IP links. */
  etherType = 0;

  /** Buffer holding the network layer onwards (a reassembled datagram has its own). */
  buf: Buffer = Buffer.alloc(0);
  /** 4 or 6; 0 when the frame carries no IP. */
  ipVersion = 0;
  netOffset = 0;
  /** IPv4 addresses as unsigned 32-bit integers. */
  src4 = 0;
  dst4 = 0;
  /** IPv6 addresses: byte offsets of the 16-byte addresses in `buf`. */
  src6 = 0;
  dst6 = 0;
  ttl = 0;
  ipId = 0;
  /** IPv4 DF bit, for TCP fingerprints. */
  dontFragment = false;
  ipHeaderLen = 0;
  /** IPv4 header carried options (a p0f quirk; also unusual for end hosts). */
  ipOptions = false;
  /** Transport protocol number after extension headers; -1 for none. */
  proto = -1;
  /** True when this packet was rebuilt from IP fragments. */
  reassembled = false;

  l4Offset = 0;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  window = 0;
  tcpHeaderLen = 0;
  icmpType = -1;
  icmpCode = -1;

  payloadOffset = 0;
  payloadLength = 0;
  /** The IP total length promised more than the capture holds (snap length or damage). */
  truncated = false;

  /** The transport payload as a view (no copy). */
  payload(): Buffer {
    return this.buf.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  reset(): void {
    this.srcMac = -1;
    this.dstMac = -1;
    this.vlan = -1;
    this.vlanOuter = -1;
    this.etherType = 0;
    this.ipVersion = 0;
    this.proto = -1;
    this.reassembled = false;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.payloadOffset = 0;
    this.payloadLength = 0;
    this.truncated = false;
    this.ipOptions = false;
    this.dontFragment = false;
  }
}
