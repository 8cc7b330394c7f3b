import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_GROUPS, FeatureExtractor, LAMBDAS, N_FEATURES, StatTable, featureNames, hashKey, ipKeyFromString, newPacketInput, type PacketInput } from './incstats.ts';

const A = ipKeyFromString('10.20.1.19');
const B = ipKeyFromString('10.20.1.200');

function pkt(time: number, src: number, dst: number, length: number, sp = 40000, dp = 443): PacketInput {
  return { ...newPacketInput(), time, srcMac: src + 0x020000000000, srcIp: src, dstIp: dst, srcPort: sp, dstPort: dp, length, proto: 6 };
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const variance = (v: number[]): number => {
  const m = mean(v);
  return mean(v.map((x) => (x - m) ** 2));
};
const close = (a: number, b: number, what: string, tol = 1e-9): void => {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} ≠ ${b}`);
};

test('115 features, each with a human name', () => {
  const names = featureNames();
  assert.equal(names.length, N_FEATURES);
  assert.equal(new Set(names).size, N_FEATURES);
  assert.match(names[FEATURE_GROUPS.host + 2 * 3 + 1]!, /bytes per packet sent by this host, 1 s window/);
  assert.match(names[FEATURE_GROUPS.jitter + 3 * 3 + 2]!, /jitter .* 10 s window/);
});

test('with λ → 0 the statistics are the batch mean, variance, covariance and correlation', () => {
  // Replace the windows by (almost) no decay for this test.
  const saved = [...LAMBDAS];
  const lambdas = LAMBDAS as number[];
  for (let i = 0; i < lambdas.length; i++) lambdas[i] = 1e-15;
  try {
    const fx = new FeatureExtractor();
    const out = new Float64Array(N_FEATURES);
    const sizesAB: number[] = [];
    const sizesBA: number[] = [];
    const gaps: number[] = [];
    const pairsA: number[] = [];
    const pairsB: number[] = [];
    let lastA = NaN;
    let lastB = NaN;
    let lastTimeAB = NaN;
    let t = 1000;
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    let sawB = false;
    for (let k = 0; k < 400; k++) {
      t += 0.01 + rnd();
      const fromA = rnd() < 0.6 || !sawB && k < 3;
      const len = Math.round(60 + rnd() * 1400);
      if (fromA) {
        fx.extract(pkt(t, A, B, len, 40000, 443), out);
        gaps.push(Number.isNaN(lastTimeAB) ? 0 : t - lastTimeAB);
        lastTimeAB = t;
        sizesAB.push(len);
        lastA = len;
      } else {
        sawB = true;
        fx.extract(pkt(t, B, A, len, 443, 40000), out);
        sizesBA.push(len);
        lastB = len;
      }
      if (!Number.isNaN(lastA) && !Number.isNaN(lastB)) {
        pairsA.push(lastA);
        pairsB.push(lastB);
      }
    }
    // The last packet: from A (force one).
    t += 0.5;
    fx.extract(pkt(t, A, B, 777, 40000, 443), out);
    gaps.push(t - lastTimeAB);
    sizesAB.push(777);
    pairsA.push(777);
    pairsB.push(lastB);
    for (let l = 0; l < 5; l++) {
      const h = FEATURE_GROUPS.host + l * 3;
      close(out[h]!, sizesAB.length, 'host weight');
      close(out[h + 1]!, mean(sizesAB), 'host mean');
      close(out[h + 2]!, Math.sqrt(variance(sizesAB)), 'host std', 1e-7);
      const c = FEATURE_GROUPS.channel + l * 7;
      close(out[c]!, sizesAB.length, 'channel weight');
      close(out[c + 1]!, mean(sizesAB), 'channel mean');
      close(out[c + 3]!, Math.sqrt(mean(sizesAB) ** 2 + mean(sizesBA) ** 2), 'magnitude');
      close(out[c + 4]!, Math.sqrt(variance(sizesAB) + variance(sizesBA)), 'radius', 1e-7);
      const ma = mean(pairsA);
      const mb = mean(pairsB);
      const cov = mean(pairsA.map((a, i) => (a - ma) * (pairsB[i]! - mb)));
      close(out[c + 5]!, cov, 'covariance', 1e-7);
      close(out[c + 6]!, cov / Math.sqrt(variance(pairsA) * variance(pairsB)), 'correlation', 1e-7);
      const j = FEATURE_GROUPS.jitter + l * 3;
      close(out[j + 1]!, mean(gaps), 'jitter mean');
      close(out[j + 2]!, Math.sqrt(variance(gaps)), 'jitter std', 1e-7);
      // The socket sees the same packets (one connection).
      const s = FEATURE_GROUPS.socket + l * 7;
      close(out[s + 1]!, mean(sizesAB), 'socket mean');
      close(out[s + 5]!, cov, 'socket covariance', 1e-7);
    }
  } finally {
    for (let i = 0; i < lambdas.length; i++) lambdas[i] = saved[i]!;
  }
});

test('decay: a weight halves every 1/λ seconds; the mean is unchanged by decay alone', () => {
  const fx = new FeatureExtractor();
  const out = new Float64Array(N_FEATURES);
  fx.extract(pkt(100, A, B, 100), out);
  for (let l = 0; l < 5; l++) assert.equal(out[FEATURE_GROUPS.host + l * 3], 1);
  // One more packet after 1 s: the first one weighs 2^-λ.
  fx.extract(pkt(101, A, B, 300), out);
  for (let l = 0; l < 5; l++) {
    const lam = LAMBDAS[l]!;
    const w1 = 2 ** -lam;
    close(out[FEATURE_GROUPS.host + l * 3]!, 1 + w1, `w λ=${lam}`, 1e-12);
    close(out[FEATURE_GROUPS.host + l * 3 + 1]!, (100 * w1 + 300) / (1 + w1), `mean λ=${lam}`, 1e-12);
  }
  // A half-life later (λ = 1: 1 s), the weight of the old packets is half: w = (1 + 2^-1)/2 + 1.
  fx.extract(pkt(102, A, B, 300), out);
  close(out[FEATURE_GROUPS.host + 2 * 3]!, (1 + 0.5) / 2 + 1, 'λ=1 after another second', 1e-12);
  // Time running backwards (merged captures) is clamped, never negative decay.
  fx.extract(pkt(50, A, B, 300), out);
  close(out[FEATURE_GROUPS.host + 2 * 3]!, (1 + 0.5) / 2 + 2, 'clamped', 1e-12);
});

test('a new socket gets its own record; the reverse direction joins it', () => {
  const fx = new FeatureExtractor();
  const out = new Float64Array(N_FEATURES);
  fx.extract(pkt(1, A, B, 100, 40000, 443), out);
  fx.extract(pkt(1.1, B, A, 1500, 443, 40000), out);
  assert.equal(fx.sockets.size, 1);
  assert.equal(fx.channels.size, 1);
  fx.extract(pkt(1.2, A, B, 100, 40001, 443), out);
  assert.equal(fx.sockets.size, 2);
  assert.equal(fx.channels.size, 1);
  assert.equal(fx.hosts.size, 2);
});

test('bounded: tables never exceed their caps, per-host quotas send a scanner to one overflow record', () => {
  const limits = { hosts: 64, macIps: 64, channels: 100, sockets: 200, channelsPerHost: 20, socketsPerHost: 30, idleSeconds: 600 };
  const fx = new FeatureExtractor(limits);
  const out = new Float64Array(N_FEATURES);
  let t = 0;
  // A scanner: one host, 5,000 targets × 4 ports.
  for (let i = 0; i < 5000; i++) {
    for (const port of [22, 80, 443, 3389]) {
      t += 0.001;
      fx.extract(pkt(t, A, 0x0a000000 + i, 60, 50000, port), out);
      for (const v of out) assert.ok(Number.isFinite(v));
    }
    assert.ok(fx.hosts.size <= 64 && fx.macIps.size <= 64 && fx.channels.size <= 100 && fx.sockets.size <= 200);
  }
  assert.ok(fx.overflowed > 0);
  // The scanner kept at most its quota (+ its overflow record) of channels and sockets.
  assert.ok(fx.channels.size <= 21, `channels ${fx.channels.size}`);
  assert.ok(fx.sockets.size <= 31, `sockets ${fx.sockets.size}`);
  // Many hosts: the global caps hold, the least recently seen are evicted.
  for (let i = 0; i < 20000; i++) {
    t += 0.001;
    fx.extract(pkt(t, 0x0b000000 + i, 0x0b100000 + (i % 977), 60, 1000 + (i % 50), 80), out);
  }
  assert.ok(fx.hosts.size <= 64 && fx.macIps.size <= 64 && fx.channels.size <= 100 && fx.sockets.size <= 200);
  assert.ok(fx.sockets.stats.evicted > 0);
  assert.ok(fx.bytes <= FeatureExtractor.maxBytes(limits));
  // Idle records expire.
  fx.extract(pkt(t + 10_000, A, B, 60), out);
  assert.equal(fx.hosts.size, 1);
  assert.equal(fx.sockets.size, 1);
});

test('StatTable: grows to its cap, evicts the least recently seen, finds what it keeps', () => {
  const tb = new StatTable(4, 1000, 1e9, 16);
  const put = (k: number, now: number): void => {
    const j = tb.insert(hashKey(k, 0, 0), k, 0, 0, now);
    tb.data[j * 4] = k;
  };
  for (let i = 0; i < 1000; i++) put(i, i);
  assert.equal(tb.allocated, 1000);
  // Touch key 0: the next insert evicts key 1, the least recently seen.
  tb.touch(tb.find(hashKey(0, 0, 0), 0, 0, 0), 1000);
  put(1000, 1001);
  assert.ok(tb.find(hashKey(0, 0, 0), 0, 0, 0) >= 0);
  assert.equal(tb.find(hashKey(1, 0, 0), 1, 0, 0), -1);
  for (let i = 1001; i < 5000; i++) {
    put(i, i + 1);
    assert.ok(tb.size <= 1000);
  }
  assert.equal(tb.allocated, 1000);
  for (let i = 4001; i < 5000; i++) {
    const j = tb.find(hashKey(i, 0, 0), i, 0, 0);
    assert.ok(j >= 0, `key ${i} kept`);
    assert.equal(tb.data[j * 4], i);
  }
  assert.equal(tb.stats.evicted, 4000);
});

test('IPv6 keys stay above every IPv4 key and differ per address', () => {
  const a = ipKeyFromString('fe80::1');
  const b = ipKeyFromString('fe80::2');
  assert.notEqual(a, b);
  assert.ok(a >= 2 ** 32 && a < 2 ** 53);
  assert.equal(ipKeyFromString('255.255.255.255'), 2 ** 32 - 1);
});
