/**
 * The flow table: 5-tuple (+VLAN) → Flow, with idle timeouts, an active timeout, and a hard cap.
 *
 * Lookups hash the integer fields of the packet (no strings, no allocation) into a Map of buckets.
 * Each flow sits on one of three LRU lists by timeout class (closed, short, established); every
 * list has a single idle timeout, so expiry only ever looks at list heads. When the table is full
 * the least recently seen flow is evicted (and counted), so memory is bounded whatever the traffic.
 */
import { ipv4ToString, ipv6ToString, macToString } from '../packet/address.ts';
import { IpProto, TcpFlag, type Packet } from '../packet/packet.ts';
import { Flow, TcpState, TimeoutClass, type FlowEnd } from './flow.ts';

export interface FlowTimeouts {
  /** TCP after FIN from both sides or RST. */
  closed: number;
  /** UDP, ICMP, other IP, and TCP not yet established. */
  short: number;
  /** Established TCP. */
  established: number;
  /** A flow running longer than this gets an interim record and its counters restart. */
  active: number;
}

export const DEFAULT_FLOW_TIMEOUTS: FlowTimeouts = { closed: 10, short: 60, established: 600, active: 1800 };

export interface FlowTableStats {
  created: number;
  expired: number;
  evicted: number;
  active: number;
  peak: number;
}

interface LruList {
  head: Flow | undefined;
  tail: Flow | undefined;
  timeout: number;
}

export class FlowTable {
  readonly stats: FlowTableStats = { created: 0, expired: 0, evicted: 0, active: 0, peak: 0 };
  private readonly buckets = new Map<number, Flow>();
  private readonly lists: [LruList, LruList, LruList];
  private nextId = 1;
  private clock = 0;
  /** Ended flows kept for reuse: a busy network creates and ends thousands a second. */
  private readonly free: Flow[] = [];
  /** IPv4 address text by address (hosts recur across flows), bounded. */
  private readonly ipText = new Map<number, string>();
  /** MAC address text by address, bounded. */
  private readonly macTexts = new Map<number, string>();
  /** Direction of the packet last looked up: 0 client → server, 1 server → client. */
  dir: 0 | 1 = 0;
  /** The flow of the previous packet (cleared when it ends). */
  private last: Flow | undefined;

  constructor(
    private readonly onEnd: (flow: Flow, reason: FlowEnd) => void,
    readonly timeouts: FlowTimeouts = DEFAULT_FLOW_TIMEOUTS,
    readonly maxFlows = 500_000,
  ) {
    this.lists = [
      { head: undefined, tail: undefined, timeout: timeouts.closed },
      { head: undefined, tail: undefined, timeout: timeouts.short },
      { head: undefined, tail: undefined, timeout: timeouts.established },
    ];
  }

  /** Finds or creates the flow of `pkt` (an IP packet), updates its counters; sets `this.dir`. */
  packet(pkt: Packet): Flow {
    if (pkt.time > this.clock) {
      const sec = Math.floor(pkt.time);
      if (sec !== Math.floor(this.clock)) this.expire(pkt.time);
      this.clock = pkt.time;
    }
    const v6 = pkt.ipVersion === 6;
    const buf = pkt.buf;
    const sp = pkt.srcPort;
    const dp = pkt.dstPort;
    // Bulk transfers send packet after packet of one flow: try the last flow before hashing.
    let f = this.last;
    if (f !== undefined && !v6 && f.ipVersion === 4 && f.proto === pkt.proto && f.vlan === pkt.vlan) {
      if (f.client4 === pkt.src4 && f.server4 === pkt.dst4 && f.clientPort === sp && f.serverPort === dp) {
        this.dir = 0;
        return this.update(f, pkt);
      }
      if (f.client4 === pkt.dst4 && f.server4 === pkt.src4 && f.clientPort === dp && f.serverPort === sp) {
        this.dir = 1;
        return this.update(f, pkt);
      }
    }
    let h: number;
    if (!v6) {
      // Symmetric: both directions hash alike.
      h = Math.imul((pkt.src4 ^ pkt.dst4) >>> 0, 0x9e3779b1) ^ Math.imul(sp ^ dp, 0x85ebca6b) ^ (pkt.proto << 24) ^ (pkt.vlan + 1);
    } else {
      let x = 0;
      for (let i = 0; i < 16; i += 4) x ^= buf.readInt32BE(pkt.src6 + i) ^ buf.readInt32BE(pkt.dst6 + i);
      h = Math.imul(x, 0x9e3779b1) ^ Math.imul(sp ^ dp, 0x85ebca6b) ^ (pkt.proto << 24) ^ (pkt.vlan + 1) ^ 0x6;
    }
    // 30 bits: small integers are Map keys V8 hashes without boxing.
    h = (h ^ (h >>> 15)) & 0x3fffffff;

    f = this.buckets.get(h);
    let src6 = '';
    let dst6 = '';
    if (v6) {
      src6 = buf.toString('latin1', pkt.src6, pkt.src6 + 16);
      dst6 = buf.toString('latin1', pkt.dst6, pkt.dst6 + 16);
    }
    while (f !== undefined) {
      if (f.proto === pkt.proto && f.vlan === pkt.vlan && f.ipVersion === pkt.ipVersion) {
        if (!v6) {
          if (f.client4 === pkt.src4 && f.server4 === pkt.dst4 && f.clientPort === sp && f.serverPort === dp) {
            this.dir = 0;
            break;
          }
          if (f.client4 === pkt.dst4 && f.server4 === pkt.src4 && f.clientPort === dp && f.serverPort === sp) {
            this.dir = 1;
            break;
          }
        } else {
          if (f.client6 === src6 && f.server6 === dst6 && f.clientPort === sp && f.serverPort === dp) {
            this.dir = 0;
            break;
          }
          if (f.client6 === dst6 && f.server6 === src6 && f.clientPort === dp && f.serverPort === sp) {
            this.dir = 1;
            break;
          }
        }
      }
      f = f.bucketNext;
    }
    if (f === undefined) f = this.create(pkt, h, src6, dst6);
    this.last = f;
    return this.update(f, pkt);
  }

