/**
 * The wasm-blas matmul kernels (OpenBLAS sgemm on the wasm heap) against the plain wasm kernels and a
 * float64 reference. This file needs the addon: CI builds it (`npm run build:native`).
 */
import { beforeAll, describe as plainDescribe, expect, it } from 'vitest';
import { runNative } from '../native.ts';

// Every block here needs the addon: skipped where it cannot be built, failing in CI (ENGRAM_REQUIRE_NATIVE=1).
const describe = plainDescribe.skipIf(!runNative);
import { tf } from '../../engine/tf.ts';
import { selectBackend } from '../../engine/backend.ts';
import { ADDON_PATH, FAST_PATH_HINT, WASM_BLAS, blasLoadError, loadBlasAddon } from '../../engine/native-blas.ts';

type Act = 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'sigmoid' | 'elu';
const ACTS: Act[] = ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu'];
const ALPHA = 0.1;

/** Any-rank tensor typed as the fused op's argument type (it accepts rank ≥ 2). */
const t2 = (v: Float32Array, s: number[]) => tf.tensor(v, s) as tf.Tensor as tf.Tensor2D;
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Deterministic values in [-1, 1) (scaled), different per seed. */
function data(n: number, seed: number, scale = 1): Float32Array {
  let s = seed * 2654435761 >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Index of a broadcast operand's batch for output batch multi-index `idx`. */
function batchIndex(batchShape: number[], outBatch: number[], idx: number[]): number {
  const off = outBatch.length - batchShape.length;
  let flat = 0;
  for (let d = 0; d < batchShape.length; d++) flat = flat * batchShape[d] + (batchShape[d] === 1 ? 0 : idx[d + off]);
  return flat;
}

function broadcastShape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length), out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes ${a} and ${b} do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** float64 op(A)·op(B) with batch broadcasting; returns [shape, values]. */
function refMatMul(a: Float32Array, as: number[], b: Float32Array, bs: number[], ta: boolean, tb: boolean): [number[], Float64Array] {
  const ar = as.length, br = bs.length;
  const m = ta ? as[ar - 1] : as[ar - 2], k = ta ? as[ar - 2] : as[ar - 1];
  const n = tb ? bs[br - 2] : bs[br - 1];
  const aB = as.slice(0, -2), bB = bs.slice(0, -2);
  const outB = broadcastShape(aB, bB);
  const out = new Float64Array(size(outB) * m * n);
  const idx = new Array(outB.length).fill(0);
  for (let ob = 0; ob < size(outB); ob++) {
    let r = ob;
    for (let d = outB.length - 1; d >= 0; d--) {
      idx[d] = r % outB[d];
      r = Math.floor(r / outB[d]);
    }
    const ao = batchIndex(aB, outB, idx) * m * k, bo = batchIndex(bB, outB, idx) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = ta ? a[ao + p * m + i] : a[ao + i * k + p];
          const bv = tb ? b[bo + j * k + p] : b[bo + p * n + j];
          s += av * bv;
        }
        out[ob * m * n + i * n + j] = s;
      }
    }
  }
  return [[...outB, m, n], out];
}

/** Adds a bias broadcast numpy-style onto `out` of shape `os`, then applies the activation. */
function refBiasAct(out: Float64Array, os: number[], bias: Float32Array | null, bsh: number[], act: Act): Float64Array {
  const res = Float64Array.from(out);
  if (bias) {
    const idx = new Array(os.length).fill(0);
    for (let f = 0; f < res.length; f++) {
      let r = f;
      for (let d = os.length - 1; d >= 0; d--) {
        idx[d] = r % os[d];
        r = Math.floor(r / os[d]);
      }
      res[f] += bias[batchIndex(bsh, os, idx)];
    }
  }
  for (let i = 0; i < res.length; i++) {
    const x = res[i];
    res[i] = act === 'relu' ? Math.max(0, x) : act === 'relu6' ? Math.min(6, Math.max(0, x))
      : act === 'leakyrelu' ? (x > 0 ? x : ALPHA * x) : act === 'sigmoid' ? 1 / (1 + Math.exp(-x))
      : act === 'elu' ? (x > 0 ? x : Math.exp(x) - 1) : x;
  }
  return res;
}

