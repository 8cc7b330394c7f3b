/**
 * KitNET (Mirsky et al., NDSS 2018): an online, unsupervised anomaly detector made of an ensemble of
 * small autoencoders, in Float64Arrays.
 *
 * Three phases, each online (one vector at a time, nothing stored):
 *
 *   1. feature mapping (`fmGracePeriod` vectors): an incremental correlation matrix of the features;
 *      at its end the features are clustered (single linkage on the correlation distance 1 − r,
 *      clipped at 0, as Kitsune does) and the dendrogram is cut into groups of at most `maxAE` features;
 *   2. training (`adGracePeriod` vectors): one autoencoder per group (hidden = ⌈ratio × inputs⌉,
 *      tied weights, sigmoid, plain SGD, inputs scaled 0–1 by the min/max seen in training, with a
 *      floor on the range — see `rescale`) learns to
 *      reconstruct its features; the RMSE of each becomes the input of an output autoencoder;
 *   3. execution: the output autoencoder's RMSE is the anomaly score.
 *
 * The threshold comes from the training phase: the last `calibrationFraction` of it scores each
 * vector before learning from it (prequential), and the threshold is the maximum (default), a quantile
 * (from a bounded reservoir) or a log-normal tail of those scores, times `thresholdMargin`.
 *
 * Speed: the logistic function is a table, the encoder reads transposed weights, inner loops are
 * unrolled by two; about 4–5 µs per 115-feature vector on one core (bench/behavior.ts).
 *
 * Deterministic: weights start from a seeded PRNG, so one seed and one input give one model.
 */

export interface KitNETOptions {
  /** Largest number of features per autoencoder (Kitsune's m). */
  maxAE: number;
  /** Vectors that feed the feature mapping. */
  fmGracePeriod: number;
  /** Vectors that train the autoencoders after the mapping. */
  adGracePeriod: number;
  learningRate: number;
  /** Hidden units per visible unit (0.75: a 25 % compression). */
  hiddenRatio: number;
  seed: number | string;
  /** How the threshold is set from the calibration scores. */
  thresholdMethod: 'max' | 'quantile' | 'lognormal';
  /** For 'quantile': which one (0.999); for 'lognormal': the tail probability above threshold (1e-4). */
  thresholdQ: number;
  /** Multiplies the threshold (1 = as learnt). */
  thresholdMargin: number;
  /** Final fraction of the training phase whose scores set the threshold. */
  calibrationFraction: number;
}

export const DEFAULT_KITNET_OPTIONS: KitNETOptions = {
  maxAE: 10,
  fmGracePeriod: 5_000,
  adGracePeriod: 50_000,
  learningRate: 0.1,
  hiddenRatio: 0.75,
  seed: 'kitnet',
  thresholdMethod: 'max',
  thresholdQ: 0.999,
  thresholdMargin: 1,
  calibrationFraction: 0.25,
};

/** Reservoir of calibration scores kept for the quantile threshold. */
const RESERVOIR = 8_192;

export type KitNETPhase = 'mapping' | 'training' | 'executing';

/** sfc32, seeded by a string hash: small, fast, and the same on every machine. */
export class SeededRng {
  s = new Uint32Array(4);

  constructor(seed: number | string) {
    const text = String(seed);
    let h1 = 1779033703;
    let h2 = 3144134277;
    let h3 = 1013904242;
    let h4 = 2773480762;
    for (let i = 0; i < text.length; i++) {
      const k = text.charCodeAt(i);
      h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
      h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
      h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
      h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
    }
    this.s[0] = h1;
    this.s[1] = h2;
    this.s[2] = h3;
    this.s[3] = h4;
    for (let i = 0; i < 15; i++) this.u32();
  }

