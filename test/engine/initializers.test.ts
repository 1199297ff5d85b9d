import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import { formatInit, initLayers, parseInit, type LayerInit } from '../../engine/initializers.ts';
import { createFcModel } from '../../engine/model.ts';
import { Rng } from '../../engine/random.ts';

const F32_SLACK = 1 + 1e-6; // float32 rounding of values drawn right at the bound

function stats(a: Float32Array) {
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of a) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  return { min, max, mean: sum / a.length };
}

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('torch initializer', () => {
  it('every weight and bias lies within ±1/√fan_in of its layer', () => {
    const dims = [5, 40, 17, 5];
    const layers = initLayers(parseInit('torch'), dims, true, new Rng(3));
    expect(layers).toHaveLength(3);
    layers.forEach((l, i) => {
      const bound = 1 / Math.sqrt(dims[i]);
      expect(l.w).toHaveLength(dims[i] * dims[i + 1]);
      expect(l.b).toHaveLength(dims[i + 1]);
      for (const arr of [l.w, l.b!]) {
        const s = stats(arr);
        expect(s.max).toBeLessThanOrEqual(bound * F32_SLACK);
        expect(s.min).toBeGreaterThanOrEqual(-bound * F32_SLACK);
      }
    });
  });

  it('fills the whole interval with mean ≈ 0 on a large layer', () => {
    const fanIn = 256, fanOut = 512;
    const [l] = initLayers(parseInit('torch'), [fanIn, fanOut], true, new Rng(11));
    const bound = 1 / Math.sqrt(fanIn);
    const s = stats(l.w);
    expect(s.max).toBeGreaterThan(0.999 * bound);
    expect(s.min).toBeLessThan(-0.999 * bound);
    expect(Math.abs(s.mean)).toBeLessThan(0.01 * bound);
    // variance of U[-a, a] is a²/3
    const variance = l.w.reduce((acc, v) => acc + (v - s.mean) ** 2, 0) / l.w.length;
    expect(variance / (bound * bound / 3)).toBeCloseTo(1, 1);
    const bs = stats(l.b!);
    expect(bs.max).toBeLessThanOrEqual(bound * F32_SLACK);
    expect(bs.min).toBeGreaterThanOrEqual(-bound * F32_SLACK);
    expect(bs.max - bs.min).toBeGreaterThan(1.5 * bound); // biases are not all zero
  });

  it('no biases when bias is off; same seed gives the same weights, another seed different ones', () => {
    const a = initLayers(parseInit('torch'), [4, 8, 4], false, new Rng(5));
    const b = initLayers(parseInit('torch'), [4, 8, 4], false, new Rng(5));
    const c = initLayers(parseInit('torch'), [4, 8, 4], false, new Rng(6));
    expect(a.every((l) => l.b === null)).toBe(true);
    expect(Array.from(a[0].w)).toEqual(Array.from(b[0].w));
    expect(Array.from(a[0].w)).not.toEqual(Array.from(c[0].w));
  });

  it('an FC model built with torch init has [fanIn, fanOut] weights within the bound', () => {
    const model = createFcModel({ kind: 'fc', dim: 6, width: 30, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 9 });
    try {
      const ws = model.weights();
      expect(ws.map((w) => w.name)).toEqual(['W0', 'b0', 'W1', 'b1', 'W2', 'b2']);
      expect(ws.map((w) => w.shape)).toEqual([[6, 30], [30], [30, 30], [30], [30, 6], [6]]);
      for (const w of ws) {
        const fanIn = w.name === 'W0' || w.name === 'b0' ? 6 : 30;
        const s = stats(w.data);
        expect(Math.max(s.max, -s.min)).toBeLessThanOrEqual(F32_SLACK / Math.sqrt(fanIn));
      }
      expect(model.paramCount).toBe(6 * 30 + 30 + 30 * 30 + 30 + 30 * 6 + 6);
    } finally {
      model.dispose();
    }
  });
});

describe('uniform:a initializer', () => {
  it('keeps every weight and bias within ±a and reaches the bound', () => {
    const init = parseInit('uniform:0.3');
    expect(init).toEqual({ kind: 'uniform', a: 0.3 });
    const layers = initLayers(init, [64, 300, 64], true, new Rng(2));
    for (const l of layers) {
      for (const arr of [l.w, l.b!]) {
        const s = stats(arr);
        expect(s.max).toBeLessThanOrEqual(0.3 * F32_SLACK);
        expect(s.min).toBeGreaterThanOrEqual(-0.3 * F32_SLACK);
      }
      const s = stats(l.w);
      expect(s.max).toBeGreaterThan(0.299);
      expect(s.min).toBeLessThan(-0.299);
      expect(Math.abs(s.mean)).toBeLessThan(0.01);
    }
  });

  it('the bound does not depend on fan_in', () => {
    const [l] = initLayers(parseInit('uniform:2'), [10000, 4], false, new Rng(1));
    expect(stats(l.w).max).toBeGreaterThan(1.99);
  });
});