/** Runs `f` on a backend with inputs made there from the same arrays; returns shape and values. */
async function on(backend: string, f: () => tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  expect(tf.getBackend()).toBe(backend);
  const before = tf.memory().numTensors;
  const t = tf.tidy(f);
  const res = { shape: t.shape.slice(), values: t.dataSync().slice() as Float32Array };
  t.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return res;
}

function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let scale = 1, worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (!(worst <= 1e-4 * scale)) {
    throw new Error(`${what}: max |diff| ${worst} at ${at} (got ${actual[at]}, expected ${expected[at]}) > ${1e-4 * scale}`);
  }
}

beforeAll(async () => {
  if (!runNative) return;
  if (!loadBlasAddon()) {
    throw new Error(
      `the OpenBLAS addon is not built (${ADDON_PATH}: ${blasLoadError()}); these tests need it. To build it, ${FAST_PATH_HINT}`,
    );
  }
  const info = await selectBackend('wasm-blas');
  expect(info.name).toBe('wasm-blas');
});

describe('wasm-blas backend', () => {
  it('replaces exactly the two matmul kernels', () => {
    for (const k of [tf.BatchMatMul, tf._FusedMatMul]) {
      expect(tf.getKernel(k, WASM_BLAS)).toBeDefined();
      expect(tf.getKernel(k, WASM_BLAS)!.kernelFunc).not.toBe(tf.getKernel(k, 'wasm')!.kernelFunc);
    }
    expect(tf.getKernel(tf.Add, WASM_BLAS)!.kernelFunc).toBe(tf.getKernel(tf.Add, 'wasm')!.kernelFunc);
    const names = (b: string) => tf.getKernelsForBackend(b).map((k) => k.kernelName).sort();
    expect(names(WASM_BLAS)).toEqual(names('wasm'));
  });
});

/** [name, logical aBatch, bBatch]: batch dims of A and B. */
const BATCHES: [string, number[], number[]][] = [
  ['rank 2', [], []],
  ['rank 3, equal batch', [3], [3]],
  ['rank 3 · rank 2', [3], []],
  ['rank 2 · rank 3', [], [3]],
  ['batch 1 · batch 3', [1], [3]],
  ['batch 3 · batch 1', [3], [1]],
  ['rank 4, equal batch', [2, 3], [2, 3]],
  ['rank 4 · rank 3 broadcast', [2, 3], [3]],
];
const SIZES: [number, number, number][] = [[1, 7, 1], [33, 17, 5], [4, 5, 6], [2, 1, 3], [64, 48, 40]];
const TRANS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

const shapeOf = (batch: number[], rows: number, cols: number, t: boolean) => [...batch, ...(t ? [cols, rows] : [rows, cols])];