  u32(): number {
    const s = this.s;
    const a = s[0]!;
    const b = s[1]!;
    const c = s[2]!;
    const d = s[3]!;
    const t = (((a + b) >>> 0) + d) >>> 0;
    s[3] = d + 1;
    s[0] = b ^ (b >>> 9);
    s[1] = c + (c << 3);
    s[2] = ((c << 21) | (c >>> 11)) + t;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
}

// ---- one autoencoder -----------------------------------------------------------------------------

/**
 * The logistic function from a table (linear interpolation, error < 3e-7): Math.exp was most of the
 * scoring time. Beyond ±16 it is within 1.2e-7 of 0 or 1 and is held at the table's ends.
 */
const SIG_LIM = 16;
const SIG_RES = 256;
const SIG_N = 2 * SIG_LIM * SIG_RES;
const SIG = new Float64Array(SIG_N + 2);
for (let i = 0; i <= SIG_N + 1; i++) SIG[i] = 1 / (1 + Math.exp(-(i / SIG_RES - SIG_LIM)));

export function sigmoid(a: number): number {
  if (!(a > -SIG_LIM)) return SIG[0]!;
  if (a >= SIG_LIM) return SIG[SIG_N]!;
  const u = (a + SIG_LIM) * SIG_RES;
  const i = u | 0;
  const lo = SIG[i]!;
  return lo + (u - i) * (SIG[i + 1]! - lo);
}

/** A denoising-free autoencoder with tied weights (Kitsune's dA), on a gather of the input. */
export class AutoEncoder {
  readonly nV: number;
  readonly nH: number;
  /** W[i * nH + j]: visible i ↔ hidden j. */
  readonly W: Float64Array;
  /** The same weights transposed, WT[j * nV + i], so the encoder reads them in order. */
  readonly WT: Float64Array;
  readonly hb: Float64Array;
  readonly vb: Float64Array;
  readonly normMin: Float64Array;
  readonly normMax: Float64Array;
  /** Scaling derived from normMin/normMax: xs = (x − off) × mul. */
  private readonly off: Float64Array;
  private readonly mul: Float64Array;
  /** Scratch: scaled input, hidden, reconstruction, hidden error. */
  readonly xs: Float64Array;
  readonly y: Float64Array;
  readonly z: Float64Array;
  private readonly eh: Float64Array;

  constructor(nV: number, hiddenRatio: number, rng: SeededRng | undefined) {
    this.nV = nV;
    this.nH = Math.max(1, Math.ceil(nV * hiddenRatio));
    this.W = new Float64Array(nV * this.nH);
    this.WT = new Float64Array(nV * this.nH);
    this.hb = new Float64Array(this.nH);
    this.vb = new Float64Array(nV);
    this.normMin = new Float64Array(nV).fill(Infinity);
    this.normMax = new Float64Array(nV).fill(-Infinity);
    this.off = new Float64Array(nV);
    this.mul = new Float64Array(nV);
    this.xs = new Float64Array(nV);
    this.y = new Float64Array(this.nH);
    this.z = new Float64Array(nV);
    this.eh = new Float64Array(this.nH);
    if (rng !== undefined) {
      const a = 1 / nV;
      for (let i = 0; i < this.W.length; i++) this.W[i] = (rng.next() * 2 - 1) * a;
      this.transpose();
    }
  }

  /** WT from W (after loading weights). */
  transpose(): void {
    const nV = this.nV;
    const nH = this.nH;
    for (let i = 0; i < nV; i++) for (let j = 0; j < nH; j++) this.WT[j * nV + i] = this.W[i * nH + j]!;
  }

  /** Scales x (gathered through idx, or x itself when idx is undefined) into xs. */
  private scale(x: Float64Array, idx: Int32Array | undefined, learn: boolean): void {
    const nV = this.nV;
    const xs = this.xs;
    const off = this.off;
    const mul = this.mul;
    if (learn) {
      const mn = this.normMin;
      const mx = this.normMax;
      for (let i = 0; i < nV; i++) {
        const v = idx === undefined ? x[i]! : x[idx[i]!]!;
        if (v < mn[i]! || v > mx[i]!) {
          if (v < mn[i]!) mn[i] = v;
          if (v > mx[i]!) mx[i] = v;
          this.rescale(i);
        }
        xs[i] = (v - off[i]!) * mul[i]!;
      }
    } else if (idx === undefined) {
      for (let i = 0; i < nV; i++) xs[i] = (x[i]! - off[i]!) * mul[i]!;
    } else {
      for (let i = 0; i < nV; i++) xs[i] = (x[idx[i]!]! - off[i]!) * mul[i]!;
    }
  }