  /** Counters, MACs, TCP state, LRU position and the active timeout of the flow `pkt` belongs to. */
  private update(f: Flow, pkt: Packet): Flow {
    const len = pkt.origLen;
    if (this.dir === 0) {
      f.packets0++;
      f.bytes0 += len;
      f.payload0 += pkt.payloadLength;
      if (pkt.srcMac >= 0) f.clientMac = pkt.srcMac;
    } else {
      f.packets1++;
      f.bytes1 += len;
      f.payload1 += pkt.payloadLength;
      if (pkt.srcMac >= 0) f.serverMac = pkt.srcMac;
    }
    f.lastSeen = pkt.time > f.lastSeen ? pkt.time : f.lastSeen;
    if (pkt.proto === IpProto.TCP) this.tcpState(f, pkt.tcpFlags, this.dir);
    this.touch(f);
    if (f.lastSeen - f.intervalStart > this.timeouts.active) {
      this.onEnd(f, 'active');
      this.restartInterval(f);
    }
    return f;
  }

  /** Ends every flow (end of capture). */
  flush(): void {
    for (const list of this.lists) {
      while (list.head !== undefined) this.remove(list.head, 'end');
    }
  }

  /** Expires flows idle past their class's timeout at capture time `now`. */
  expire(now: number): void {
    for (const list of this.lists) {
      while (list.head !== undefined && now - list.head.lastSeen > list.timeout) {
        const f = list.head;
        this.remove(f, f.timeoutClass === TimeoutClass.Closed ? 'closed' : 'idle');
        this.stats.expired++;
      }
    }
  }

  get size(): number {
    return this.stats.active;
  }

  private create(pkt: Packet, h: number, src6: string, dst6: string): Flow {
    if (this.stats.active >= this.maxFlows) this.evictOldest();
    const recycled = this.free.pop();
    let f: Flow;
    if (recycled !== undefined) {
      f = recycled;
      f.reset(this.nextId++);
    } else f = new Flow(this.nextId++);
    f.hash = h;
    f.ipVersion = pkt.ipVersion;
    f.proto = pkt.proto;
    f.vlan = pkt.vlan;
    f.firstSeen = pkt.time;
    f.intervalStart = pkt.time;
    f.lastSeen = pkt.time;
    f.firstFrame = pkt.frame;
    // Orientation: the sender of the first packet is the client, except a lone SYN+ACK (its receiver
    // opened the connection) or, mid-stream, a packet from a well-known port to an ephemeral one.
    let swap = false;
    if (pkt.proto === IpProto.TCP) {
      const fl = pkt.tcpFlags;
      if ((fl & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)) swap = true;
      else if ((fl & TcpFlag.SYN) === 0) swap = pkt.srcPort < pkt.dstPort && pkt.srcPort < 1024;
    } else if (pkt.proto === IpProto.UDP) {
      swap = pkt.srcPort < 1024 && pkt.dstPort >= 1024 && pkt.srcPort !== 68 && pkt.srcPort !== 137 && pkt.srcPort !== 5353;
    }
    if (!swap) {
      f.client4 = pkt.src4;
      f.server4 = pkt.dst4;
      f.client6 = src6;
      f.server6 = dst6;
      f.clientPort = pkt.srcPort;
      f.serverPort = pkt.dstPort;
      this.dir = 0;
    } else {
      f.client4 = pkt.dst4;
      f.server4 = pkt.src4;
      f.client6 = dst6;
      f.server6 = src6;
      f.clientPort = pkt.dstPort;
      f.serverPort = pkt.srcPort;
      this.dir = 1;
    }
    if (pkt.ipVersion === 4) {
      f.clientIp = this.text4(f.client4);
      f.serverIp = this.text4(f.server4);
    } else {
      const src = ipv6ToString(pkt.buf, pkt.src6);
      const dst = ipv6ToString(pkt.buf, pkt.dst6);
      f.clientIp = swap ? dst : src;
      f.serverIp = swap ? src : dst;
    }
    f.bucketNext = this.buckets.get(h);
    this.buckets.set(h, f);
    f.timeoutClass = TimeoutClass.Short;
    this.append(this.lists[TimeoutClass.Short], f);
    this.stats.created++;
    this.stats.active++;
    if (this.stats.active > this.stats.peak) this.stats.peak = this.stats.active;
    return f;
  }