describe('tf.matMul on wasm-blas equals wasm and a float64 reference', () => {
  let seed = 1;
  for (const [bname, aB, bB] of BATCHES) {
    for (const [m, k, n] of SIZES) {
      it(`${bname}, ${m}×${k}·${k}×${n}, all transposes`, async () => {
        for (const [ta, tb] of TRANS) {
          const as = shapeOf(aB, m, k, ta), bs = shapeOf(bB, k, n, tb);
          const a = data(size(as), seed++), b = data(size(bs), seed++);
          const f = () => tf.matMul(tf.tensor(a, as), tf.tensor(b, bs), ta, tb);
          const blas = await on(WASM_BLAS, f), wasm = await on('wasm', f);
          const [rs, ref] = refMatMul(a, as, b, bs, ta, tb);
          const what = `A${JSON.stringify(as)} B${JSON.stringify(bs)} ta=${ta} tb=${tb}`;
          expect(blas.shape, what).toEqual(rs);
          expect(wasm.shape, what).toEqual(rs);
          expectNear(blas.values, ref, `${what} vs float64`);
          expectNear(blas.values, wasm.values, `${what} vs wasm`);
        }
      });
    }
  }

  it('0-size edges (m = 0, k = 0, n = 0) give the empty or zero results of cpu', async () => {
    // (plain wasm is no reference here: its XNNPACK path leaves k = 0 outputs uninitialized)
    for (const [m, k, n] of [[0, 3, 4], [2, 0, 4], [2, 3, 0], [0, 0, 0], [3, 0, 1]] as [number, number, number][]) {
      for (const [ta, tb] of TRANS) {
        const as = shapeOf([], m, k, ta), bs = shapeOf([], k, n, tb);
        const a = data(size(as), 5), b = data(size(bs), 6);
        const f = () => tf.matMul(tf.tensor(a, as), tf.tensor(b, bs), ta, tb);
        const blas = await on(WASM_BLAS, f), cpu = await on('cpu', f);
        expect(blas.shape).toEqual([m, n]);
        expect(cpu.shape).toEqual([m, n]);
        expect(Array.from(blas.values)).toEqual(new Array(m * n).fill(0));
        expect(Array.from(blas.values)).toEqual(Array.from(cpu.values));
        // fused with a bias: the output is just the bias
        const g = () => tf.fused.matMul({ a: t2(a, as), b: t2(b, bs), bias: tf.scalar(1.5), transposeA: ta, transposeB: tb });
        const fb = await on(WASM_BLAS, g);
        expect(fb.shape).toEqual([m, n]);
        expect(Array.from(fb.values)).toEqual(new Array(m * n).fill(1.5));
      }
    }
  });

  it('large values keep relative accuracy (scale-aware tolerance)', async () => {
    const as = [20, 300], bs = [300, 10];
    const a = data(size(as), 77, 1000), b = data(size(bs), 78, 1000);
    const f = () => tf.matMul(tf.tensor(a, as), tf.tensor(b, bs));
    const blas = await on(WASM_BLAS, f), wasm = await on('wasm', f);
    expectNear(blas.values, refMatMul(a, as, b, bs, false, false)[1], 'vs float64');
    expectNear(blas.values, wasm.values, 'vs wasm');
  });

  it('gradients through matMul agree between wasm-blas and wasm', async () => {
    const as = [3, 5, 7], bs = [3, 7, 4];
    const a = data(size(as), 91), b = data(size(bs), 92), w = data(3 * 5 * 4, 93);
    const f = () => {
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), tf.tensor(w, [3, 5, 4]))))([
        tf.tensor(a, as), tf.tensor(b, bs),
      ]);
      return tf.concat([ga.reshape([-1]), gb.reshape([-1])]);
    };
    const blas = await on(WASM_BLAS, f), wasm = await on('wasm', f);
    expectNear(blas.values, wasm.values, 'dA, dB');
  });
});

