import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KitNET, SeededRng, sigmoid } from './kitnet.ts';

/** 20 features from 4 latent factors plus noise: correlated groups the mapper should find. */
function sample(rng: SeededRng, x: Float64Array): void {
  const f = [rng.next(), rng.next(), rng.next(), rng.next()];
  for (let i = 0; i < x.length; i++) x[i] = f[i % 4]! * (1 + (i % 5)) + 0.05 * rng.next();
}

function trained(seed: number | string = 1): { k: KitNET; rng: SeededRng } {
  const k = new KitNET(20, { maxAE: 6, fmGracePeriod: 500, adGracePeriod: 8000, seed });
  const rng = new SeededRng('data');
  const x = new Float64Array(20);
  for (let i = 0; i < 8500; i++) {
    sample(rng, x);
    assert.equal(k.process(x), 0);
  }
  return { k, rng };
}

test('sigmoid table is within 3e-7 of the logistic function', () => {
  for (let a = -20; a <= 20; a += 0.0137) assert.ok(Math.abs(sigmoid(a) - 1 / (1 + Math.exp(-a))) < 3e-7, `at ${a}`);
});

test('maps correlated features together, learns the distribution, and scores an outlier far above the threshold', () => {
  const { k, rng } = trained();
  assert.equal(k.phase, 'executing');
  const groups = k.featureMap;
  assert.ok(groups.every((g) => g.length <= 6));
  assert.deepEqual(groups.flat().sort((a, b) => a - b), [...Array(20).keys()]);
  // Features of one latent factor (i ≡ r mod 4) end up in the same group.
  for (const g of groups) assert.equal(new Set(g.map((i) => i % 4)).size, 1, `group ${g.join(',')} mixes factors`);
  const thr = k.threshold();
  assert.ok(Number.isFinite(thr) && thr > 0);
  const x = new Float64Array(20);
  let above = 0;
  for (let i = 0; i < 2000; i++) {
    sample(rng, x);
    if (k.process(x) > thr) above++;
  }
  assert.ok(above < 20, `${above} of 2000 normal vectors above the threshold`);
  // An outlier: one factor breaks its correlation, one feature far out of range.
  sample(rng, x);
  x[3] = 40;
  x[7] = 0;
  const s = k.process(x);
  assert.ok(s > 3 * thr, `outlier ${s} vs threshold ${thr}`);
  const why = k.explain(x, 3);
  assert.ok(why.length > 0);
  assert.equal(why[0]!.feature, 3);
  assert.ok(why[0]!.contribution > 0.3);
});

test('deterministic with a seed; another seed gives another model', () => {
  const a = trained('s').k;
  const b = trained('s').k;
  const c = trained('t').k;
  const x = new Float64Array(20);
  const rng = new SeededRng('probe');
  for (let i = 0; i < 100; i++) {
    sample(rng, x);
    assert.equal(a.process(x), b.process(x));
  }
  sample(rng, x);
  assert.notEqual(a.execute(x), c.execute(x));
  assert.equal(a.threshold(), b.threshold());
});

test('serialize → deserialize gives identical scores and thresholds, in every phase', () => {
  const x = new Float64Array(20);
  for (const stop of [200, 3000, 8500]) {
    const k = new KitNET(20, { maxAE: 6, fmGracePeriod: 500, adGracePeriod: 8000, seed: 9 });
    const rng = new SeededRng('data');
    for (let i = 0; i < stop; i++) {
      sample(rng, x);
      k.process(x);
    }
    const copy = KitNET.deserialize(k.serialize());
    assert.equal(copy.phase, k.phase);
    // Carry on with both: the same inputs give the same outputs all the way into execution.
    for (let i = 0; i < 9000 - stop; i++) {
      sample(rng, x);
      assert.equal(copy.process(x), k.process(x));
    }
    assert.equal(copy.threshold(), k.threshold());
    assert.deepEqual(copy.featureMap, k.featureMap);
    assert.deepEqual(KitNET.deserialize(copy.serialize()).serialize(), k.serialize());
  }
  assert.throws(() => KitNET.deserialize(new Uint8Array([1, 2, 3])));
});

test('threshold methods: max ≥ quantile; log-normal is finite', () => {
  const run = (thresholdMethod: 'max' | 'quantile' | 'lognormal'): number => {
    const k = new KitNET(8, { maxAE: 4, fmGracePeriod: 200, adGracePeriod: 2000, seed: 3, thresholdMethod, thresholdQ: thresholdMethod === 'lognormal' ? 1e-4 : 0.99 });
    const rng = new SeededRng('d');
    const x = new Float64Array(8);
    for (let i = 0; i < 2200; i++) {
      sample(rng, x);
      k.process(x);
    }
    return k.threshold();
  };
  const mx = run('max');
  const q = run('quantile');
  const ln = run('lognormal');
  assert.ok(mx >= q && q > 0);
  assert.ok(Number.isFinite(ln) && ln > 0);
});
