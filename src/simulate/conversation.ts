/**
 * Conversations as generators of packets: a TCP connection (handshake with each stack's own SYN
 * options, data in MSS-sized segments with coherent sequence and acknowledgement numbers, delayed
 * ACKs, FIN teardown) or a UDP exchange. Each generator owns one PacketSpec and yields it once per
 * packet, mutated; large transfers are produced segment by segment, never held whole.
 */
import type { OsProfile } from './catalogue.ts';
import type { Rng } from './rng.ts';
import { PacketSpec, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type Endpoint, type LinkView } from './wire.ts';

/** A host as a conversation sees it: where it is and how its TCP stack behaves. */
export interface Host extends Endpoint {
  os: OsProfile;
}

/** A payload too large to hold: produced in pieces on demand. */
export interface Bulk {
  length: number;
  /** Bytes [offset, offset + n) of the payload. */
  slice(offset: number, n: number): Buffer;
}

export interface Message {
  /** 0: client → server, 1: server → client. */
  from: 0 | 1;
  data: Buffer | Bulk;
  /** Seconds the sender waits before sending (think time, processing). */
  delay?: number;
}

export interface TcpOptions {
  client: Host;
  server: Host;
  /** The link layer as the sensor sees packets from the client [0] and from the server [1]. */
  link: readonly [LinkView, LinkView];
  clientPort: number;
  serverPort: number;
  start: number;
  rng: Rng;
  /** One-way latency between the hosts, seconds. */
  latency?: number;
  /** How the connection ends: FIN handshake (default), RST from the server, or left open. */
  close?: 'fin' | 'rst' | 'open';
  /** The server never answers the SYN (closed port behind a firewall) or answers RST (closed port). */
  refuse?: 'rst' | 'silent';
  /** A half-open probe (nmap -sS): the client answers the SYN+ACK with a RST. */
  halfOpen?: boolean;
}

/** TCP options bytes for a SYN in p0f olayout notation ("mss,nop,ws,nop,nop,sok,ts"). */
export function synOptions(os: OsProfile, tsval: number, tsecr: number): { bytes: Buffer; ts: boolean } {
  const parts: number[] = [];
  let ts = false;
  for (const item of os.tcp.options.split(',')) {
    const it = item.trim();
    if (it === 'mss') parts.push(2, 4, (os.tcp.mss >> 8) & 0xff, os.tcp.mss & 0xff);
    else if (it === 'nop') parts.push(1);
    else if (it === 'ws') parts.push(3, 3, os.tcp.wscale ?? 0);
    else if (it === 'sok') parts.push(4, 2);
    else if (it === 'ts') {
      ts = true;
      parts.push(8, 10, (tsval >>> 24) & 0xff, (tsval >>> 16) & 0xff, (tsval >>> 8) & 0xff, tsval & 0xff, (tsecr >>> 24) & 0xff, (tsecr >>> 16) & 0xff, (tsecr >>> 8) & 0xff, tsecr & 0xff);
    } else if (it.startsWith('eol')) {
      parts.push(0);
      const pad = Number(it.split('+')[1] ?? 0);
      for (let i = 0; i < pad; i++) parts.push(0);
    }
  }
  while (parts.length % 4 !== 0) parts.push(0);
  return { bytes: Buffer.from(parts), ts };
}

function tsOption(tsval: number, tsecr: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 1;
  b[1] = 1;
  b[2] = 8;
  b[3] = 10;
  b.writeUInt32BE(tsval >>> 0, 4);
  b.writeUInt32BE(tsecr >>> 0, 8);
  return b;
}

function pieceOf(data: Buffer | Bulk, offset: number, n: number): Buffer {
  return Buffer.isBuffer(data) ? data.subarray(offset, offset + n) : data.slice(offset, n);
}

