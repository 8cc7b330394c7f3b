/**
 * Packet-level behaviour anomalies: Kitsune-style damped statistics (incstats.ts) scored by a KitNET
 * autoencoder ensemble (kitnet.ts) that learns the network's normal traffic online, then alerts on
 * packets whose statistics it cannot reconstruct — with the features that drove the score in words.
 *
 * Learning lasts `learnPackets` packets or `learnSeconds` of capture time: the first `fmFraction` of
 * it maps the features into groups, the rest trains the autoencoders, and its last
 * `calibrationFraction` sets the threshold. After that the model is fixed (as in Kitsune): it scores,
 * it no longer learns, so an attacker cannot teach it slowly.
 *
 * Alerts are rate-limited per host (one per `alertIntervalSeconds`, the packets in between counted as
 * suppressed), and the per-host memory of that is bounded (`maxTrackedHosts`, least recent dropped).
 */
import { ipv4ToString, ipv6ToString, isInternalIpv4 } from '../packet/address.ts';
import { IpProto, type Packet } from '../packet/packet.ts';
import { FeatureExtractor, FEATURE_GROUPS, featureInfo, ipv6Key, LAMBDAS, N_FEATURES, newPacketInput, REFUSED, type ExtractorLimits, type FeatureInfo, type PacketInput } from './incstats.ts';
import { KitNET, type KitNETOptions, type KitNETPhase } from './kitnet.ts';

export interface AnomalyOptions {
  /** Learn from this many IP packets … */
  learnPackets?: number;
  /** … or from this many seconds of capture time (used when learnPackets is absent). Default 1 h. */
  learnSeconds?: number;
  /** Share of the learning period that maps features into groups (default 0.1). */
  fmFraction?: number;
  kitnet?: Partial<Omit<KitNETOptions, 'fmGracePeriod' | 'adGracePeriod'>>;
  limits?: Partial<ExtractorLimits>;
  /** At most one alert per source host per this many seconds (default 60). */
  alertIntervalSeconds?: number;
  /** Hosts whose last alert time is remembered (default 10,000). */
  maxTrackedHosts?: number;
  /** Features listed per alert (default 4). */
  topFeatures?: number;
  /** A model learnt before (its learning is then over). */
  model?: KitNET;
}

export interface AlertFeature {
  name: string;
  value: number;
  /** Average over the learning period (all hosts). */
  usual: number;
  /** Share of the score this feature explains. */
  contribution: number;
  words: string;
}

export interface AnomalyAlert {
  frame: number;
  time: number;
  score: number;
  threshold: number;
  /** Source address of the packet. */
  host: string;
  /** Destination address (with the port when a connection's statistics drove the score). */
  peer: string;
  topFeatures: AlertFeature[];
  /** Packets from this host above the threshold since its previous alert, not alerted on. */
  suppressed: number;
  text: string;
}

/** Fills the extractor's input from the sensor's decoded Packet (no allocation). */
export function fillPacketInput(p: Packet, into: PacketInput): void {
  into.time = p.time;
  into.srcMac = p.srcMac;
  if (p.ipVersion === 6) {
    into.srcIp = ipv6Key(p.buf, p.src6);
    into.dstIp = ipv6Key(p.buf, p.dst6);
  } else {
    into.srcIp = p.src4;
    into.dstIp = p.dst4;
  }
  const ports = p.proto === IpProto.TCP || p.proto === IpProto.UDP;
  into.srcPort = ports ? p.srcPort : 0;
  into.dstPort = ports ? p.dstPort : 0;
  into.length = p.origLen;
  into.proto = p.proto;
  into.flags = p.proto === IpProto.TCP ? p.tcpFlags : (p.proto === IpProto.ICMP && p.icmpType === 3) || (p.proto === IpProto.ICMPV6 && p.icmpType === 1) ? REFUSED : 0;
  if (p.ipVersion === 6) into.internal = (internal6(p.buf, p.src6) ? 1 : 0) | (internal6(p.buf, p.dst6) ? 2 : p.buf[p.dst6] === 0xff ? 4 : 0);
  else {
    const d = p.dst4;
    into.internal = (isInternalIpv4(p.src4) ? 1 : 0) | (isInternalIpv4(d) ? 2 : d >>> 28 === 14 || d === 0xffffffff ? 4 : 0);
  }
}

