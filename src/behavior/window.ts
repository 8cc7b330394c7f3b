/**
 * The online model per device and time window: each internal host's traffic is summarised per
 * window (60 s by default) into twelve counts — packets and bytes each way, peers, services (peer +
 * service port), peers and services never seen for it, connection attempts, refusals (TCP resets and
 * ICMP unreachables it received), Internet peers and new Internet peers — and scored by a KitNET
 * autoencoder ensemble (kitnet.ts, Kitsune's detector) on 24 inputs: the twelve log counts, and the
 * same minus the host's own running mean (so a busy PACS and a quiet pump are each compared with
 * themselves and with everyone).
 *
 * Why windows and not packets (bench/behavior.ts compares both on the same capture): Kitsune scores
 * every packet on damped statistics of sizes and timing, which (a) costs one ensemble pass per packet
 * and (b) cannot see what the incidents here are made of — fan-out to new peers and services,
 * refused connections — while it does see every burst of a big transfer. Counting per window is a
 * few hash lookups per packet, the ensemble runs once per active host per window, and the inputs
 * are the ones an analyst reads.
 *
 * Alerting (the threshold comes from the training phase only): a window is anomalous when its score
 * exceeds KitNET's threshold (the highest score of the last quarter of training, scored before
 * learning from it). It alerts when, besides, the host did something new in that window (a peer or
 * service never seen for it — the baseline's kind of evidence), or its windows stayed anomalous for
 * `persistence` windows in a row; at most one alert per host per `alertIntervalSeconds`, the rest
 * counted. Windows that are not anomalous move the host's means slowly (drift); anomalous ones never do.
 *
 * Memory: hosts, (host, peer) and (host, service) memories are StatTables with hard caps and LRU
 * eviction; a host may remember at most `peersPerHost` peers and `servicesPerHost` services (a
 * scanner cannot push everyone else's memory out) — beyond that, what it touches is still counted,
 * as new, but not remembered.
 */
import { hashKey, StatTable, type PacketInput, REFUSED, type StatTableSnapshot } from './incstats.ts';
import { KitNET, type KitNETOptions, type KitNETPhase } from './kitnet.ts';

/** The twelve per-window counts. */
export const WINDOW_COUNTS = [
  'packets sent',
  'bytes sent',
  'packets received',
  'bytes received',
  'peers',
  'services',
  'new peers',
  'new services',
  'connection attempts',
  'refusals received',
  'Internet peers',
  'new Internet peers',
] as const;
const NC = WINDOW_COUNTS.length;
export const N_WINDOW_FEATURES = 2 * NC;

const C_PKT_OUT = 0;
const C_BYTES_OUT = 1;
const C_PKT_IN = 2;
const C_BYTES_IN = 3;
const C_PEERS = 4;
const C_SERVICES = 5;
const C_NEW_PEERS = 6;
const C_NEW_SERVICES = 7;
const C_ATTEMPTS = 8;
const C_REFUSED = 9;
const C_EXT_PEERS = 10;
const C_NEW_EXT = 11;

/** Host record: the open window, its counts, the host's means, alert state, memory quotas, an example of what was new. */
const H_WIN = 0;
const H_CNT = 1;
const H_MEAN = H_CNT + NC;
const H_N = H_MEAN + NC;
const H_ABOVE = H_N + 1;
const H_LAST_ALERT = H_ABOVE + 1;
const H_SUPPRESSED = H_LAST_ALERT + 1;
const H_PEERS_HELD = H_SUPPRESSED + 1;
const H_SERVICES_HELD = H_PEERS_HELD + 1;
const H_NEW_PEER = H_SERVICES_HELD + 1;
const H_NEW_SERVICE = H_NEW_PEER + 1;
const H_FIRST = H_NEW_SERVICE + 1;
const H_STRIDE = H_FIRST + 1;
/** Memory record (host, peer) or (host, peer, service): the last window it was counted in. */
const M_STRIDE = 1;

export interface WindowModelLimits {
  hosts: number;
  peers: number;
  services: number;
  peersPerHost: number;
  servicesPerHost: number;
  /** A host, peer or service not seen this long is forgotten (and would be new again). */
  memorySeconds: number;
}

export const DEFAULT_WINDOW_LIMITS: WindowModelLimits = {
  hosts: 16_384,
  peers: 262_144,
  services: 262_144,
  peersPerHost: 4_096,
  servicesPerHost: 8_192,
  memorySeconds: 14 * 86400,
};