/** A whole TCP connection, packet by packet. */
export function* tcpConversation(o: TcpOptions, messages: Iterable<Message>): Generator<PacketSpec, void, void> {
  const p = new PacketSpec();
  const rng = o.rng;
  const lat = o.latency ?? 0.0002 + rng.next() * 0.0008;
  const hosts = [o.client, o.server] as const;
  const ports = [o.clientPort, o.serverPort] as const;
  const seq = [rng.u32(), rng.u32()];
  const ipId = [rng.int(65536), rng.int(65536)];
  const tsBase = [rng.u32() & 0x3fffffff, rng.u32() & 0x3fffffff];
  let t = o.start;
  const tsval = (side: 0 | 1) => (tsBase[side] as number) + Math.floor((t - o.start) * 1000);

  const set = (side: 0 | 1, flags: number, payload: Buffer, options?: Buffer) => {
    const other = side === 0 ? 1 : 0;
    p.time = t;
    p.src = hosts[side];
    p.dst = hosts[other];
    p.link = o.link[side];
    p.proto = 6;
    p.srcPort = ports[side];
    p.dstPort = ports[other];
    p.seq = seq[side] as number;
    p.ack = flags & TCP_ACK ? (seq[other] as number) : 0;
    p.flags = flags;
    p.window = hosts[side].os.tcp.window === 0 ? 65535 : hosts[side].os.tcp.window;
    p.tcpOptions = options;
    p.payload = payload;
    p.df = hosts[side].os.tcp.df;
    // A per-connection counter: what Windows and current Linux both send (p0f's "id+" with DF).
    p.ipId = ipId[side] = (((ipId[side] as number) + 1) & 0xffff) || 1;
  };

  // Handshake, each side with its own stack's SYN options (what p0f reads).
  const cSyn = synOptions(o.client.os, tsval(0), 0);
  set(0, TCP_SYN, EMPTY, cSyn.bytes);
  yield p;
  seq[0] = ((seq[0] as number) + 1) >>> 0;
  if (o.refuse === 'silent') return;
  t += lat * 2;
  if (o.refuse === 'rst') {
    set(1, TCP_RST | TCP_ACK, EMPTY);
    p.seq = 0;
    yield p;
    return;
  }
  const sSyn = synOptions(o.server.os, tsval(1), tsval(0));
  set(1, TCP_SYN | TCP_ACK, EMPTY, sSyn.bytes);
  yield p;
  seq[1] = ((seq[1] as number) + 1) >>> 0;
  if (o.halfOpen === true) {
    t += lat * 2;
    set(0, TCP_RST, EMPTY);
    yield p;
    return;
  }
  const ts = cSyn.ts && sSyn.ts;
  const opts = (side: 0 | 1) => (ts ? tsOption(tsval(side), tsval(side === 0 ? 1 : 0)) : undefined);
  t += lat * 2;
  set(0, TCP_ACK, EMPTY, opts(0));
  yield p;
  const mss = Math.max(536, Math.min(o.client.os.tcp.mss || 1460, o.server.os.tcp.mss || 1460) - (ts ? 12 : 0));

  let last: 0 | 1 = 0;
  for (const m of messages) {
    const side = m.from;
    const other: 0 | 1 = side === 0 ? 1 : 0;
    t += m.delay ?? 0.001;
    const len = m.data.length;
    let unacked = 0;
    for (let off = 0; off < len; off += mss) {
      const n = Math.min(mss, len - off);
      set(side, TCP_ACK | (off + n >= len ? TCP_PSH : 0), pieceOf(m.data, off, n), opts(side));
      yield p;
      seq[side] = ((seq[side] as number) + n) >>> 0;
      t += n * 8e-9 + 2e-6; // ~1 Gbit/s on the wire
      // The receiver ACKs every second full segment (RFC 9293 delayed ACK).
      if (++unacked === 2 && off + n < len) {
        // Time only moves forward within a conversation (the capture is in time order).
        t += 5e-6;
        set(other, TCP_ACK, EMPTY, opts(other));
        yield p;
        unacked = 0;
      }
    }
    last = side;
    // A bare ACK for the message's tail; a reply that follows soon piggybacks it instead, but a
    // separate ACK keeps every byte acknowledged for the sensor's and tshark's reading.
    t += lat;
    set(other, TCP_ACK, EMPTY, opts(other));
    yield p;
  }
  void last;
  if (o.close === 'open') return;
  t += 0.001;
  if (o.close === 'rst') {
    set(1, TCP_RST | TCP_ACK, EMPTY);
    yield p;
    return;
  }
  set(0, TCP_FIN | TCP_ACK, EMPTY, opts(0));
  yield p;
  seq[0] = ((seq[0] as number) + 1) >>> 0;
  t += lat;
  set(1, TCP_FIN | TCP_ACK, EMPTY, opts(1));
  yield p;
  seq[1] = ((seq[1] as number) + 1) >>> 0;
  t += lat;
  set(0, TCP_ACK, EMPTY, opts(0));
  yield p;
}

export interface Datagram {
  from: 0 | 1;
  data: Buffer;
  delay?: number;
  /** Addresses for datagrams that are not plain client↔server (DHCP from 0.0.0.0 to broadcast). */
  src?: Host;
  dst?: Host;
  link?: LinkView;
}

export interface UdpOptions {
  client: Host;
  server: Host;
  link: readonly [LinkView, LinkView];
  clientPort: number;
  serverPort: number;
  start: number;
  rng: Rng;
}

/** A UDP exchange (DNS, DHCP, SNMP, NTP …): datagrams in order. */
export function* udpExchange(o: UdpOptions, datagrams: Iterable<Datagram>): Generator<PacketSpec, void, void> {
  const p = new PacketSpec();
  const hosts = [o.client, o.server] as const;
  const ports = [o.clientPort, o.serverPort] as const;
  let ipId = o.rng.int(65536);
  let t = o.start;
  for (const d of datagrams) {
    t += d.delay ?? 0.0005;
    const side = d.from;
    const other = side === 0 ? 1 : 0;
    p.time = t;
    p.src = d.src ?? hosts[side];
    p.dst = d.dst ?? hosts[other];
    p.link = d.link ?? o.link[side];
    p.proto = 17;
    p.srcPort = ports[side];
    p.dstPort = ports[other];
    p.payload = d.data;
    p.tcpOptions = undefined;
    p.df = false;
    p.ipId = ipId = (ipId + 1) & 0xffff;
    yield p;
  }
}

const EMPTY = Buffer.alloc(0);