  /**
   * Input i scaled as (v − min) / range, where the range is the training span but at least 1 % of the
   * feature's magnitude (and 0.01): a feature that barely moved in training (a perfectly periodic poll,
   * float noise) must not turn a rounding difference into a huge score, as plain min–max scaling does.
   */
  rescale(i: number): void {
    const lo = this.normMin[i]!;
    const hi = this.normMax[i]!;
    if (lo === Infinity) {
      this.off[i] = 0;
      this.mul[i] = 0;
    } else {
      this.off[i] = lo;
      this.mul[i] = 1 / Math.max(hi - lo, 0.01 * Math.max(Math.abs(lo), Math.abs(hi)), 0.01);
    }
  }

  private forward(): number {
    const nV = this.nV;
    const nH = this.nH;
    const W = this.W;
    const xs = this.xs;
    const y = this.y;
    const z = this.z;
    const WT = this.WT;
    const hb = this.hb;
    const vb = this.vb;
    for (let j = 0; j < nH; j++) {
      const o = j * nV;
      let a = hb[j]!;
      let b = 0;
      let i = 0;
      for (; i + 1 < nV; i += 2) {
        a += xs[i]! * WT[o + i]!;
        b += xs[i + 1]! * WT[o + i + 1]!;
      }
      if (i < nV) a += xs[i]! * WT[o + i]!;
      y[j] = a + b;
    }
    for (let j = 0; j < nH; j++) {
      const a = y[j]!;
      let v: number;
      if (!(a > -SIG_LIM)) v = SIG[0]!;
      else if (a >= SIG_LIM) v = SIG[SIG_N]!;
      else {
        const u = (a + SIG_LIM) * SIG_RES;
        const k = u | 0;
        const lo = SIG[k]!;
        v = lo + (u - k) * (SIG[k + 1]! - lo);
      }
      y[j] = v;
    }
    let se = 0;
    for (let i = 0; i < nV; i++) {
      const o = i * nH;
      let a = vb[i]!;
      let b = 0;
      let j = 0;
      for (; j + 1 < nH; j += 2) {
        a += y[j]! * W[o + j]!;
        b += y[j + 1]! * W[o + j + 1]!;
      }
      if (j < nH) a += y[j]! * W[o + j]!;
      a += b;
      let zi: number;
      if (!(a > -SIG_LIM)) zi = SIG[0]!;
      else if (a >= SIG_LIM) zi = SIG[SIG_N]!;
      else {
        const u = (a + SIG_LIM) * SIG_RES;
        const k = u | 0;
        const lo = SIG[k]!;
        zi = lo + (u - k) * (SIG[k + 1]! - lo);
      }
      z[i] = zi;
      const e = xs[i]! - zi;
      se += e * e;
    }
    return Math.sqrt(se / nV);
  }

  /** Reconstruction RMSE of x (no learning). */
  execute(x: Float64Array, idx?: Int32Array): number {
    this.scale(x, idx, false);
    return this.forward();
  }