export interface WindowModelOptions {
  windowSeconds: number;
  /** Capture time that learns (from the first packet): the first `fmFraction` maps features, the rest trains. */
  learnSeconds: number;
  fmFraction: number;
  /** Anomalous windows in a row that alert without anything new. */
  persistence: number;
  /** Windows a host first seen after learning must have been active in before something new for it counts as evidence. */
  minHistory: number;
  alertIntervalSeconds: number;
  /** After learning, a normal window moves the host's means by 1/driftWindows of the difference. */
  driftWindows: number;
  kitnet: Partial<Omit<KitNETOptions, 'fmGracePeriod' | 'adGracePeriod'>>;
  limits: Partial<WindowModelLimits>;
  /** Features named per alert. */
  topFeatures: number;
}

export const DEFAULT_WINDOW_OPTIONS: WindowModelOptions = {
  windowSeconds: 60,
  learnSeconds: 24 * 3600,
  fmFraction: 0.1,
  persistence: 3,
  minHistory: 30,
  alertIntervalSeconds: 3600,
  driftWindows: 1440,
  kitnet: { maxAE: 8, seed: 'vigil-window', thresholdMethod: 'quantile', thresholdQ: 0.995, calibrationFraction: 0.25 },
  limits: {},
  topFeatures: 3,
};

export interface WindowFeature {
  count: (typeof WINDOW_COUNTS)[number];
  value: number;
  usual: number;
  contribution: number;
  words: string;
}

export interface WindowAlert {
  /** Host address key (IPv4 as a 32-bit integer, IPv6 as ipv6Key) and its text form. */
  hostKey: number;
  host: string;
  /** Window start and end, seconds. */
  from: number;
  time: number;
  score: number;
  threshold: number;
  /** Why it alerts: something new for the host, or anomalous windows in a row. */
  reason: 'new' | 'persistent';
  /** Anomalous windows of this host since its previous alert, not alerted on. */
  suppressed: number;
  features: WindowFeature[];
  /** An example of what was new: "to 10.2.0.9 tcp/445", "with 10.2.0.9" … */
  example?: string;
  /** The new peer of that example (an address), when there was one. */
  peer?: string;
  text: string;
}

/** Every scored window, for evaluation (bench) and monitoring. */
export interface WindowScore {
  hostKey: number;
  window: number;
  score: number;
  anomalous: boolean;
  alert: WindowAlert | undefined;
}

/** "10.2.0.9" for an IPv4 key; IPv6 keys are hashes and print as such. */
export function hostKeyToString(k: number): string {
  if (k >= 0 && k <= 0xffffffff) return `${k >>> 24}.${(k >>> 16) & 0xff}.${(k >>> 8) & 0xff}.${k & 0xff}`;
  return `ipv6#${k.toString(16)}`;
}

const PROTO_NAME: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6' };

/** A WindowModel as plain data: versioned, and bounded by its limits (see `WindowModel.maxBytes`). */
export interface WindowModelSnapshot {
  kind: 'vigil.window-model';
  version: 1;
  options: WindowModelOptions;
  /** KitNET's own binary format, base64. */
  kitnet: string;
  population: number[];
  populationN: number;
  t0: number | null;
  clock: number | null;
  current: number | null;
  counters: { windowsScored: number; windowsAnomalous: number; alerts: number; suppressed: number };
  /** Per host (address key): the open window, its counts, the host's means and alert state. */
  hosts: StatTableSnapshot;
  /** What each host has talked to: (host, peer) and (host, peer, service). */
  peers: StatTableSnapshot;
  services: StatTableSnapshot;
}

const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

export class WindowModel {
  readonly opts: WindowModelOptions;
  readonly limits: WindowModelLimits;
  readonly model: KitNET;
  readonly hosts: StatTable;
  readonly peers: StatTable;
  readonly services: StatTable;
  /** Called for every scored window (after learning). */
  onWindow: ((s: WindowScore) => void) | undefined;
  /** Called for every alert. */
  onAlert: ((a: WindowAlert) => void) | undefined;
  windowsScored = 0;
  windowsAnomalous = 0;
  alerts = 0;
  suppressed = 0;
  /** Mean of every host's log counts over the learning windows: where a host seen for the first time starts. */
  readonly population = new Float64Array(NC);
  private populationN = 0;
  private t0: number | undefined;
  private clock = -Infinity;
  private current = -Infinity;
  private readonly x = new Float64Array(N_WINDOW_FEATURES);