/** Unique-local (fc00::/7) and link-local (fe80::/10) IPv6 addresses are the hospital's own. */
function internal6(buf: Uint8Array, off: number): boolean {
  const a = buf[off]!;
  return (a & 0xfe) === 0xfc || (a === 0xfe && (buf[off + 1]! & 0xc0) === 0x80);
}

interface HostAlertState {
  last: number;
  suppressed: number;
}

/** Index of the channel's packet-rate feature at the 100 s window: near 1 on a peer not seen lately. */
const CHANNEL_RATE_SLOW = FEATURE_GROUPS.channel + 4 * 7;

export class PacketAnomalyDetector {
  readonly extractor: FeatureExtractor;
  readonly model: KitNET;
  /** The score of the last packet (0 while learning). */
  lastScore = 0;
  alerts = 0;
  suppressed = 0;
  private readonly x = new Float64Array(N_FEATURES);
  private readonly input = newPacketInput();
  private readonly opts: Required<Pick<AnomalyOptions, 'fmFraction' | 'alertIntervalSeconds' | 'maxTrackedHosts' | 'topFeatures'>>;
  private readonly learnSeconds: number | undefined;
  private t0: number | undefined;
  private readonly hostState = new Map<number, HostAlertState>();
  private readonly info: FeatureInfo[] = featureInfo();

  constructor(opts: AnomalyOptions = {}) {
    this.opts = {
      fmFraction: opts.fmFraction ?? 0.1,
      alertIntervalSeconds: opts.alertIntervalSeconds ?? 60,
      maxTrackedHosts: opts.maxTrackedHosts ?? 10_000,
      topFeatures: opts.topFeatures ?? 4,
    };
    this.extractor = new FeatureExtractor(opts.limits);
    if (opts.model !== undefined) {
      this.model = opts.model;
      return;
    }
    const fm = this.opts.fmFraction;
    if (opts.learnPackets !== undefined) {
      const fmN = Math.max(1, Math.round(opts.learnPackets * fm));
      this.model = new KitNET(N_FEATURES, { ...opts.kitnet, fmGracePeriod: fmN, adGracePeriod: Math.max(1, opts.learnPackets - fmN) });
    } else {
      // Phases end by time: counts that never end them by themselves.
      this.learnSeconds = opts.learnSeconds ?? 3600;
      this.model = new KitNET(N_FEATURES, { ...opts.kitnet, fmGracePeriod: Number.MAX_SAFE_INTEGER, adGracePeriod: Number.MAX_SAFE_INTEGER });
    }
  }

  get phase(): KitNETPhase {
    return this.model.phase;
  }

  threshold(): number {
    return this.model.threshold();
  }

  /** Bytes of the statistics tables (bounded by the limits). */
  get bytes(): number {
    return this.extractor.bytes;
  }

  /** Learns from or scores one decoded packet; returns an alert when it is anomalous (and not rate-limited). */
  packet(p: Packet, frame = p.frame): AnomalyAlert | undefined {
    if (p.ipVersion === 0) return undefined;
    fillPacketInput(p, this.input);
    const score = this.score(this.input);
    if (score <= this.model.threshold()) return undefined;
    const key = this.input.srcIp;
    const now = this.input.time;
    const st = this.hostState.get(key);
    if (st !== undefined && now - st.last < this.opts.alertIntervalSeconds) {
      st.suppressed++;
      this.suppressed++;
      return undefined;
    }
    const suppressed = st?.suppressed ?? 0;
    this.hostState.delete(key);
    this.hostState.set(key, { last: now, suppressed: 0 });
    if (this.hostState.size > this.opts.maxTrackedHosts) {
      const oldest = this.hostState.keys().next().value;
      if (oldest !== undefined) this.hostState.delete(oldest);
    }
    this.alerts++;
    const host = p.ipVersion === 6 ? ipv6ToString(p.buf, p.src6) : ipv4ToString(p.src4);
    const peer = p.ipVersion === 6 ? ipv6ToString(p.buf, p.dst6) : ipv4ToString(p.dst4);
    return this.describe(frame, now, score, host, peer, p.dstPort, suppressed);
  }

  /**
   * Extracts the features of `inp` and learns from them (learning period) or scores them. Returns the
   * score (0 while learning). The features stay in `features` until the next call.
   */
  score(inp: PacketInput): number {
    const k = this.model;
    if (this.learnSeconds !== undefined && k.phase !== 'executing') {
      if (this.t0 === undefined) this.t0 = inp.time;
      const el = inp.time - this.t0;
      const L = this.learnSeconds;
      const fm = this.opts.fmFraction;
      if (k.phase === 'mapping' && el >= L * fm) k.endFeatureMapping();
      if (k.phase === 'training') {
        if (el >= L * (fm + (1 - fm) * (1 - k.opts.calibrationFraction))) k.beginCalibration();
        if (el >= L) k.endTraining();
      }
    }
    this.extractor.extract(inp, this.x);
    const s = k.process(this.x);
    this.lastScore = s;
    return s;
  }