  private tcpState(f: Flow, fl: number, dir: 0 | 1): void {
    if ((fl & TcpFlag.RST) !== 0) {
      f.tcpState = TcpState.RESET;
      this.setClass(f, TimeoutClass.Closed);
      return;
    }
    if ((fl & TcpFlag.SYN) !== 0) {
      if ((fl & TcpFlag.ACK) === 0) {
        f.synSeen = true;
        if (f.tcpState === TcpState.NONE) f.tcpState = TcpState.SYN_SENT;
      } else {
        f.synAckSeen = true;
        if (f.tcpState === TcpState.NONE || f.tcpState === TcpState.SYN_SENT) f.tcpState = TcpState.SYN_RECEIVED;
      }
    } else if (f.tcpState === TcpState.SYN_RECEIVED && dir === 0 && (fl & TcpFlag.ACK) !== 0) {
      f.tcpState = TcpState.ESTABLISHED;
      this.setClass(f, TimeoutClass.Established);
    } else if (f.tcpState === TcpState.NONE) {
      f.tcpState = TcpState.MIDSTREAM;
      this.setClass(f, TimeoutClass.Established);
    }
    if ((fl & TcpFlag.FIN) !== 0) {
      if (dir === 0) f.fin0 = true;
      else f.fin1 = true;
      if (f.fin0 && f.fin1) {
        f.tcpState = TcpState.CLOSED;
        this.setClass(f, TimeoutClass.Closed);
      } else if (f.tcpState !== TcpState.RESET) f.tcpState = TcpState.CLOSING;
    }
  }

  private restartInterval(f: Flow): void {
    f.intervalStart = f.lastSeen;
    f.packets0 = f.packets1 = 0;
    f.bytes0 = f.bytes1 = 0;
    f.payload0 = f.payload1 = 0;
  }

  private evictOldest(): void {
    let oldest: Flow | undefined;
    for (const list of this.lists) {
      const h = list.head;
      if (h !== undefined && (oldest === undefined || h.lastSeen < oldest.lastSeen)) oldest = h;
    }
    if (oldest !== undefined) {
      this.remove(oldest, 'evicted');
      this.stats.evicted++;
    }
  }

  private remove(f: Flow, reason: FlowEnd): void {
    this.unlink(this.lists[f.timeoutClass], f);
    // Unchain from its bucket.
    let b = this.buckets.get(f.hash);
    if (b === f) {
      if (f.bucketNext === undefined) this.buckets.delete(f.hash);
      else this.buckets.set(f.hash, f.bucketNext);
    } else {
      while (b !== undefined && b.bucketNext !== f) b = b.bucketNext;
      if (b !== undefined) b.bucketNext = f.bucketNext;
    }
    f.bucketNext = undefined;
    this.stats.active--;
    if (this.last === f) this.last = undefined;
    this.onEnd(f, reason);
    if (this.free.length < 4096) this.free.push(f);
  }

  /** Text of a MAC address (hosts recur across flows: one string each, its hash computed once), bounded. */
  macText(mac: number): string {
    let t = this.macTexts.get(mac);
    if (t === undefined) {
      if (this.macTexts.size >= 65_536) this.macTexts.clear();
      t = macToString(mac);
      this.macTexts.set(mac, t);
    }
    return t;
  }

  private text4(ip: number): string {
    let t = this.ipText.get(ip);
    if (t === undefined) {
      if (this.ipText.size >= 65_536) this.ipText.clear();
      t = ipv4ToString(ip);
      this.ipText.set(ip, t);
    }
    return t;
  }

  private setClass(f: Flow, c: TimeoutClass): void {
    if (f.timeoutClass === c) return;
    this.unlink(this.lists[f.timeoutClass], f);
    f.timeoutClass = c;
    this.append(this.lists[c], f);
  }

  private touch(f: Flow): void {
    const list = this.lists[f.timeoutClass];
    if (list.tail === f) return;
    this.unlink(list, f);
    this.append(list, f);
  }

  private append(list: LruList, f: Flow): void {
    f.prev = list.tail;
    f.next = undefined;
    if (list.tail !== undefined) list.tail.next = f;
    else list.head = f;
    list.tail = f;
  }

  private unlink(list: LruList, f: Flow): void {
    if (f.prev !== undefined) f.prev.next = f.next;
    else list.head = f.next;
    if (f.next !== undefined) f.next.prev = f.prev;
    else list.tail = f.prev;
    f.prev = f.next = undefined;
  }
}