  constructor(options: Partial<WindowModelOptions> = {}, model?: KitNET) {
    this.opts = { ...DEFAULT_WINDOW_OPTIONS, ...options, kitnet: { ...DEFAULT_WINDOW_OPTIONS.kitnet, ...options.kitnet } };
    const l = { ...DEFAULT_WINDOW_LIMITS, ...options.limits };
    this.limits = l;
    this.hosts = new StatTable(H_STRIDE, l.hosts, l.memorySeconds);
    this.peers = new StatTable(M_STRIDE, l.peers, l.memorySeconds);
    this.services = new StatTable(M_STRIDE, l.services, l.memorySeconds);
    this.peers.onDrop = (i) => this.release(this.peers, i, H_PEERS_HELD);
    this.services.onDrop = (i) => this.release(this.services, i, H_SERVICES_HELD);
    // Learning ends by capture time: grace periods the counts never reach by themselves.
    this.model = model ?? new KitNET(N_WINDOW_FEATURES, { ...this.opts.kitnet, fmGracePeriod: Number.MAX_SAFE_INTEGER, adGracePeriod: Number.MAX_SAFE_INTEGER });
  }

  get phase(): KitNETPhase {
    return this.model.phase;
  }

  threshold(): number {
    return this.model.threshold();
  }

  /** The most bytes the tables can hold with these limits (the model itself is a few kB). */
  static maxBytes(limits: Partial<WindowModelLimits> = {}): number {
    const l = { ...DEFAULT_WINDOW_LIMITS, ...limits };
    const per = (stride: number, cap: number): number => cap * (stride * 8 + 3 * 8 + 8 + 5 * 4) + 2 * 2 ** Math.ceil(Math.log2(cap * 2)) * 4;
    return per(H_STRIDE, l.hosts) + per(M_STRIDE, l.peers) + per(M_STRIDE, l.services);
  }

  get bytes(): number {
    return this.hosts.bytes + this.peers.bytes + this.services.bytes;
  }

  /** Everything needed to resume after a restart, as plain data (JSON.stringify it as is). */
  toJSON(): WindowModelSnapshot {
    return {
      kind: 'vigil.window-model',
      version: 1,
      options: { ...this.opts, limits: { ...this.limits } },
      kitnet: Buffer.from(this.model.serialize()).toString('base64'),
      population: [...this.population],
      populationN: this.populationN,
      t0: this.t0 ?? null,
      clock: num(this.clock),
      current: num(this.current),
      counters: { windowsScored: this.windowsScored, windowsAnomalous: this.windowsAnomalous, alerts: this.alerts, suppressed: this.suppressed },
      hosts: this.hosts.snapshot(),
      peers: this.peers.snapshot(),
      services: this.services.snapshot(),
    };
  }

  /** The model a snapshot describes; it scores exactly as the one that wrote it would have. */
  static fromJSON(s: WindowModelSnapshot): WindowModel {
    if (s.kind !== 'vigil.window-model' || s.version !== 1) throw new Error(`not a window model snapshot of a known version (${String(s.kind)} v${String(s.version)})`);
    const m = new WindowModel(s.options, KitNET.deserialize(Buffer.from(s.kitnet, 'base64')));
    if (s.population.length !== NC) throw new Error('corrupt window model snapshot: population');
    m.population.set(s.population);
    m.populationN = s.populationN;
    if (s.t0 !== null) m.t0 = s.t0;
    m.clock = s.clock ?? -Infinity;
    m.current = s.current ?? -Infinity;
    m.windowsScored = s.counters.windowsScored;
    m.windowsAnomalous = s.counters.windowsAnomalous;
    m.alerts = s.counters.alerts;
    m.suppressed = s.counters.suppressed;
    m.hosts.restore(s.hosts);
    m.peers.restore(s.peers);
    m.services.restore(s.services);
    return m;
  }

  /** Counts one packet; closes (and scores) every window that ended before it. */
  packet(p: PacketInput): void {
    let t = p.time;
    if (t < this.clock) t = this.clock;
    else this.clock = t;
    if (this.t0 === undefined) this.t0 = t;
    const w = Math.floor(t / this.opts.windowSeconds);
    if (w !== this.current) this.advance(w, t);
    const inb = p.internal;
    if ((inb & 1) !== 0) this.sent(p, w, t, inb);
    if ((inb & 2) !== 0) {
      const i = this.host(p.dstIp, w, t);
      if (i >= 0) {
        const d = this.hosts.data;
        const o = i * H_STRIDE + H_CNT;
        d[o + C_PKT_IN]! += 1;
        d[o + C_BYTES_IN]! += p.length;
        if ((p.flags & REFUSED) !== 0 || (p.proto === 6 && (p.flags & 0x04) !== 0)) d[o + C_REFUSED]! += 1;
      }
    }
  }