  /** Learns from x (one SGD step, after widening the scaling); returns the RMSE before the step. */
  train(x: Float64Array, idx: Int32Array | undefined, lr: number): number {
    this.scale(x, idx, true);
    const rmse = this.forward();
    const nV = this.nV;
    const nH = this.nH;
    const W = this.W;
    const xs = this.xs;
    const y = this.y;
    const z = this.z;
    const eh = this.eh;
    const WT = this.WT;
    // Hidden error: (x − z) · W ⊙ y(1 − y); output error x − z (Kitsune's cross-entropy gradient).
    for (let j = 0; j < nH; j++) eh[j] = 0;
    for (let i = 0; i < nV; i++) {
      const e = xs[i]! - z[i]!;
      const o = i * nH;
      for (let j = 0; j < nH; j++) eh[j] = eh[j]! + e * W[o + j]!;
    }
    for (let j = 0; j < nH; j++) {
      const yj = y[j]!;
      eh[j] = eh[j]! * yj * (1 - yj);
    }
    for (let i = 0; i < nV; i++) {
      const xi = xs[i]!;
      const e = xs[i]! - z[i]!;
      const o = i * nH;
      for (let j = 0; j < nH; j++) {
        const w = W[o + j]! + lr * (xi * eh[j]! + e * y[j]!);
        W[o + j] = w;
        WT[j * nV + i] = w;
      }
      this.vb[i] = this.vb[i]! + lr * e;
    }
    for (let j = 0; j < nH; j++) this.hb[j] = this.hb[j]! + lr * eh[j]!;
    return rmse;
  }
}

// ---- feature mapping -----------------------------------------------------------------------------

/** Kitsune's incremental correlation of features (corClust), upper triangle only. */
class CorrelationClusterer {
  n: number;
  N = 0;
  c: Float64Array;
  crs: Float64Array;
  /** C[i * n + j], j ≥ i: sum of residual products. */
  C: Float64Array;
  private readonly r: Float64Array;

  constructor(n: number) {
    this.n = n;
    this.c = new Float64Array(n);
    this.crs = new Float64Array(n);
    this.C = new Float64Array(n * n);
    this.r = new Float64Array(n);
  }

  update(x: Float64Array): void {
    const n = this.n;
    this.N++;
    const N = this.N;
    const r = this.r;
    for (let i = 0; i < n; i++) {
      const ci = this.c[i]! + x[i]!;
      this.c[i] = ci;
      const ri = x[i]! - ci / N;
      r[i] = ri;
      this.crs[i] = this.crs[i]! + ri * ri;
    }
    const C = this.C;
    for (let i = 0; i < n; i++) {
      const ri = r[i]!;
      if (ri === 0) continue;
      const o = i * n;
      for (let j = i; j < n; j++) C[o + j] = C[o + j]! + ri * r[j]!;
    }
  }

  /** Distance 1 − r (clipped at 0) between features i < j. */
  dist(i: number, j: number): number {
    const a = i < j ? i : j;
    const b = i < j ? j : i;
    let s = Math.sqrt(this.crs[a]!) * Math.sqrt(this.crs[b]!);
    if (s === 0) s = 1e-100;
    const d = 1 - this.C[a * this.n + b]! / s;
    return d < 0 ? 0 : d;
  }