describe('rank1 initializer', () => {
  const d = 5, W = 12, u0 = 0.7, v0 = -1.3;
  const raw = [0.3, -0.5, 0.1, 0.8, -0.2];
  const norm = Math.hypot(...raw);
  const x = Float32Array.from(raw.map((v) => v / norm));

  function build(bias: boolean): LayerInit[] {
    return initLayers(parseInit(`rank1:${u0},${v0}`), [d, W, d], bias, new Rng(1), x);
  }

  /** Numerical rank by Gaussian elimination with partial pivoting. */
  function rank(data: Float32Array, rows: number, cols: number): number {
    const m = Array.from({ length: rows }, (_, i) => Array.from(data.subarray(i * cols, (i + 1) * cols), Number));
    let r = 0;
    for (let c = 0; c < cols && r < rows; c++) {
      let p = r;
      for (let i = r + 1; i < rows; i++) if (Math.abs(m[i][c]) > Math.abs(m[p][c])) p = i;
      if (Math.abs(m[p][c]) < 1e-6) continue;
      [m[r], m[p]] = [m[p], m[r]];
      for (let i = r + 1; i < rows; i++) {
        const f = m[i][c] / m[r][c];
        for (let j = c; j < cols; j++) m[i][j] -= f * m[r][j];
      }
      r++;
    }
    return r;
  }

  it('W0 (stored [d, W]) has every column equal to v0·x', () => {
    const [l0] = build(true);
    expect(l0.w).toHaveLength(d * W);
    for (let j = 0; j < W; j++) {
      for (let i = 0; i < d; i++) expect(l0.w[i * W + j]).toBeCloseTo(v0 * x[i], 6);
    }
    expect(rank(l0.w, d, W)).toBe(1);
  });

  it('W1 (stored [W, d]) has every row equal to u0·xᵀ', () => {
    const [, l1] = build(true);
    expect(l1.w).toHaveLength(W * d);
    for (let j = 0; j < W; j++) {
      for (let i = 0; i < d; i++) expect(l1.w[j * d + i]).toBeCloseTo(u0 * x[i], 6);
    }
    expect(rank(l1.w, W, d)).toBe(1);
  });

  it('biases are zero (or absent)', () => {
    const [l0, l1] = build(true);
    expect(Array.from(l0.b!)).toEqual(new Array(W).fill(0));
    expect(Array.from(l1.b!)).toEqual(new Array(d).fill(0));
    expect(build(false).every((l) => l.b === null)).toBe(true);
  });

  it('the model computes f(z) = W·u0·φ(v0·xᵀz)·x', () => {
    const model = createFcModel(
      { kind: 'fc', dim: d, width: W, depth: 1, activation: 'tanh', bias: true, init: `rank1:${u0},${v0}`, seed: 1 }, x,
    );
    try {
      const z = Float32Array.from([0.9, 0.2, -0.4, 0.3, 0.5]);
      const xz = z.reduce((s, v, i) => s + v * x[i], 0);
      const y = model.apply(z);
      for (let i = 0; i < d; i++) expect(y[i]).toBeCloseTo(W * u0 * Math.tanh(v0 * xz) * x[i], 5);
      expect(model.spec.init).toBe(`rank1:${u0},${v0}`);
    } finally {
      model.dispose();
    }
  });

  it('requires exactly one hidden layer and a unit vector of the input dimension', () => {
    const init = parseInit('rank1:1,1');
    expect(() => initLayers(init, [d, W, W, d], true, new Rng(1), x)).toThrow(/depth 1/);
    expect(() => initLayers(init, [d, d], true, new Rng(1), x)).toThrow(/depth 1/);
    expect(() => initLayers(init, [d, W, d], true, new Rng(1))).toThrow(/unit vector/);
    expect(() => initLayers(init, [d + 1, W, d + 1], true, new Rng(1), x)).toThrow(/unit vector/);
    expect(() =>
      createFcModel({ kind: 'fc', dim: d, width: W, depth: 2, activation: 'relu', bias: true, init: 'rank1:1,1', seed: 1 }, x),
    ).toThrow(/depth 1/);
  });
});

describe('parseInit', () => {
  it('parses the valid forms and round-trips through formatInit', () => {
    expect(parseInit('torch')).toEqual({ kind: 'torch' });
    expect(parseInit('uniform:1e-3')).toEqual({ kind: 'uniform', a: 1e-3 });
    expect(parseInit('rank1:0.5,-2')).toEqual({ kind: 'rank1', u0: 0.5, v0: -2 });
    for (const s of ['torch', 'uniform:0.25', 'rank1:0.5,-2']) expect(formatInit(parseInit(s))).toBe(s);
  });

  it.each([
    '', 'Torch', 'xavier', 'uniform', 'uniform:', 'uniform:0', 'uniform:-1', 'uniform:abc', 'uniform:1e',
    'rank1', 'rank1:1', 'rank1:1,', 'rank1:a,b', 'rank1:1,2,3', 'rank1:1e,2', ' torch',
  ])('rejects %j with a message naming the valid forms', (s) => {
    expect(() => parseInit(s)).toThrow(/unknown initializer.*torch, uniform:A \(A > 0\) or rank1:U0,V0/);
  });
});