  /** Closes every open window (end of a capture, or a checkpoint of a live one). */
  flush(): void {
    if (this.current === -Infinity) return;
    this.advance(this.current + 1, (this.current + 1) * this.opts.windowSeconds);
  }

  private sent(p: PacketInput, w: number, t: number, inb: number): void {
    const i = this.host(p.srcIp, w, t);
    if (i < 0) return;
    const hosts = this.hosts;
    const d = hosts.data;
    const ho = i * H_STRIDE;
    const o = ho + H_CNT;
    d[o + C_PKT_OUT]! += 1;
    d[o + C_BYTES_OUT]! += p.length;
    const f = p.flags;
    if (p.proto === 6 && (f & 0x12) === 0x02) d[o + C_ATTEMPTS]! += 1;
    if ((inb & 4) !== 0) return; // multicast and broadcast: announcements, not peers
    const src = p.srcIp;
    const dst = p.dstIp;
    const external = (inb & 2) === 0;
    // (host, peer)
    const pt = this.peers;
    const ph = hashKey(src, dst, 0);
    let j = pt.find(ph, src, dst, 0);
    if (j < 0) {
      d[o + C_NEW_PEERS]! += 1;
      d[ho + H_NEW_PEER] = dst;
      if (external) d[o + C_NEW_EXT]! += 1;
      if (d[ho + H_PEERS_HELD]! < this.limits.peersPerHost) {
        j = pt.insert(ph, src, dst, 0, t);
        pt.data[j] = -1;
        d[ho + H_PEERS_HELD]! += 1;
      }
    } else pt.touch(j, t);
    if (j < 0 || pt.data[j] !== w) {
      d[o + C_PEERS]! += 1;
      if (external) d[o + C_EXT_PEERS]! += 1;
      if (j >= 0) pt.data[j] = w;
    }
    // (host, peer, service): the service is the lower port (the other is ephemeral), with which side the host is on.
    const sp = p.srcPort;
    const dp = p.dstPort;
    const client = dp <= sp ? 1 : 0;
    const k2 = p.proto * 131072 + client * 65536 + (client === 1 ? dp : sp);
    const st = this.services;
    const sh = hashKey(src, dst, k2);
    let k = st.find(sh, src, dst, k2);
    if (k < 0) {
      d[o + C_NEW_SERVICES]! += 1;
      d[ho + H_NEW_SERVICE] = k2;
      if (d[ho + H_SERVICES_HELD]! < this.limits.servicesPerHost) {
        k = st.insert(sh, src, dst, k2, t);
        st.data[k] = -1;
        d[ho + H_SERVICES_HELD]! += 1;
      }
    } else st.touch(k, t);
    if (k < 0 || st.data[k] !== w) {
      d[o + C_SERVICES]! += 1;
      if (k >= 0) st.data[k] = w;
    }
  }

  /** The host's record with its window open at w (-1 if the table cannot hold it: never, it evicts). */
  private host(key: number, w: number, t: number): number {
    const tb = this.hosts;
    const h = hashKey(key, 0, 0);
    let i = tb.find(h, key, 0, 0);
    if (i < 0) {
      i = tb.insert(h, key, 0, 0, t);
      const d = tb.data;
      d[i * H_STRIDE + H_LAST_ALERT] = -Infinity;
      d[i * H_STRIDE + H_NEW_PEER] = -1;
      d[i * H_STRIDE + H_NEW_SERVICE] = -1;
      d[i * H_STRIDE + H_FIRST] = t;
    } else tb.touch(i, t);
    const d = tb.data;
    const o = i * H_STRIDE;
    if (d[o + H_WIN] !== w) {
      d[o + H_WIN] = w;
      d.fill(0, o + H_CNT, o + H_CNT + NC);
    }
    return i;
  }

  private release(tb: StatTable, i: number, counter: number): void {
    const owner = tb.key(i, 0);
    const hi = this.hosts.find(hashKey(owner, 0, 0), owner, 0, 0);
    if (hi < 0) return;
    const o = hi * H_STRIDE + counter;
    if (this.hosts.data[o]! > 0) this.hosts.data[o] = this.hosts.data[o]! - 1;
  }