  /**
   * Single-linkage clustering (Prim's minimum spanning tree, merged in order of edge length), then
   * the dendrogram is split from the top until every cluster has at most `m` features.
   */
  cluster(m: number): number[][] {
    const n = this.n;
    if (n === 0) return [];
    m = Math.max(1, Math.min(m, n));
    // Prim: O(n²) over the dense distance matrix.
    const inTree = new Uint8Array(n);
    const best = new Float64Array(n).fill(Infinity);
    const from = new Int32Array(n).fill(-1);
    const edges: Array<{ a: number; b: number; d: number }> = [];
    best[0] = 0;
    for (let k = 0; k < n; k++) {
      let u = -1;
      for (let i = 0; i < n; i++) if (inTree[i] === 0 && (u < 0 || best[i]! < best[u]!)) u = i;
      inTree[u] = 1;
      if (from[u]! >= 0) edges.push({ a: from[u]!, b: u, d: best[u]! });
      for (let i = 0; i < n; i++) {
        if (inTree[i] !== 0) continue;
        const d = this.dist(u, i);
        if (d < best[i]!) {
          best[i] = d;
          from[i] = u;
        }
      }
    }
    edges.sort((x, y) => x.d - y.d || x.a - y.a || x.b - y.b);
    // Kruskal over the MST edges builds the dendrogram: node ids n… are merges.
    const parent = new Int32Array(2 * n).map((_, i) => i);
    const find = (x: number): number => {
      while (parent[x] !== x) {
        parent[x] = parent[parent[x]!]!;
        x = parent[x]!;
      }
      return x;
    };
    const left: number[] = [];
    const right: number[] = [];
    const count: number[] = [];
    let next = n;
    for (const e of edges) {
      const ra = find(e.a);
      const rb = find(e.b);
      const id = next++;
      const ca = ra < n ? 1 : count[ra - n]!;
      const cb = rb < n ? 1 : count[rb - n]!;
      // Smaller cluster on the left, as scipy does.
      const [l, r] = ca <= cb ? [ra, rb] : [rb, ra];
      left.push(l);
      right.push(r);
      count.push(ca + cb);
      parent[ra] = id;
      parent[rb] = id;
    }
    const leaves = (node: number, acc: number[]): number[] => {
      const stack = [node];
      while (stack.length > 0) {
        const x = stack.pop()!;
        if (x < n) acc.push(x);
        else {
          stack.push(right[x - n]!);
          stack.push(left[x - n]!);
        }
      }
      return acc;
    };
    const size = (x: number): number => (x < n ? 1 : count[x - n]!);
    const out: number[][] = [];
    const split = (x: number): void => {
      if (size(x) <= m) out.push(leaves(x, []));
      else {
        split(left[x - n]!);
        split(right[x - n]!);
      }
    };
    split(next - 1);
    return out;
  }
}

// ---- the ensemble --------------------------------------------------------------------------------

export interface FeatureContribution {
  feature: number;
  /** Share of the score this feature explains (all contributions sum to 1). */
  contribution: number;
  /** The feature's value as the autoencoder saw it, scaled so that 0–1 is the training range. */
  scaled: number;
}

export class KitNET {
  readonly n: number;
  readonly opts: KitNETOptions;
  private rng: SeededRng;
  private fm: CorrelationClusterer | undefined;
  private map: Int32Array[] = [];
  private ensemble: AutoEncoder[] = [];
  private output: AutoEncoder | undefined;
  private readonly s1 = new Float64Array(0);
  private s: Float64Array = this.s1;
  /** Vectors seen in each phase. */
  nMapped = 0;
  nTrained = 0;
  nExecuted = 0;
  private phaseNow: KitNETPhase = 'mapping';
  /** Training-phase statistics of each feature (for explaining alerts in the feature's own units). */
  readonly trainMean: Float64Array;
  readonly trainMax: Float64Array;
  private trainCount = 0;
  /** Calibration: count, max, log-sum, log-square-sum, reservoir. */
  private calibrating = false;
  private calN = 0;
  private calMax = 0;
  private calLog = 0;
  private calLog2 = 0;
  private reservoir = new Float64Array(RESERVOIR);
  private thresholdValue = Infinity;

  constructor(nFeatures: number, options: Partial<KitNETOptions> = {}) {
    this.n = nFeatures;
    this.opts = { ...DEFAULT_KITNET_OPTIONS, ...options };
    this.rng = new SeededRng(this.opts.seed);
    this.fm = new CorrelationClusterer(nFeatures);
    this.trainMean = new Float64Array(nFeatures);
    this.trainMax = new Float64Array(nFeatures).fill(-Infinity);
    if (this.opts.fmGracePeriod <= 0) this.endFeatureMapping();
  }

  get phase(): KitNETPhase {
    return this.phaseNow;
  }

  /** The feature groups, one per autoencoder (empty until the mapping is done). */
  get featureMap(): number[][] {
    return this.map.map((m) => [...m]);
  }

  /**
   * Learns from x during the grace periods (returns 0), then scores it: the output autoencoder's
   * reconstruction RMSE.
   */
  process(x: Float64Array): number {
    if (this.phaseNow === 'executing') return this.execute(x);
    this.train(x);
    return 0;
  }

