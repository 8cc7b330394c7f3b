/**
 * Damped incremental statistics over packets, in the style of Kitsune's AfterImage (Mirsky et al.,
 * NDSS 2018), kept in typed arrays so that the steady state allocates nothing per packet.
 *
 * A damped statistic keeps, per window λ, a weight w, a linear sum LS and a squared sum SS. Before a
 * value v arriving at time t is added, all three are multiplied by 2^(-λ·Δt) (Δt since the stream's
 * previous value): the weight of a value halves every 1/λ seconds. Then
 *
 *   w ← w + 1,  LS ← LS + v,  SS ← SS + v²;   mean = LS / w,  variance = SS / w − mean²
 *
 * which are the weighted mean and (population) variance of every value seen, weighed by age. For
 * λ → 0 they are the ordinary batch mean and variance. `w` itself is a decayed packet count: a rate.
 *
 * Five windows λ ∈ {5, 3, 1, 0.1, 0.01} (half-lives 0.2 s … 100 s), and five kinds of stream:
 *
 *   - MI   source MAC + source IP           size of the packets it sends: w, mean, std        (15)
 *   - H    source IP                        same                                              (15)
 *   - CH   channel src IP → dst IP          size: w, mean, std; with the reverse direction:
 *                                           magnitude, radius, covariance, correlation       (35)
 *   - JIT  channel src IP → dst IP          inter-arrival time: w, mean, std                 (15)
 *   - SK   socket src IP:port → dst IP:port as CH                                            (35)
 *                                                                                          = 115
 *
 * Two-dimensional statistics relate a direction A→B to its reverse B→A. Magnitude √(μA² + μB²) and
 * radius √(σA² + σB²) are Kitsune's. For covariance and correlation Kitsune multiplies each arriving
 * packet's residual by the other direction's last residual, an approximation with no batch
 * counterpart; here every packet of the pair (once both directions have been seen) adds the pair
 * (latest size A→B, latest size B→A) — sample-and-hold — to damped sums W, ΣA, ΣB, ΣA², ΣB², ΣAB,
 * so covariance and correlation are exactly the weighted batch formulas over those pairs.
 *
 * Memory: each kind of stream lives in a `StatTable` — a Float64Array slab of fixed-stride records
 * indexed by a chained hash table over Int32Arrays, with an LRU list. Records idle longer than the
 * idle timeout are dropped, and when a table is full the least recently seen record is evicted; the
 * slabs grow by doubling up to their cap. Per device, a host owns at most `channelsPerHost` channels
 * and `socketsPerHost` sockets: beyond that its new peers (or ports) share one overflow record, so a
 * scanner cannot push everyone else out. (Quotas are counted on the host's record; when that record
 * itself is evicted its count restarts — the global caps stay hard.)
 */

/** Decay rates λ (1/s). A value's weight halves every 1/λ seconds. */
export const LAMBDAS: readonly number[] = [5, 3, 1, 0.1, 0.01];
const NL = 5;
const LN2 = Math.LN2;

/** How an IP address is keyed: IPv4 as its 32-bit value; IPv6 hashed into [2^32, 2^53). */
export function ipv6Key(buf: Uint8Array, off: number): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < 16; i++) {
    const b = buf[off + i]!;
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x5bd1e995) ^ (h2 >>> 13);
  }
  // 21 high bits (never zero: IPv6 keys stay above every IPv4 key) and 32 low bits.
  const hi = ((h2 >>> 11) | 1) & 0x1fffff;
  return hi * 4294967296 + (h1 >>> 0);
}

/** Key of an IPv4 or IPv6 address given as text (tests, configuration). */
export function ipKeyFromString(ip: string): number {
  if (ip.includes(':')) {
    const bytes = new Uint8Array(16);
    const [head = '', tail] = ip.split('::');
    const h = head === '' ? [] : head.split(':');
    const t = tail === undefined || tail === '' ? [] : tail.split(':');
    const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
    groups.forEach((g, i) => {
      const v = parseInt(g, 16) || 0;
      bytes[i * 2] = v >>> 8;
      bytes[i * 2 + 1] = v & 0xff;
    });
    return ipv6Key(bytes, 0);
  }
  const p = ip.split('.').map(Number);
  return (((p[0] ?? 0) << 24) | ((p[1] ?? 0) << 16) | ((p[2] ?? 0) << 8) | (p[3] ?? 0)) >>> 0;
}

