/**
 * A flow: the packets between two endpoints on one 5-tuple (plus VLAN), oriented client → server.
 *
 * The client is the side that opened the conversation (sent the SYN, or the first datagram); when
 * the capture starts mid-conversation the orientation is a best guess (a SYN+ACK alone makes its
 * receiver the client; otherwise the lower port is taken as the server).
 */
import type { StreamSession } from '../protocols/dissector.ts';
import type { Dissector } from '../protocols/dissector.ts';
import type { TcpStream } from './reassembly.ts';

export const TcpState = {
  NONE: 'none',
  SYN_SENT: 'syn_sent',
  SYN_RECEIVED: 'syn_received',
  ESTABLISHED: 'established',
  MIDSTREAM: 'midstream',
  CLOSING: 'closing',
  CLOSED: 'closed',
  RESET: 'reset',
} as const;
export type TcpStateName = (typeof TcpState)[keyof typeof TcpState];

/** Why a flow record was written. */
export type FlowEnd = 'idle' | 'active' | 'closed' | 'end' | 'evicted';

/** Timeout class: which LRU list the flow lives on (each list has one idle timeout). */
export const enum TimeoutClass {
  Closed = 0,
  Short = 1,
  Established = 2,
}

export class Flow {
  // identity
  hash = 0;
  bucketNext: Flow | undefined = undefined;
  ipVersion = 4;
  proto = 0;
  vlan = -1;
  client4 = 0;
  server4 = 0;
  /** IPv6 addresses as 16-character latin1 strings, for comparison. */
  client6 = '';
  server6 = '';
  clientPort = 0;
  serverPort = 0;
  clientMac = -1;
  serverMac = -1;
  clientIp = '';
  serverIp = '';
  // counters (index 0: client → server, 1: server → client)
  firstSeen = 0;
  lastSeen = 0;
  /** Start of the current reporting interval (reset by the active timeout). */
  intervalStart = 0;
  packets0 = 0;
  packets1 = 0;
  bytes0 = 0;
  bytes1 = 0;
  payload0 = 0;
  payload1 = 0;
  /** Frame number of the first packet (evidence). */
  firstFrame = 0;

  // TCP
  tcpState: TcpStateName = TcpState.NONE;
  fin0 = false;
  fin1 = false;
  synSeen = false;
  synAckSeen = false;
  /** Initial sequence numbers from SYN / SYN+ACK; -1 when not seen. */
  isn0 = -1;
  isn1 = -1;

  // protocol dispatch
  /** Name of the dissector that claimed the flow; '' when none (yet). */
  app = '';
  /** Payload packets probed without a claim; probing stops after a few. */
  probed = 0;
  udp: Dissector | undefined = undefined;
  session: StreamSession | undefined = undefined;
  stream0: TcpStream | undefined = undefined;
  stream1: TcpStream | undefined = undefined;
  gaps = 0;

  // LRU list membership (by timeout class)
  timeoutClass: TimeoutClass = TimeoutClass.Short;
  prev: Flow | undefined = undefined;
  next: Flow | undefined = undefined;

  constructor(public id: number) {}

  /** Puts every field back to its initial value: the flow table reuses Flow objects (no garbage per flow). */
  reset(id: number): void {
    this.id = id;
    this.hash = 0;
    this.bucketNext = undefined;
    this.ipVersion = 4;
    this.proto = 0;
    this.vlan = -1;
    this.client4 = 0;
    this.server4 = 0;
    this.client6 = '';
    this.server6 = '';
    this.clientPort = 0;
    this.serverPort = 0;
    this.clientMac = -1;
    this.serverMac = -1;
    this.clientIp = '';
    this.serverIp = '';
    this.firstSeen = 0;
    this.lastSeen = 0;
    this.intervalStart = 0;
    this.packets0 = 0;
    this.packets1 = 0;
    this.bytes0 = 0;
    this.bytes1 = 0;
    this.payload0 = 0;
    this.payload1 = 0;
    this.firstFrame = 0;
    this.tcpState = TcpState.NONE;
    this.fin0 = false;
    this.fin1 = false;
    this.synSeen = false;
    this.synAckSeen = false;
    this.isn0 = -1;
    this.isn1 = -1;
    this.app = '';
    this.probed = 0;
    this.udp = undefined;
    this.session = undefined;
    this.stream0 = undefined;
    this.stream1 = undefined;
    this.gaps = 0;
    this.timeoutClass = TimeoutClass.Short;
    this.prev = undefined;
    this.next = undefined;
  }
}

/** What `vigil analyze --flows` writes, one JSON line per flow (and per active-timeout interval). */
export interface FlowRecord {
  id: number;
  start: number;
  end: number;
  proto: string;
  ipVersion: number;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  clientMac?: string;
  serverMac?: string;
  vlan?: number;
  clientPackets: number;
  serverPackets: number;
  clientBytes: number;
  serverBytes: number;
  clientPayloadBytes: number;
  serverPayloadBytes: number;
  tcpState?: TcpStateName;
  app?: string;
  gaps?: number;
  reason: FlowEnd;
  firstFrame: number;
}

export function protoName(proto: number): string {
  switch (proto) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 1:
      return 'icmp';
    case 58:
      return 'icmpv6';
    default:
      return String(proto);
  }
}