  /** A new window begins: close the open ones, move the learning phases on, forget the long idle. */
  private advance(w: number, t: number): void {
    const prev = this.current;
    this.current = w;
    if (prev !== -Infinity) {
      const windowSeconds = this.opts.windowSeconds;
      this.hosts.forEach((i) => {
        const o = i * H_STRIDE;
        const hw = this.hosts.data[o + H_WIN]!;
        if (hw >= 0 && hw < w) {
          this.close(i, hw, hw * windowSeconds, (hw + 1) * windowSeconds);
          this.hosts.data[o + H_WIN] = -1;
        }
      });
    }
    this.phases(t);
    this.hosts.expire(t);
    this.peers.expire(t);
    this.services.expire(t);
  }

  private phases(t: number): void {
    const k = this.model;
    if (k.phase === 'executing' || this.t0 === undefined) return;
    const el = t - this.t0;
    const L = this.opts.learnSeconds;
    const fm = this.opts.fmFraction;
    if (k.phase === 'mapping' && el >= L * fm) k.endFeatureMapping();
    if (k.phase === 'training') {
      if (el >= L * (fm + (1 - fm) * (1 - k.opts.calibrationFraction))) k.beginCalibration();
      if (el >= L) k.endTraining();
    }
  }

  /** Scores (or learns from) host i's window [from, to). */
  private close(i: number, w: number, from: number, to: number): void {
    const d = this.hosts.data;
    const o = i * H_STRIDE;
    const x = this.x;
    const n = d[o + H_N]!;
    if (n === 0) {
      // First window of this host: compare it with the population until it has its own history.
      const src = this.populationN > 0 ? this.population : undefined;
      for (let c = 0; c < NC; c++) d[o + H_MEAN + c] = src === undefined ? Math.log1p(d[o + H_CNT + c]!) : src[c]!;
    }
    for (let c = 0; c < NC; c++) {
      const v = Math.log1p(d[o + H_CNT + c]!);
      x[c] = v;
      x[NC + c] = v - d[o + H_MEAN + c]!;
    }
    const k = this.model;
    if (k.phase !== 'executing') {
      k.process(x);
      this.learnMeans(o, 1 / (n + 1));
      this.populationN++;
      for (let c = 0; c < NC; c++) this.population[c] = this.population[c]! + (x[c]! - this.population[c]!) / this.populationN;
      return;
    }
    const score = k.execute(x);
    const thr = k.threshold();
    const anomalous = score > thr;
    this.windowsScored++;
    let alert: WindowAlert | undefined;
    if (!anomalous) {
      d[o + H_ABOVE] = 0;
      this.learnMeans(o, 1 / Math.min(n + 1, this.opts.driftWindows));
    } else {
      this.windowsAnomalous++;
      const above = d[o + H_ABOVE]! + 1;
      d[o + H_ABOVE] = above;
      // For a host without a history everything is new: that is the baseline's "new device", not evidence
      // here. A host has one when it was there while learning, or has been active for minHistory windows since.
      const known = n >= this.opts.minHistory || (this.t0 !== undefined && d[o + H_FIRST]! < this.t0 + this.opts.learnSeconds);
      const somethingNew = known && (d[o + H_CNT + C_NEW_PEERS]! > 0 || d[o + H_CNT + C_NEW_SERVICES]! > 0);
      if (somethingNew || above >= this.opts.persistence) {
        if (to - d[o + H_LAST_ALERT]! < this.opts.alertIntervalSeconds) {
          d[o + H_SUPPRESSED]! += 1;
          this.suppressed++;
        } else {
          alert = this.describe(i, from, to, score, thr, somethingNew ? 'new' : 'persistent');
          d[o + H_LAST_ALERT] = to;
          d[o + H_SUPPRESSED] = 0;
          this.alerts++;
          this.onAlert?.(alert);
        }
      }
    }
    this.onWindow?.({ hostKey: this.hosts.key(i, 0), window: w, score, anomalous, alert });
  }

  /** Moves host o's means toward this window's log counts (x) by a. */
  private learnMeans(o: number, a: number): void {
    const d = this.hosts.data;
    const x = this.x;
    for (let c = 0; c < NC; c++) d[o + H_MEAN + c] = d[o + H_MEAN + c]! + a * (x[c]! - d[o + H_MEAN + c]!);
    d[o + H_N] = d[o + H_N]! + 1;
  }