describe('tf.fused.matMul on wasm-blas', () => {
  type BiasKind = [string, (m: number, n: number, batch: number[]) => number[] | null];
  const BIASES: BiasKind[] = [
    ['no bias', () => null],
    ['rank-1 bias [n]', (_m, n) => [n]],
    ['scalar bias []', () => []],
    ['scalar-like bias [1]', () => [1]],
    ['scalar-like bias [1, 1]', () => [1, 1]],
    ['row bias [1, n]', (_m, n) => [1, n]],
    ['full bias [m, n]', (m, n) => [m, n]],
    ['full batched bias [batch, m, n]', (m, n, batch) => (batch.length ? [...batch, m, n] : null)],
    // shapes the native pass cannot add itself: the kernel finishes with broadcasting Add
    ['per-batch row bias [batch, 1, n]', (_m, n, batch) => (batch.length ? [...batch, 1, n] : null)],
    ['per-batch scalar bias [batch, 1, 1]', (_m, _n, batch) => (batch.length ? [...batch, 1, 1] : null)],
    ['column bias [m, 1]', (m) => [m, 1]],
  ];
  const FUSED_SHAPES: [string, number[], number[], number, number, number][] = [
    ['rank 2', [], [], 9, 6, 5],
    ['rank 2 odd', [], [], 33, 17, 5],
    ['rank 3 equal batch', [2], [2], 4, 3, 6],
    ['rank 3 · rank 2', [3], [], 5, 4, 7],
    // batch = m makes a [batch, 1, n] bias the same size as an [m, n] one
    ['rank 3 batch = m', [3], [], 3, 2, 4],
  ];
  let seed = 1000;

  for (const [sname, aB, bB, m, k, n] of FUSED_SHAPES) {
    for (const [biasName, biasShape] of BIASES) {
      it(`${sname} ${m}×${k}·${k}×${n}, ${biasName}, every activation and transpose`, async () => {
        const outBatch = broadcastShape(aB, bB);
        const bsh = biasShape(m, n, outBatch);
        if (bsh === null && biasName !== 'no bias') return; // not applicable to rank 2
        for (const act of ACTS) {
          for (const [ta, tb] of TRANS) {
            const as = shapeOf(aB, m, k, ta), bs = shapeOf(bB, k, n, tb);
            const a = data(size(as), seed++, 2), b = data(size(bs), seed++, 2);
            const bias = bsh ? data(size(bsh), seed++, 3) : null;
            const mk = () => ({ a: tf.tensor(a, as), b: tf.tensor(b, bs), bias: bias ? tf.tensor(bias, bsh!) : undefined });
            const fused = () => {
              const { a: x, b: y, bias: z } = mk();
              return tf.fused.matMul({ a: x, b: y, bias: z, transposeA: ta, transposeB: tb, activation: act, leakyreluAlpha: ALPHA });
            };
            const unfused = () => {
              const { a: x, b: y, bias: z } = mk();
              let h = tf.matMul(x, y, ta, tb);
              if (z) h = tf.add(h, z);
              switch (act) {
                case 'relu': return tf.relu(h);
                case 'relu6': return tf.relu6(h);
                case 'leakyrelu': return tf.leakyRelu(h, ALPHA);
                case 'sigmoid': return tf.sigmoid(h);
                case 'elu': return tf.elu(h);
                default: return h;
              }
            };
            const what = `A${JSON.stringify(as)} B${JSON.stringify(bs)} bias${JSON.stringify(bsh)} ${act} ta=${ta} tb=${tb}`;
            const blas = await on(WASM_BLAS, fused);
            const wasm = await on('wasm', unfused);
            const cpu = await on('cpu', fused);
            const [rs, mm] = refMatMul(a, as, b, bs, ta, tb);
            expect(blas.shape, what).toEqual(rs);
            expectNear(blas.values, refBiasAct(mm, rs, bias, bsh ?? [], act), `${what} vs float64`);
            expectNear(blas.values, wasm.values, `${what} vs wasm (unfused)`);
            expectNear(blas.values, cpu.values, `${what} vs cpu (fused)`);
            // The wasm fused kernel takes only a rank-1 bias, and with one it is wrong for transposeB
            // or batched inputs (tfjs-backend-wasm 4.22), so it is a reference only without a bias.
            if (!bsh) expectNear(blas.values, (await on('wasm', fused)).values, `${what} vs wasm (fused)`);
          }
        }
      });
    }
  }
});

describe('wasm-blas edge cases', () => {
  it('prelu through the fused kernel equals cpu', async () => {
    const a = data(3 * 3 * 2, 7), b = data(2 * 4, 8), bias = data(3 * 4, 9), alpha = data(4, 10);
    const run = () => tf.fused.matMul({
      a: t2(a, [3, 3, 2]), b: t2(b, [2, 4]), bias: tf.tensor(bias, [3, 1, 4]), activation: 'prelu',
      preluActivationWeights: tf.tensor(alpha, [4]),
    });
    const blas = await on(WASM_BLAS, run);
    const cpu = await on('cpu', run);
    expectNear(blas.values, cpu.values, 'prelu');
  });

  it('an empty batch gives an empty product', async () => {
    const r = await on(WASM_BLAS, () => tf.matMul(tf.zeros([0, 2, 3]), tf.zeros([0, 3, 4])));
    expect(r.shape).toEqual([0, 2, 4]);
    expect(r.values.length).toBe(0);
  });
});

describe('wasm-blas and a growing heap', () => {
  it('reads the heap after allocating the output, so a product that grows the wasm memory is right', async () => {
    const m = 1024, k = 32, n = 4096; // a 16 MiB output: the heap has to grow inside the kernel
    const a = data(m * k, 21), b = data(k * n, 22);
    const blas = await on(WASM_BLAS, () => tf.matMul(t2(a, [m, k]), t2(b, [k, n])));
    const cpu = await on('cpu', () => tf.matMul(t2(a, [m, k]), t2(b, [k, n])));
    expectNear(blas.values, cpu.values, 'large product');
  });
});