  /** Learns from x in the current learning phase (switching phases on the grace-period counts). */
  train(x: Float64Array): void {
    const o = this.opts;
    this.observe(x);
    if (this.phaseNow === 'mapping') {
      this.fm!.update(x);
      this.nMapped++;
      if (this.nMapped >= o.fmGracePeriod) this.endFeatureMapping();
      return;
    }
    if (this.phaseNow !== 'training') return;
    if (!this.calibrating && this.nTrained >= o.adGracePeriod * (1 - o.calibrationFraction)) this.beginCalibration();
    if (this.calibrating) this.calibrate(this.execute(x, false));
    const lr = o.learningRate;
    const s = this.s;
    for (let a = 0; a < this.ensemble.length; a++) s[a] = this.ensemble[a]!.train(x, this.map[a], lr);
    this.output!.train(s, undefined, lr);
    this.nTrained++;
    if (this.nTrained >= o.adGracePeriod) this.endTraining();
  }

  /** Ends feature mapping now (time-based learning): clusters the features and builds the ensemble. */
  endFeatureMapping(): void {
    if (this.phaseNow !== 'mapping') return;
    const groups = this.fm!.cluster(this.opts.maxAE);
    this.fm = undefined;
    this.build(groups);
    this.phaseNow = 'training';
  }

  /** Starts collecting the scores that set the threshold (time-based learning; automatic otherwise). */
  beginCalibration(): void {
    this.calibrating = true;
  }

  /** Ends training now: fixes the threshold and switches to scoring. */
  endTraining(): void {
    if (this.phaseNow === 'mapping') this.endFeatureMapping();
    if (this.phaseNow !== 'training') return;
    this.thresholdValue = this.computeThreshold();
    this.calibrating = false;
    this.phaseNow = 'executing';
  }

  /** The alerting threshold on scores (Infinity until training has ended). */
  threshold(): number {
    return this.thresholdValue;
  }

  /** Scores x without learning. */
  execute(x: Float64Array, count = true): number {
    if (this.output === undefined) return 0;
    if (count) this.nExecuted++;
    const s = this.s;
    for (let a = 0; a < this.ensemble.length; a++) s[a] = this.ensemble[a]!.execute(x, this.map[a]);
    return this.output.execute(s);
  }

  /**
   * Which features drove the score of x: each autoencoder's share is the output layer's squared
   * reconstruction error on its RMSE (only where its RMSE was higher than the output layer expected),
   * split among that autoencoder's features by their own squared reconstruction errors. Sorted, largest first.
   */
  explain(x: Float64Array, top = 10): FeatureContribution[] {
    const out = this.output;
    if (out === undefined) return [];
    this.execute(x, false);
    const A = this.ensemble.length;
    const aeShare = new Float64Array(A);
    let total = 0;
    for (let a = 0; a < A; a++) {
      const e = out.xs[a]! - out.z[a]!;
      const v = e > 0 ? e * e : 0;
      aeShare[a] = v;
      total += v;
    }
    if (total === 0) {
      for (let a = 0; a < A; a++) {
        const e = out.xs[a]! - out.z[a]!;
        aeShare[a] = e * e;
        total += e * e;
      }
    }
    const res: FeatureContribution[] = [];
    if (total === 0) return res;
    for (let a = 0; a < A; a++) {
      const ae = this.ensemble[a]!;
      ae.execute(x, this.map[a]);
      let se = 0;
      for (let i = 0; i < ae.nV; i++) {
        const e = ae.xs[i]! - ae.z[i]!;
        se += e * e;
      }
      const share = aeShare[a]! / total;
      for (let i = 0; i < ae.nV; i++) {
        const e = ae.xs[i]! - ae.z[i]!;
        const c = se > 0 ? (share * e * e) / se : share / ae.nV;
        if (c > 0) res.push({ feature: this.map[a]![i]!, contribution: c, scaled: ae.xs[i]! });
      }
    }
    res.sort((p, q) => q.contribution - p.contribution || p.feature - q.feature);
    return res.slice(0, top);
  }

