/**
 * The contract between the sensor and the protocol dissectors (one file per protocol in this folder).
 *
 * A dissector knows its protocol and nothing about devices: it reports what one side of a
 * conversation said about itself ("the client says its hostname is CT-03"), as ObservationDrafts.
 * The sensor turns drafts into Observations by adding who said it (MAC, IP), when, and in which
 * flow and frame. The inventory stage folds Observations into devices.
 *
 * Dissectors are pure functions of their input bytes: no I/O, no clocks, no globals. They must
 * never throw on bad bytes (property tests feed them random and mutated input); a dissector that
 * does throw is detached from that flow and the error counted, but that is a bug to fix.
 *
 * Privacy: payloads may carry patient data (HL7 PID, DICOM datasets, HTTP bodies). A dissector
 * keeps only what identifies devices, software and threats, and redacts the rest before it
 * leaves the dissector (see redact.ts).
 */

/** Which end of the flow an observation describes. */
export type Side = 'client' | 'server';

export interface ObservationDraft {
  /** Whose attribute this is: the flow's client (initiator) or server (responder). */
  side: Side;
  /** Dotted name, protocol first: 'dhcp.hostname', 'http.server', 'dicom.ae_title', 'os' … */
  attribute: string;
  value: string;
  /** How strongly the bytes support this value (0..1): a parsed field is ~0.9, a guess from a port ~0.3. */
  confidence?: number;
  /** A short redacted snippet of the bytes that said it, for an analyst asking "why?". */
  evidence?: string;
  /**
   * Override the subject's identity when the protocol names it explicitly and it differs from the
   * packet's addresses (a DHCP relay forwards the client's MAC in chaddr; a DHCP reply names yiaddr;
   * an mDNS announcement is about its sender). When either override is given, the subject is
   * exactly the overrides: the flow's addresses are not used for the other.
   */
  mac?: string;
  ip?: string;
}

/** What a dissector may read about the packet/flow it is looking at. Valid during the call only. */
export interface DissectContext {
  /** Flow id (stable for the flow's life): a key for per-flow state a datagram dissector keeps. */
  readonly flowId: number;
  readonly frame: number;
  /** Capture time, seconds since the epoch. */
  readonly time: number;
  /** 0: client → server (initiator to responder), 1: server → client. */
  readonly dir: 0 | 1;
  readonly clientIp: string;
  readonly serverIp: string;
  readonly clientPort: number;
  readonly serverPort: number;
  /** Source and destination of *this* packet (useful for UDP protocols that are not request/response). */
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcMac: string | undefined;
  readonly dstMac: string | undefined;
  readonly srcPort: number;
  readonly dstPort: number;
  emit(draft: ObservationDraft): void;
}

/** What the stream hands back after each chunk. */
export const enum StreamVerdict {
  /** Keep sending this flow's bytes. */
  More = 0,
  /** Nothing more to learn here: stop reassembling this flow for this dissector. */
  Done = 1,
}

/** Per-flow state of a TCP dissector. Data arrives in order, per direction, after reassembly. */
export interface StreamSession {
  /** In-order bytes of one direction. `chunk` is a view valid during the call only: copy what you keep. */
  data(chunk: Buffer, ctx: DissectContext): StreamVerdict;
  /** `length` bytes of direction `dir` were lost (capture loss, reassembly cap). Resynchronise or give up. */
  gap?(dir: 0 | 1, length: number): StreamVerdict;
  /** The flow ended (FIN/RST, timeout, end of capture). Flush anything half-parsed. */
  end?(ctx: DissectContext): void;
  /**
   * Bytes of direction `dir` the session would discard unread if fed now (the rest of a bulk
   * message it skips by length). The sensor then advances the stream without handing them over,
   * and calls `skipped`: bulk transfers cost almost nothing per packet.
   */
  skippable?(dir: 0 | 1): number;
  skipped?(dir: 0 | 1, n: number): void;
}

export interface Dissector {
  /** Protocol name: 'dhcp', 'dns', 'http', 'tls', 'smb', 'dicom', 'hl7' … also the observation prefix. */
  readonly name: string;
  readonly transport: 'udp' | 'tcp';
  /** Ports this protocol normally uses. A port match alone never claims a flow: `probe` must agree. */
  readonly ports: readonly number[];
  /**
   * Content signature: is `payload` (the first payload of a flow, either direction) this protocol?
   * Cheap, bounded, no allocation where possible. `portMatch` tells whether a known port matched, so a
   * weak signature can require it.
   */
  probe(payload: Buffer, dir: 0 | 1, portMatch: boolean): boolean;
  /** UDP: one datagram. */
  datagram?(payload: Buffer, ctx: DissectContext): void;
  /** TCP: a new session for a flow this dissector claimed. */
  openStream?(ctx: DissectContext): StreamSession;
}

/** Dissectors of TCP handshakes (p0f-style fingerprints) see SYN and SYN+ACK headers, not payload. */
export interface SynDissector {
  readonly name: string;
  /**
   * `tcp` is the TCP header and options (a view); `ip` the IP header. `synAck` tells which of the two.
   * Emits observations about the *sender* of this segment: side 'client' for SYN, 'server' for SYN+ACK.
   */
  syn(ip: SynIpInfo, tcp: Buffer, synAck: boolean, ctx: DissectContext): void;
}

export interface SynIpInfo {
  readonly version: 4 | 6;
  readonly ttl: number;
  /** IPv4 header length incl. options / IPv6 40 + extension headers. */
  readonly headerLength: number;
  readonly dontFragment: boolean;
  readonly ipId: number;
  readonly ipOptions: boolean;
  /** The IP header bytes (for quirk checks: ECN, flow label, reserved bits). */
  readonly header: Buffer;
  /** Total IP packet length as captured. */
  readonly totalLength: number;
}

/**
 * The packet's sender as an observation subject: for multicast and broadcast protocols (mDNS, LLMNR,
 * NetBIOS, SSDP) the device speaking about itself is whoever sent the datagram, not the flow's client.
 */
export function sender(ctx: DissectContext): { ip: string; mac?: string } {
  return ctx.srcMac !== undefined ? { ip: ctx.srcIp, mac: ctx.srcMac } : { ip: ctx.srcIp };
}