/**
 * What the extractor needs of a packet: numbers only, filled by the sensor from its reused Packet
 * (see `fillPacketInput` in anomaly.ts). One object is reused for every packet.
 */
export interface PacketInput {
  /** Capture time, seconds. */
  time: number;
  /** Source MAC as a 48-bit integer; -1 when the link layer has none. */
  srcMac: number;
  /** Address keys: IPv4 as a 32-bit integer, IPv6 via `ipv6Key`. */
  srcIp: number;
  dstIp: number;
  /** Transport ports (0 when the protocol has none). */
  srcPort: number;
  dstPort: number;
  /** Bytes on the wire. */
  length: number;
  /** IP protocol number. */
  proto: number;
  /** TCP flags (low byte); `REFUSED` when the packet is an ICMP destination-unreachable. */
  flags: number;
  /**
   * Bit 0: the source address is internal (private, link-local …); bit 1: the destination is an
   * internal unicast address; bit 2: the destination is multicast or broadcast (neither a device nor the Internet).
   */
  internal: number;
}

/** `PacketInput.flags` bit for an ICMP/ICMPv6 destination-unreachable (a refusal, like a TCP reset). */
export const REFUSED = 0x100;

export function newPacketInput(): PacketInput {
  return { time: 0, srcMac: -1, srcIp: 0, dstIp: 0, srcPort: 0, dstPort: 0, length: 0, proto: 0, flags: 0, internal: 0 };
}

export interface ExtractorLimits {
  /** Source IPs (the H stream, and each host's quota counters). */
  hosts: number;
  /** (MAC, IP) pairs. */
  macIps: number;
  /** Channels (unordered IP pairs). */
  channels: number;
  /** Sockets (unordered IP:port pairs per protocol). */
  sockets: number;
  /** Channels one host may open before its new peers share one overflow record. */
  channelsPerHost: number;
  /** Sockets one host may open before its new ones share one overflow record. */
  socketsPerHost: number;
  /** Seconds after which a record not seen is dropped (at λ = 0.01 a weight is 2^-18 by 1800 s). */
  idleSeconds: number;
}

export const DEFAULT_EXTRACTOR_LIMITS: ExtractorLimits = {
  hosts: 16_384,
  macIps: 16_384,
  channels: 65_536,
  sockets: 131_072,
  channelsPerHost: 512,
  socketsPerHost: 2_048,
  idleSeconds: 1_800,
};

export interface StatTableStats {
  created: number;
  evicted: number;
  expired: number;
  peak: number;
}

/**
 * Fixed-stride records in a Float64Array, found by a 3-number key through a chained hash table
 * (Int32Array heads and links), kept in LRU order. Capacity grows by doubling up to `cap`; never beyond.
 */
export class StatTable {
  data: Float64Array;
  private keys: Float64Array;
  private hashes: Int32Array;
  private next: Int32Array;
  private prev: Int32Array;
  private lnext: Int32Array;
  private buckets: Int32Array;
  private lastSeen: Float64Array;
  private free: Int32Array;
  private freeTop = 0;
  private capacity: number;
  private head = -1;
  private tail = -1;
  size = 0;
  readonly stats: StatTableStats = { created: 0, evicted: 0, expired: 0, peak: 0 };
  /** Called with a record's index just before it is dropped (evicted or expired). */
  onDrop: ((i: number) => void) | undefined;

  constructor(
    readonly stride: number,
    readonly cap: number,
    readonly idleSeconds: number,
    initial = 1024,
  ) {
    if (!(cap >= 1)) throw new RangeError('StatTable cap must be at least 1');
    this.capacity = Math.min(cap, Math.max(16, initial));
    const c = this.capacity;
    this.data = new Float64Array(c * stride);
    this.keys = new Float64Array(c * 3);
    this.hashes = new Int32Array(c);
    this.next = new Int32Array(c);
    this.prev = new Int32Array(c);
    this.lnext = new Int32Array(c);
    this.lastSeen = new Float64Array(c);
    this.free = new Int32Array(c);
    for (let i = 0; i < c; i++) this.free[i] = c - 1 - i;
    this.freeTop = c;
    this.buckets = new Int32Array(bucketCount(c)).fill(-1);
  }