  private observe(x: Float64Array): void {
    const n = this.n;
    this.trainCount++;
    const k = this.trainCount;
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      this.trainMean[i] = this.trainMean[i]! + (v - this.trainMean[i]!) / k;
      if (v > this.trainMax[i]!) this.trainMax[i] = v;
    }
  }

  private build(groups: number[][]): void {
    this.map = groups.map((g) => Int32Array.from(g));
    this.ensemble = this.map.map((g) => new AutoEncoder(g.length, this.opts.hiddenRatio, this.rng));
    this.output = new AutoEncoder(this.map.length, this.opts.hiddenRatio, this.rng);
    this.s = new Float64Array(this.map.length);
  }

  private calibrate(score: number): void {
    const n = ++this.calN;
    if (score > this.calMax) this.calMax = score;
    const l = Math.log(Math.max(score, 1e-300));
    this.calLog += l;
    this.calLog2 += l * l;
    if (n <= RESERVOIR) this.reservoir[n - 1] = score;
    else {
      const j = Math.floor(this.rng.next() * n);
      if (j < RESERVOIR) this.reservoir[j] = score;
    }
  }

  private computeThreshold(): number {
    const o = this.opts;
    const n = this.calN;
    if (n === 0) return Infinity;
    let t: number;
    if (o.thresholdMethod === 'max') t = this.calMax;
    else if (o.thresholdMethod === 'quantile') {
      const k = Math.min(n, RESERVOIR);
      const sorted = Float64Array.from(this.reservoir.subarray(0, k)).sort();
      t = sorted[Math.min(k - 1, Math.floor(o.thresholdQ * k))]!;
    } else {
      const mu = this.calLog / n;
      const sd = Math.sqrt(Math.max(0, this.calLog2 / n - mu * mu));
      t = Math.exp(mu + normalQuantile(1 - o.thresholdQ) * sd);
    }
    return t * o.thresholdMargin;
  }

  // ---- persistence ---------------------------------------------------------------------------------

  /** The whole model (options, mapping, weights, scaling, threshold, PRNG) as bytes. */
  serialize(): Uint8Array {
    const w = new Writer();
    w.str('VKIT1');
    w.str(JSON.stringify({ ...this.opts, seed: String(this.opts.seed), seedType: typeof this.opts.seed }));
    w.u32(this.n);
    w.str(this.phaseNow);
    w.f64(this.nMapped);
    w.f64(this.nTrained);
    w.f64(this.nExecuted);
    w.f64(this.trainCount);
    w.arr(this.trainMean);
    w.arr(this.trainMax);
    w.u32(this.calibrating ? 1 : 0);
    w.f64(this.calN);
    w.f64(this.calMax);
    w.f64(this.calLog);
    w.f64(this.calLog2);
    w.arr(this.reservoir.subarray(0, Math.min(this.calN, RESERVOIR)));
    w.f64(this.thresholdValue);
    for (let i = 0; i < 4; i++) w.u32(this.rng.s[i]!);
    const fm = this.fm;
    w.u32(fm === undefined ? 0 : 1);
    if (fm !== undefined) {
      w.f64(fm.N);
      w.arr(fm.c);
      w.arr(fm.crs);
      w.arr(fm.C);
    }
    w.u32(this.map.length);
    for (const m of this.map) {
      w.u32(m.length);
      for (const f of m) w.u32(f);
    }
    const aes = this.output === undefined ? [] : [...this.ensemble, this.output];
    for (const ae of aes) {
      w.arr(ae.W);
      w.arr(ae.hb);
      w.arr(ae.vb);
      w.arr(ae.normMin);
      w.arr(ae.normMax);
    }
    return w.bytes();
  }