  /** The features of the last packet scored. */
  get features(): Float64Array {
    return this.x;
  }

  /** An alert for the last packet scored: its strongest features, in words. */
  describe(frame: number, time: number, score: number, host: string, peer: string, dstPort: number, suppressed = 0): AnomalyAlert {
    const k = this.model;
    const x = this.x;
    const threshold = k.threshold();
    // Strongest features, one per (stream, statistic): five windows of one statistic say one thing.
    const seen = new Set<string>();
    const top: AlertFeature[] = [];
    for (const c of k.explain(x, 40)) {
      const inf = this.info[c.feature]!;
      const what = `${inf.group}/${inf.stat}`;
      if (seen.has(what)) continue;
      seen.add(what);
      const value = x[c.feature]!;
      const usual = k.trainMean[c.feature]!;
      top.push({ name: inf.name, value, usual, contribution: c.contribution, words: featureWords(inf, value, usual, k.trainMax[c.feature]!) });
      if (top.length >= this.opts.topFeatures) break;
    }
    const lead = top[0] !== undefined ? this.info.find((f) => f.name === top[0]!.name) : undefined;
    const socket = lead?.group === 'socket';
    const peerText = socket && dstPort > 0 ? `${peer}:${dstPort}` : peer;
    const newPeer = x[CHANNEL_RATE_SLOW]! < 1.5;
    let verb: string;
    switch (lead?.stat) {
      case 'rate':
        verb = 'sent packets at a rate';
        break;
      case 'mean':
      case 'std':
      case 'magnitude':
      case 'radius':
        verb = lead.group === 'jitter' ? 'sent packets with timing' : 'sent packets of sizes';
        break;
      default:
        verb = 'exchanged requests and replies in a pattern';
    }
    const to = newPeer ? `to ${peerText}, a peer it had not talked to recently,` : `to ${peerText}`;
    const ratio = score / threshold;
    const text =
      `${host} ${verb} ${to} unlike anything in the learning period (anomaly score ${fmt(ratio)}× the threshold): ` +
      top.map((f) => `${f.name} ${f.words}`).join('; ') +
      (suppressed > 0 ? ` (${suppressed} more anomalous packets from this host since its last alert)` : '') +
      '.';
    return { frame, time, score, threshold, host, peer: peerText, topFeatures: top, suppressed, text };
  }
}

/** "40× its usual (about 2 packets/s)" and the like. */
export function featureWords(inf: FeatureInfo, value: number, usual: number, max: number): string {
  const unit = (v: number): string => {
    switch (inf.stat) {
      case 'rate':
        // A decayed count w at rate r settles at r / (λ ln 2).
        return `${fmt(v * LAMBDAS[inf.window]! * Math.LN2)} packets/s`;
      case 'mean':
      case 'std':
        return inf.group === 'jitter' ? `${fmt(v)} s` : `${fmt(v)} bytes`;
      case 'magnitude':
      case 'radius':
        return `${fmt(v)} bytes`;
      case 'covariance':
        return fmt(v);
      case 'correlation':
        return v.toFixed(2);
    }
  };
  let words: string;
  if (inf.stat === 'correlation' || inf.stat === 'covariance') words = `was ${unit(value)} (usually ${unit(usual)})`;
  else if (usual > 0 && value / usual >= 1.5) words = `was ${fmt(value / usual)}× the usual (${unit(value)} against ${unit(usual)})`;
  else if (usual > 0 && value > 0 && value / usual <= 2 / 3) words = `was ${fmt(usual / value)}× below the usual (${unit(value)} against ${unit(usual)})`;
  else if (usual > 0 && value === 0) words = `was zero (usually ${unit(usual)})`;
  else words = `was ${unit(value)} (usually ${unit(usual)}), unusual in combination with the others`;
  if (value > max && Number.isFinite(max)) words += `, above anything seen while learning (${unit(max)})`;
  return words;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 100) return Math.round(v).toLocaleString('en');
  if (a >= 10) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(2);
  return v.toPrecision(2);
}