  /** Bytes held by the typed arrays (the record count never exceeds `cap`). */
  get bytes(): number {
    return this.data.byteLength + this.keys.byteLength + this.lastSeen.byteLength + 5 * this.hashes.byteLength + this.buckets.byteLength;
  }

  get allocated(): number {
    return this.capacity;
  }

  /** Index of the record with this key, or -1. `h` is `hashKey(k0, k1, k2)`. */
  find(h: number, k0: number, k1: number, k2: number): number {
    const keys = this.keys;
    let i = this.buckets[h & (this.buckets.length - 1)]!;
    while (i >= 0) {
      const o = i * 3;
      if (keys[o] === k0 && keys[o + 1] === k1 && keys[o + 2] === k2) return i;
      i = this.next[i]!;
    }
    return -1;
  }

  /** A new zeroed record for this key (which must not be present); evicts the least recently seen when full. */
  insert(h: number, k0: number, k1: number, k2: number, now: number): number {
    if (this.freeTop === 0) {
      if (this.capacity < this.cap) this.grow();
      else {
        this.drop(this.head);
        this.stats.evicted++;
      }
    }
    const i = this.free[--this.freeTop]!;
    const o = i * 3;
    this.keys[o] = k0;
    this.keys[o + 1] = k1;
    this.keys[o + 2] = k2;
    this.hashes[i] = h;
    const b = h & (this.buckets.length - 1);
    this.next[i] = this.buckets[b]!;
    this.buckets[b] = i;
    this.data.fill(0, i * this.stride, (i + 1) * this.stride);
    this.lastSeen[i] = now;
    // Append to the LRU tail.
    this.prev[i] = this.tail;
    this.lnext[i] = -1;
    if (this.tail >= 0) this.lnext[this.tail] = i;
    else this.head = i;
    this.tail = i;
    this.size++;
    this.stats.created++;
    if (this.size > this.stats.peak) this.stats.peak = this.size;
    return i;
  }

  /** Marks record i seen at `now` (moves it to the LRU tail). */
  touch(i: number, now: number): void {
    this.lastSeen[i] = now;
    if (this.tail === i) return;
    const p = this.prev[i]!;
    const n = this.lnext[i]!;
    if (p >= 0) this.lnext[p] = n;
    else this.head = n;
    this.prev[n] = p;
    this.prev[i] = this.tail;
    this.lnext[i] = -1;
    this.lnext[this.tail] = i;
    this.tail = i;
  }

  /** Drops records not seen for `idleSeconds` (from the LRU head: cheap when nothing is idle). */
  expire(now: number): void {
    const limit = now - this.idleSeconds;
    while (this.head >= 0 && this.lastSeen[this.head]! < limit) {
      this.drop(this.head);
      this.stats.expired++;
    }
  }

  key(i: number, which: 0 | 1 | 2): number {
    return this.keys[i * 3 + which]!;
  }

  /** When record i was last seen. */
  seenAt(i: number): number {
    return this.lastSeen[i]!;
  }

  /** The live records, least recently seen first, as plain data (typed arrays in base64: exact, compact). */
  snapshot(): StatTableSnapshot {
    const n = this.size;
    const keys = new Float64Array(n * 3);
    const seen = new Float64Array(n);
    const data = new Float64Array(n * this.stride);
    let j = 0;
    for (let i = this.head; i >= 0; i = this.lnext[i]!, j++) {
      keys.set(this.keys.subarray(i * 3, i * 3 + 3), j * 3);
      seen[j] = this.lastSeen[i]!;
      data.set(this.data.subarray(i * this.stride, (i + 1) * this.stride), j * this.stride);
    }
    return { stride: this.stride, records: n, keys: f64ToBase64(keys), seen: f64ToBase64(seen), data: f64ToBase64(data) };
  }

  /** Adds a snapshot's records (into an empty table of the same stride), in their LRU order. */
  restore(s: StatTableSnapshot): void {
    if (s.stride !== this.stride) throw new Error(`snapshot stride ${s.stride}, table stride ${this.stride}`);
    const keys = base64ToF64(s.keys, s.records * 3);
    const seen = base64ToF64(s.seen, s.records);
    const data = base64ToF64(s.data, s.records * this.stride);
    for (let j = 0; j < s.records; j++) {
      const k0 = keys[j * 3]!;
      const k1 = keys[j * 3 + 1]!;
      const k2 = keys[j * 3 + 2]!;
      const h = hashKey(k0, k1, k2);
      let i = this.find(h, k0, k1, k2);
      if (i < 0) i = this.insert(h, k0, k1, k2, seen[j]!);
      else this.touch(i, seen[j]!);
      this.data.set(data.subarray(j * this.stride, (j + 1) * this.stride), i * this.stride);
    }
  }