  static deserialize(bytes: Uint8Array): KitNET {
    const r = new Reader(bytes);
    if (r.str() !== 'VKIT1') throw new Error('not a Vigil KitNET model (or an unknown version)');
    const raw = JSON.parse(r.str()) as KitNETOptions & { seedType: string };
    const { seedType, ...opts } = raw;
    if (seedType === 'number') opts.seed = Number(opts.seed);
    const n = r.u32();
    const k = new KitNET(n, { ...opts, fmGracePeriod: Math.max(1, opts.fmGracePeriod) });
    k.opts.fmGracePeriod = opts.fmGracePeriod;
    const phase = r.str();
    if (phase !== 'mapping' && phase !== 'training' && phase !== 'executing') throw new Error(`corrupt KitNET model: phase "${phase}"`);
    k.phaseNow = phase;
    k.nMapped = r.f64();
    k.nTrained = r.f64();
    k.nExecuted = r.f64();
    k.trainCount = r.f64();
    r.into(k.trainMean);
    r.into(k.trainMax);
    k.calibrating = r.u32() === 1;
    k.calN = r.f64();
    k.calMax = r.f64();
    k.calLog = r.f64();
    k.calLog2 = r.f64();
    r.into(k.reservoir);
    k.thresholdValue = r.f64();
    for (let i = 0; i < 4; i++) k.rng.s[i] = r.u32();
    if (r.u32() === 1) {
      const fm = new CorrelationClusterer(n);
      fm.N = r.f64();
      r.into(fm.c);
      r.into(fm.crs);
      r.into(fm.C);
      k.fm = fm;
    } else k.fm = undefined;
    const groups: number[][] = [];
    const nGroups = r.u32();
    for (let g = 0; g < nGroups; g++) {
      const len = r.u32();
      const m: number[] = [];
      for (let i = 0; i < len; i++) {
        const f = r.u32();
        if (f >= n) throw new Error('corrupt KitNET model: feature index out of range');
        m.push(f);
      }
      groups.push(m);
    }
    if (nGroups > 0) {
      k.map = groups.map((g) => Int32Array.from(g));
      k.ensemble = k.map.map((g) => new AutoEncoder(g.length, k.opts.hiddenRatio, undefined));
      k.output = new AutoEncoder(k.map.length, k.opts.hiddenRatio, undefined);
      k.s = new Float64Array(k.map.length);
      for (const ae of [...k.ensemble, k.output]) {
        r.into(ae.W);
        r.into(ae.hb);
        r.into(ae.vb);
        r.into(ae.normMin);
        r.into(ae.normMax);
        ae.transpose();
        for (let i = 0; i < ae.nV; i++) ae.rescale(i);
      }
    }
    return k;
  }
}

/** Φ⁻¹(p), Acklam's rational approximation (relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

// ---- a tiny binary format ------------------------------------------------------------------------

class Writer {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  private at = 0;

  private need(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.at));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }

  u32(v: number): void {
    this.need(4);
    this.view.setUint32(this.at, v >>> 0, true);
    this.at += 4;
  }

  f64(v: number): void {
    this.need(8);
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
  }

  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.need(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  arr(a: Float64Array): void {
    this.u32(a.length);
    this.need(a.length * 8);
    for (let i = 0; i < a.length; i++) this.view.setFloat64(this.at + i * 8, a[i]!, true);
    this.at += a.length * 8;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

class Reader {
  private readonly view: DataView;
  private at = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error('corrupt KitNET model: truncated');
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  str(): string {
    const n = this.u32();
    this.need(n);
    const s = new TextDecoder().decode(this.buf.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }

  /** Reads an array into `a` (its stored length must fit). */
  into(a: Float64Array): void {
    const n = this.u32();
    if (n > a.length) throw new Error('corrupt KitNET model: array too long');
    this.need(n * 8);
    for (let i = 0; i < n; i++) a[i] = this.view.getFloat64(this.at + i * 8, true);
    this.at += n * 8;
  }
}