  /** The alert for host i's window, with the counts that drove the score, in words. */
  private describe(i: number, from: number, to: number, score: number, threshold: number, reason: WindowAlert['reason']): WindowAlert {
    const d = this.hosts.data;
    const o = i * H_STRIDE;
    const hostKey = this.hosts.key(i, 0);
    const host = hostKeyToString(hostKey);
    // One entry per count: its raw and its host-relative input say the same thing.
    const share = new Float64Array(NC);
    for (const c of this.model.explain(this.x, N_WINDOW_FEATURES)) share[c.feature % NC] = share[c.feature % NC]! + c.contribution;
    const order = [...share.keys()].filter((c) => share[c]! > 0).sort((a, b) => share[b]! - share[a]! || a - b);
    const features: WindowFeature[] = order.slice(0, this.opts.topFeatures).map((c) => {
      const value = d[o + H_CNT + c]!;
      const usual = Math.expm1(d[o + H_MEAN + c]!);
      return { count: WINDOW_COUNTS[c]!, value, usual, contribution: share[c]!, words: countWords(c, value, usual) };
    });
    let example: string | undefined;
    const np = d[o + H_NEW_PEER]!;
    const ns = d[o + H_NEW_SERVICE]!;
    if (d[o + H_CNT + C_NEW_SERVICES]! > 0 && ns >= 0) {
      const proto = Math.floor(ns / 131072);
      const port = ns % 65536;
      const client = Math.floor(ns / 65536) % 2 === 1;
      example = `${client ? 'to' : 'from'} ${np >= 0 ? hostKeyToString(np) : 'a peer'} ${PROTO_NAME[proto] ?? `proto ${proto}`}/${port}`;
    } else if (d[o + H_CNT + C_NEW_PEERS]! > 0 && np >= 0) example = `with ${hostKeyToString(np)}`;
    const suppressed = d[o + H_SUPPRESSED]!;
    const minute = (s: number): string => new Date(s * 1000).toISOString().slice(11, 16);
    const why = reason === 'new' ? `and it did something never seen for it${example !== undefined ? ` (e.g. ${example})` : ''}` : `for ${d[o + H_ABOVE]!} windows in a row`;
    const text =
      `${host} behaved unlike its learning period between ${minute(from)} and ${minute(to)} UTC (score ${(score / threshold).toFixed(1)}× the threshold) ${why}: ` +
      features.map((f) => f.words).join('; ') +
      (suppressed > 0 ? ` (${suppressed} more anomalous windows since its previous alert)` : '') +
      '.';
    const alert: WindowAlert = { hostKey, host, from, time: to, score, threshold, reason, suppressed, features, text };
    if (example !== undefined) alert.example = example;
    if (example !== undefined && np >= 0) alert.peer = hostKeyToString(np);
    return alert;
  }
}

function amount(c: number, v: number): string {
  if (c === C_BYTES_OUT || c === C_BYTES_IN) {
    if (v >= 1e9) return `${(v / 1e9).toFixed(1)} GB`;
    if (v >= 1e6) return `${(v / 1e6).toFixed(1)} MB`;
    if (v >= 1e3) return `${(v / 1e3).toFixed(0)} kB`;
    return `${Math.round(v)} bytes`;
  }
  return v >= 10 || v === Math.round(v) ? Math.round(v).toLocaleString('en') : v.toFixed(1);
}

/** "talked to 14 peers (usually 2.1 a window)". */
export function countWords(c: number, value: number, usual: number): string {
  const what: Record<number, string> = {
    [C_PKT_OUT]: `sent ${amount(c, value)} packets`,
    [C_BYTES_OUT]: `sent ${amount(c, value)}`,
    [C_PKT_IN]: `received ${amount(c, value)} packets`,
    [C_BYTES_IN]: `received ${amount(c, value)}`,
    [C_PEERS]: `talked to ${amount(c, value)} peers`,
    [C_SERVICES]: `used ${amount(c, value)} services (peer and port)`,
    [C_NEW_PEERS]: `talked to ${amount(c, value)} peers never seen for it`,
    [C_NEW_SERVICES]: `used ${amount(c, value)} services never seen for it`,
    [C_ATTEMPTS]: `opened ${amount(c, value)} TCP connections`,
    [C_REFUSED]: `was refused ${amount(c, value)} times (TCP resets, ICMP unreachable)`,
    [C_EXT_PEERS]: `talked to ${amount(c, value)} Internet addresses`,
    [C_NEW_EXT]: `talked to ${amount(c, value)} Internet addresses never seen for it`,
  };
  return `${what[c]} (usually ${amount(c, usual)} a window)`;
}