  /** Calls fn(i) for every live record, least recently seen first (fn may touch i, not drop others). */
  forEach(fn: (i: number) => void): void {
    for (let i = this.head; i >= 0; ) {
      const n = this.lnext[i]!;
      fn(i);
      i = n;
    }
  }

  private drop(i: number): void {
    this.onDrop?.(i);
    // Unlink from the hash chain.
    const b = this.hashes[i]! & (this.buckets.length - 1);
    let j = this.buckets[b]!;
    if (j === i) this.buckets[b] = this.next[i]!;
    else {
      while (j >= 0 && this.next[j] !== i) j = this.next[j]!;
      if (j >= 0) this.next[j] = this.next[i]!;
    }
    // Unlink from the LRU list.
    const p = this.prev[i]!;
    const n = this.lnext[i]!;
    if (p >= 0) this.lnext[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.keys[i * 3] = NaN;
    this.free[this.freeTop++] = i;
    this.size--;
  }

  private grow(): void {
    const old = this.capacity;
    const c = Math.min(this.cap, old * 2);
    const s = this.stride;
    const copyF = (a: Float64Array, n: number): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const copyI = (a: Int32Array, n: number): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.data = copyF(this.data, c * s);
    this.keys = copyF(this.keys, c * 3);
    this.lastSeen = copyF(this.lastSeen, c);
    this.hashes = copyI(this.hashes, c);
    this.next = copyI(this.next, c);
    this.prev = copyI(this.prev, c);
    this.lnext = copyI(this.lnext, c);
    this.free = new Int32Array(c);
    this.freeTop = 0;
    for (let i = c - 1; i >= old; i--) this.free[this.freeTop++] = i;
    this.capacity = c;
    // Rehash every live record into the larger bucket array.
    this.buckets = new Int32Array(bucketCount(c)).fill(-1);
    const mask = this.buckets.length - 1;
    for (let i = this.head; i >= 0; i = this.lnext[i]!) {
      const b = this.hashes[i]! & mask;
      this.next[i] = this.buckets[b]!;
      this.buckets[b] = i;
    }
  }
}

export interface StatTableSnapshot {
  stride: number;
  records: number;
  /** Float64Array little-endian bytes, base64. */
  keys: string;
  seen: string;
  data: string;
}

export function f64ToBase64(a: Float64Array): string {
  const le = new Float64Array(a);
  return Buffer.from(le.buffer, le.byteOffset, le.byteLength).toString('base64');
}

/** A Float64Array of exactly n values from base64 (anything else is corrupt). */
export function base64ToF64(s: string, n: number): Float64Array {
  const b = Buffer.from(s, 'base64');
  if (b.length !== n * 8) throw new Error(`corrupt snapshot: ${b.length} bytes where ${n * 8} were expected`);
  const out = new Float64Array(n);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function bucketCount(c: number): number {
  let n = 16;
  while (n < c * 2) n *= 2;
  return n;
}

/** A 31-bit hash of three numbers (each an integer below 2^53, or -1). */
export function hashKey(k0: number, k1: number, k2: number): number {
  let h = 0x2545f491;
  h = mix(h, k0 >>> 0);
  h = mix(h, (k0 / 4294967296) | 0);
  h = mix(h, k1 >>> 0);
  h = mix(h, (k1 / 4294967296) | 0);
  h = mix(h, k2 >>> 0);
  h = mix(h, (k2 / 4294967296) | 0);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h & 0x7fffffff;
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return h ^ (h >>> 16);
}

// ---- record layouts (offsets within a record) ------------------------------------------------

/** 1D record (H, MI): last time, then w/LS/SS per λ. Host records add the quota counters. */
const T = 0;
const H_CH = 1;
const H_SK = 2;
const H_STATS = 3;
const H_STRIDE = H_STATS + 3 * NL;
const MI_STATS = 1;
const MI_STRIDE = MI_STATS + 3 * NL;

/** Pair record (channel, socket): both directions' 1D stats plus the pair sums. */
const P_TA = 0; // last time A→B (side 0), P_TA + 1 for side 1
const P_TPAIR = 2;
const P_LAST = 3; // latest size per side (3, 4)
const P_SEEN = 5; // bit 0: side 0 seen, bit 1: side 1
const P_OWNER = 6; // owner host key (for its quota); -1 for overflow records
const P_1D = 7; // side s at P_1D + s * 15
const P_PAIR = P_1D + 2 * 3 * NL; // W, ΣA, ΣB, ΣA², ΣB², ΣAB per λ
const P_JIT = P_PAIR + 6 * NL; // channels only: jitter of side s at P_JIT + s * 15
const SK_STRIDE = P_JIT;
const CH_STRIDE = P_JIT + 2 * 3 * NL;

/** Feature offsets in the output vector. */
export const FEATURE_GROUPS = { mi: 0, host: 15, channel: 30, jitter: 65, socket: 80 } as const;
export const N_FEATURES = 115;

const OVERFLOW = -1;

/**
 * The 115 features of a packet, from five damped statistics tables.
 *
 * `extract` updates every statistic the packet belongs to and writes the features after the update.
 */
export class FeatureExtractor {
  readonly limits: ExtractorLimits;
  readonly hosts: StatTable;
  readonly macIps: StatTable;
  readonly channels: StatTable;
  readonly sockets: StatTable;
  private readonly f = new Float64Array(NL);
  private readonly g = new Float64Array(NL);
  private clock = -Infinity;
  private lastExpire = -Infinity;
  /** Packets whose new channel or socket went to an overflow record (per-host quota reached). */
  overflowed = 0;

  constructor(limits: Partial<ExtractorLimits> = {}) {
    const l = { ...DEFAULT_EXTRACTOR_LIMITS, ...limits };
    this.limits = l;
    this.hosts = new StatTable(H_STRIDE, l.hosts, l.idleSeconds);
    this.macIps = new StatTable(MI_STRIDE, l.macIps, l.idleSeconds);
    this.channels = new StatTable(CH_STRIDE, l.channels, l.idleSeconds);
    this.sockets = new StatTable(SK_STRIDE, l.sockets, l.idleSeconds);
    this.channels.onDrop = (i) => this.release(this.channels, i, H_CH);
    this.sockets.onDrop = (i) => this.release(this.sockets, i, H_SK);
  }

  get nFeatures(): number {
    return N_FEATURES;
  }

  /** Bytes held by all tables. */
  get bytes(): number {
    return this.hosts.bytes + this.macIps.bytes + this.channels.bytes + this.sockets.bytes;
  }

  /** The most bytes the tables can ever hold with these limits. */
  static maxBytes(limits: Partial<ExtractorLimits> = {}): number {
    const l = { ...DEFAULT_EXTRACTOR_LIMITS, ...limits };
    const per = (stride: number, cap: number): number => cap * (stride * 8 + 3 * 8 + 8 + 5 * 4) + bucketCount(cap) * 4;
    return per(H_STRIDE, l.hosts) + per(MI_STRIDE, l.macIps) + per(CH_STRIDE, l.channels) + per(SK_STRIDE, l.sockets);
  }

  /** Updates the statistics with packet `p` and writes its 115 features into `out`. */
  extract(p: PacketInput, out: Float64Array): void {
    let t = p.time;
    // Time never runs backwards for the statistics (captures merged from several taps can jitter).
    if (t < this.clock) t = this.clock;
    else this.clock = t;
    if (t - this.lastExpire >= 1) {
      this.lastExpire = t;
      this.hosts.expire(t);
      this.macIps.expire(t);
      this.channels.expire(t);
      this.sockets.expire(t);
    }
    const v = p.length;
    const src = p.srcIp;
    const dst = p.dstIp;

    // MI: source MAC + IP.
    {
      const tb = this.macIps;
      const h = hashKey(p.srcMac, src, 0);
      let i = tb.find(h, p.srcMac, src, 0);
      if (i < 0) {
        i = tb.insert(h, p.srcMac, src, 0, t);
        tb.data[i * MI_STRIDE + T] = t;
      } else tb.touch(i, t);
      const o = i * MI_STRIDE;
      this.decay1(tb.data, o + T, t, this.f);
      update1D(tb.data, o + MI_STATS, this.f, v, out, FEATURE_GROUPS.mi);
    }

    // H: source IP.
    const hosts = this.hosts;
    const hh = hashKey(src, 0, 0);
    let hi = hosts.find(hh, src, 0, 0);
    if (hi < 0) {
      hi = hosts.insert(hh, src, 0, 0, t);
      hosts.data[hi * H_STRIDE + T] = t;
    } else hosts.touch(hi, t);
    {
      const o = hi * H_STRIDE;
      this.decay1(hosts.data, o + T, t, this.f);
      update1D(hosts.data, o + H_STATS, this.f, v, out, FEATURE_GROUPS.host);
    }

    // Channel: unordered IP pair, side 0 = the lower key.
    {
      const tb = this.channels;
      const side = src <= dst ? 0 : 1;
      const k0 = side === 0 ? src : dst;
      const k1 = side === 0 ? dst : src;
      const h = hashKey(k0, k1, 0);
      let i = tb.find(h, k0, k1, 0);
      let s: number = side;
      if (i < 0) {
        const r = this.claim(tb, hi, H_CH, this.limits.channelsPerHost, src, dst, h, k0, k1, 0, t);
        i = r >> 1;
        if ((r & 1) !== 0) s = 0;
      } else tb.touch(i, t);
      this.updatePair(tb, i * CH_STRIDE, s, t, v, out, FEATURE_GROUPS.channel, true);
    }

    // Socket: unordered (IP, port) pair per protocol.
    {
      const tb = this.sockets;
      const sp = p.srcPort;
      const dp = p.dstPort;
      const side = src < dst || (src === dst && sp <= dp) ? 0 : 1;
      const k0 = side === 0 ? src : dst;
      const k1 = side === 0 ? dst : src;
      const k2 = p.proto * 4294967296 + (side === 0 ? sp * 65536 + dp : dp * 65536 + sp);
      const h = hashKey(k0, k1, k2);
      let i = tb.find(h, k0, k1, k2);
      let s: number = side;
      if (i < 0) {
        const r = this.claim(tb, hi, H_SK, this.limits.socketsPerHost, src, dst, h, k0, k1, k2, t, p.proto);
        i = r >> 1;
        if ((r & 1) !== 0) s = 0;
      } else tb.touch(i, t);
      this.updatePair(tb, i * SK_STRIDE, s, t, v, out, FEATURE_GROUPS.socket, false);
    }
  }

  /**
   * A record for a new channel or socket: its own when both hosts are within their quota, else the
   * over-quota host's overflow record. Returns index × 2 + (1 when it is an overflow record whose
   * side 0 is the sender).
   */
  private claim(tb: StatTable, srcHost: number, counter: number, quota: number, src: number, dst: number, h: number, k0: number, k1: number, k2: number, t: number, proto = 0): number {
    const hosts = this.hosts;
    const srcCount = hosts.data[srcHost * H_STRIDE + counter]!;
    let over = -1;
    let senderIsOver = false;
    if (srcCount >= quota) {
      over = src;
      senderIsOver = true;
    } else {
      const dh = hosts.find(hashKey(dst, 0, 0), dst, 0, 0);
      if (dh >= 0 && hosts.data[dh * H_STRIDE + counter]! >= quota) over = dst;
    }
    if (over < 0) {
      const i = tb.insert(h, k0, k1, k2, t);
      tb.data[i * tb.stride + P_OWNER] = src;
      // Read again: the insert may have evicted one of this host's records (and released its slot).
      hosts.data[srcHost * H_STRIDE + counter] = hosts.data[srcHost * H_STRIDE + counter]! + 1;
      return i * 2;
    }
    this.overflowed++;
    // The overflow record: side 0 is always the over-quota host.
    const oh = hashKey(over, OVERFLOW, proto);
    let i = tb.find(oh, over, OVERFLOW, proto);
    if (i < 0) {
      i = tb.insert(oh, over, OVERFLOW, proto, t);
      tb.data[i * tb.stride + P_OWNER] = -1;
    } else tb.touch(i, t);
    return senderIsOver ? i * 2 + 1 : i * 2;
  }

  /** Gives a dropped record's slot back to its owner's quota. */
  private release(tb: StatTable, i: number, counter: number): void {
    const owner = tb.data[i * tb.stride + P_OWNER]!;
    if (owner < 0) return;
    const hi = this.hosts.find(hashKey(owner, 0, 0), owner, 0, 0);
    if (hi < 0) return;
    const o = hi * H_STRIDE + counter;
    if (this.hosts.data[o]! > 0) this.hosts.data[o] = this.hosts.data[o]! - 1;
  }

  /** Decay factors 2^(-λΔt) since the time at d[at] into f; sets d[at] = t. */
  private decay1(d: Float64Array, at: number, t: number, f: Float64Array): void {
    const dt = t - d[at]!;
    d[at] = t;
    if (dt <= 0) {
      for (let l = 0; l < NL; l++) f[l] = 1;
      return;
    }
    for (let l = 0; l < NL; l++) f[l] = Math.exp(-LN2 * LAMBDAS[l]! * dt);
  }

  /** One packet of side s (the sender) into a channel or socket record at offset o. */
  private updatePair(tb: StatTable, o: number, s: number, t: number, v: number, out: Float64Array, base: number, jitter: boolean): void {
    const d = tb.data;
    const f = this.f;
    const seen = d[o + P_SEEN]!;
    const mine = 1 << s;
    const first = (seen & mine) === 0;
    // Inter-arrival time of this direction (0 for its first packet).
    const gap = first ? 0 : Math.max(0, t - d[o + P_TA + s]!);
    if (first) {
      d[o + P_TA + s] = t;
      for (let l = 0; l < NL; l++) f[l] = 1;
    } else this.decay1(d, o + P_TA + s, t, f);
    const a = o + P_1D + s * 3 * NL;
    const b = o + P_1D + (1 - s) * 3 * NL;
    const ja = o + P_JIT + s * 3 * NL;
    const nowSeen = seen | mine;
    d[o + P_SEEN] = nowSeen;
    d[o + P_LAST + s] = v;
    const both = nowSeen === 3;
    const g = this.g;
    if (both) {
      // The first pair starts the pair clock (its sums are all zero, so no decay is lost).
      if (d[o + P_PAIR]! === 0) d[o + P_TPAIR] = t;
      this.decay1(d, o + P_TPAIR, t, g);
    }
    const la = d[o + P_LAST]!;
    const lb = d[o + P_LAST + 1]!;
    for (let l = 0; l < NL; l++) {
      const fl = f[l]!;
      const k = a + l * 3;
      const w = d[k]! * fl + 1;
      const ls = d[k + 1]! * fl + v;
      const ss = d[k + 2]! * fl + v * v;
      d[k] = w;
      d[k + 1] = ls;
      d[k + 2] = ss;
      const mean = ls / w;
      const va = Math.max(0, ss / w - mean * mean);
      // The reverse direction's mean and variance do not change under decay (ratios of decayed sums).
      const kb = b + l * 3;
      const wb = d[kb]!;
      let meanB = 0;
      let vb = 0;
      if (wb > 0) {
        meanB = d[kb + 1]! / wb;
        vb = Math.max(0, d[kb + 2]! / wb - meanB * meanB);
      }
      let cov = 0;
      let pcc = 0;
      if (both) {
        const gl = g[l]!;
        const q = o + P_PAIR + l * 6;
        const W = d[q]! * gl + 1;
        const SA = d[q + 1]! * gl + la;
        const SB = d[q + 2]! * gl + lb;
        const SAA = d[q + 3]! * gl + la * la;
        const SBB = d[q + 4]! * gl + lb * lb;
        const SAB = d[q + 5]! * gl + la * lb;
        d[q] = W;
        d[q + 1] = SA;
        d[q + 2] = SB;
        d[q + 3] = SAA;
        d[q + 4] = SBB;
        d[q + 5] = SAB;
        const mA = SA / W;
        const mB = SB / W;
        cov = SAB / W - mA * mB;
        const vA = SAA / W - mA * mA;
        const vB = SBB / W - mB * mB;
        const den = Math.sqrt(Math.max(0, vA) * Math.max(0, vB));
        pcc = den > 1e-12 * (Math.abs(mA * mB) + 1) ? Math.max(-1, Math.min(1, cov / den)) : 0;
      }
      const ob = base + l * 7;
      out[ob] = w;
      out[ob + 1] = mean;
      out[ob + 2] = Math.sqrt(va);
      out[ob + 3] = Math.sqrt(mean * mean + meanB * meanB);
      out[ob + 4] = Math.sqrt(va + vb);
      out[ob + 5] = cov;
      out[ob + 6] = pcc;
      if (jitter) {
        const kj = ja + l * 3;
        const jw = d[kj]! * fl + 1;
        const jl = d[kj + 1]! * fl + gap;
        const js = d[kj + 2]! * fl + gap * gap;
        d[kj] = jw;
        d[kj + 1] = jl;
        d[kj + 2] = js;
        const jm = jl / jw;
        const oj = FEATURE_GROUPS.jitter + l * 3;
        out[oj] = jw;
        out[oj + 1] = jm;
        out[oj + 2] = Math.sqrt(Math.max(0, js / jw - jm * jm));
      }
    }
  }

  /** Human names of the 115 features, in output order. */
  featureNames(): string[] {
    return featureNames();
  }
}

/** Decayed w/LS/SS at d[o…] with factors f, plus value v; writes w, mean, std at out[base + 3l …]. */
function update1D(d: Float64Array, o: number, f: Float64Array, v: number, out: Float64Array, base: number): void {
  for (let l = 0; l < NL; l++) {
    const fl = f[l]!;
    const k = o + l * 3;
    const w = d[k]! * fl + 1;
    const ls = d[k + 1]! * fl + v;
    const ss = d[k + 2]! * fl + v * v;
    d[k] = w;
    d[k + 1] = ls;
    d[k + 2] = ss;
    const mean = ls / w;
    const ob = base + l * 3;
    out[ob] = w;
    out[ob + 1] = mean;
    out[ob + 2] = Math.sqrt(Math.max(0, ss / w - mean * mean));
  }
}

/** "1 s window": the half-life 1/λ, how long a packet keeps half its weight. */
export function windowName(l: number): string {
  const hl = 1 / LAMBDAS[l]!;
  return hl < 1 ? `${Math.round(hl * 1000)} ms window` : `${Math.round(hl)} s window`;
}

export interface FeatureInfo {
  /** mi, host, channel, jitter, socket */
  group: keyof typeof FEATURE_GROUPS;
  /** rate, mean, std, magnitude, radius, covariance, correlation */
  stat: 'rate' | 'mean' | 'std' | 'magnitude' | 'radius' | 'covariance' | 'correlation';
  window: number;
  name: string;
}

const WHO: Record<keyof typeof FEATURE_GROUPS, string> = {
  mi: 'this host (this MAC and IP)',
  host: 'this host',
  channel: 'this host to this peer',
  jitter: 'this host to this peer',
  socket: 'this connection (IP:port to IP:port)',
};

let infoCache: FeatureInfo[] | undefined;

export function featureInfo(): FeatureInfo[] {
  if (infoCache !== undefined) return infoCache;
  const out: FeatureInfo[] = [];
  const groups: Array<keyof typeof FEATURE_GROUPS> = ['mi', 'host', 'channel', 'jitter', 'socket'];
  for (const group of groups) {
    const two = group === 'channel' || group === 'socket';
    for (let l = 0; l < NL; l++) {
      const win = windowName(l);
      const who = WHO[group];
      if (group === 'jitter') {
        out.push({ group, stat: 'rate', window: l, name: `packet rate from ${who} (timing stream), ${win}` });
        out.push({ group, stat: 'mean', window: l, name: `mean time between packets from ${who}, ${win}` });
        out.push({ group, stat: 'std', window: l, name: `jitter (spread of time between packets) from ${who}, ${win}` });
        continue;
      }
      out.push({ group, stat: 'rate', window: l, name: `packet rate sent by ${who}, ${win}` });
      out.push({ group, stat: 'mean', window: l, name: `bytes per packet sent by ${who}, ${win}` });
      out.push({ group, stat: 'std', window: l, name: `spread of packet sizes sent by ${who}, ${win}` });
      if (two) {
        out.push({ group, stat: 'magnitude', window: l, name: `combined packet size both ways on ${who}, ${win}` });
        out.push({ group, stat: 'radius', window: l, name: `combined size spread both ways on ${who}, ${win}` });
        out.push({ group, stat: 'covariance', window: l, name: `covariance of request and reply sizes on ${who}, ${win}` });
        out.push({ group, stat: 'correlation', window: l, name: `correlation of request and reply sizes on ${who}, ${win}` });
      }
    }
  }
  infoCache = out;
  return out;
}

export function featureNames(): string[] {
  return featureInfo().map((f) => f.name);
}
