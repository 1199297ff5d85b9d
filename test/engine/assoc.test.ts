/**
 * The tfjs associative memory (float32) against the plain float64 integrator of
 * test/reference/assoc-f64.ts, and the dynamics docs/math.md §8 asks for.
 *
 * Tolerances: float32 matmuls over d ≤ 16 carry relative errors ~1e-6, so values are compared at
 * 2e-5 relative to their scale; margins in the monotonicity test may dip by float32 rounding
 * (≤ 1e-5·(1 + |m|)), never by more.
 *
 * One-step margin, derived: with W₀ = 0 every p_W(·|x) is uniform (1/M), so
 * ∇L = Σ_x p(x) Σ_y (1/M − 1[y = f*(x)]) u_y e_xᵀ and W₁ = −η∇L. With orthonormal e and u,
 * s₁(x, y) = u_yᵀ W₁ e_x = η p(x)(1[y = f*(x)] − 1/M), hence
 * m_x = η p(x)(1 − 1/M) − η p(x)(0 − 1/M) = η·p(x) exactly: the 1/M terms cancel, for every M.
 */
import { firstValueFrom, from, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAssocModel, createAssocOptimizer, makeEmbeddings, type AssocSpec, type Embeddings } from '../../engine/assoc.ts';
import { selectBackend } from '../../engine/backend.ts';
import { eigenvalues } from '../../engine/eigen.ts';
import { Rng } from '../../engine/random.ts';
import { tf } from '../../engine/tf.ts';
import type { TrainStepEvent } from '../../events.ts';
import { marginStats, margins } from '../../operators/margins.ts';
import { spikes } from '../../operators/spikes.ts';
import { makeTokenTask } from '../../sources/tokens.ts';
import { grad64, gdStep64, hessianDense64, loss64, margins64, type AssocProblem } from '../reference/assoc-f64.ts';

beforeAll(async () => {
  await selectBackend();
});

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => Math.max(s, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => Math.max(s, Math.abs(v - b[i])), 0);

function problem(spec: AssocSpec, task: { p: Float64Array; targets: Int32Array }, emb: Embeddings): AssocProblem {
  return { n: spec.n, m: spec.m, d: spec.d, e: emb.e, u: emb.u, p: task.p, targets: task.targets };
}

/** Embeddings rounded to float32 first, so both integrators see the same numbers. */
function f32Embeddings(spec: AssocSpec): Embeddings {
  const e = makeEmbeddings(spec);
  return { e: Float64Array.from(Float32Array.from(e.e)), u: Float64Array.from(Float32Array.from(e.u)) };
}

describe('embeddings', () => {
  const gram = (a: Float64Array, rows: number, d: number) =>
    Array.from({ length: rows * rows }, (_, k) => {
      const i = Math.floor(k / rows), j = k % rows;
      let s = 0;
      for (let t = 0; t < d; t++) s += a[i * d + t] * a[j * d + t];
      return s;
    });
  it('orthonormal, correlated and sphere embeddings have the stated inner products', () => {
    const o = makeEmbeddings({ n: 5, m: 7, d: 8, embeddings: { kind: 'orthonormal' }, seed: 3 });
    expect(maxDiff(gram(o.e, 5, 8), Array.from({ length: 25 }, (_, k) => (k % 6 === 0 ? 1 : 0)))).toBeLessThan(1e-12);
    expect(maxDiff(gram(o.u, 7, 8), Array.from({ length: 49 }, (_, k) => (k % 8 === 0 ? 1 : 0)))).toBeLessThan(1e-12);
    const two = makeEmbeddings({ n: 2, m: 2, d: 3, embeddings: { kind: 'correlated', alpha: 0.95 }, seed: 3 });
    expect(maxDiff(gram(two.e, 2, 3), [1, 0.95, 0.95, 1])).toBeLessThan(1e-12);
    const many = makeEmbeddings({ n: 4, m: 2, d: 6, embeddings: { kind: 'correlated', alpha: 0.3 }, seed: 3 });
    expect(maxDiff(gram(many.e, 4, 6), Array.from({ length: 16 }, (_, k) => (k % 5 === 0 ? 1 : 0.3)))).toBeLessThan(1e-12);
    const s = makeEmbeddings({ n: 50, m: 9, d: 4, embeddings: { kind: 'sphere' }, seed: 3 });
    expect(maxDiff(gram(s.e, 50, 4).filter((_, k) => k % 51 === 0), new Array(50).fill(1))).toBeLessThan(1e-12);
  });

  it('refuses orthonormal embeddings that do not fit in d, naming the fix', () => {
    expect(() => makeEmbeddings({ n: 9, m: 2, d: 8, embeddings: { kind: 'orthonormal' }, seed: 1 })).toThrow(/N ≤ d.*--d/);
    expect(() => makeEmbeddings({ n: 3, m: 2, d: 3, embeddings: { kind: 'correlated', alpha: 0.5 }, seed: 1 })).toThrow(/N \+ 1 ≤ d/);
  });
});

describe('tfjs model vs the float64 reference', () => {
  const spec: AssocSpec = { n: 6, m: 5, d: 7, embeddings: { kind: 'sphere' }, init: 'randn', seed: 11 };
  const task = makeTokenTask({ n: 6, m: 5, frequencies: { kind: 'zipf', alpha: 1 }, seed: 2 });

  it('loss, scores, gradient (closed form and autodiff) and one GD step agree (rel. 2e-5)', () => {
    const emb = f32Embeddings(spec);
    const model = createAssocModel(spec, task, emb);
    const a = problem(spec, task, emb);
    const w = Float64Array.from(model.weights());
    const o = model.observe({ scores: true });
    expect(Math.abs(o.loss - loss64(a, w).loss)).toBeLessThan(2e-5 * loss64(a, w).loss);
    const g = model.gradient();
    const g64 = grad64(a, w);
    expect(maxDiff(g.dataSync(), g64)).toBeLessThan(2e-5 * maxAbs(g64));
    // the closed form is the derivative of the loss
    const auto = tf.tidy(() => {
      const E = tf.tensor2d(Float32Array.from(emb.e), [6, 7]), U = tf.tensor2d(Float32Array.from(emb.u), [5, 7]);
      const Y = tf.oneHot(tf.tensor1d(task.targets, 'int32'), 5).toFloat();
      const f = (W: tf.Tensor) => tf.neg(tf.sum(tf.mul(tf.sum(tf.mul(tf.logSoftmax(tf.matMul(tf.matMul(E, W as tf.Tensor2D, false, true), U, false, true)), Y), 1), tf.tensor1d(Float32Array.from(task.p)))));
      return tf.grad(f)(model.variable);
    });
    expect(maxDiff(auto.dataSync(), g64)).toBeLessThan(2e-5 * maxAbs(g64));
    tf.dispose([g, auto]);
    const lr = 0.7;
    model.update(createAssocOptimizer(model, 'gd', lr));
    const w1 = gdStep64(a, w, lr);
    expect(maxDiff(model.weights(), w1)).toBeLessThan(2e-5 * maxAbs(w1));
    model.dispose();
  });

  it('keeps the tensor count flat over many steps', () => {
    const model = createAssocModel(spec, task);
    const opt = createAssocOptimizer(model, 'adam', 0.01);
    const step = () => {
      model.observe({ scores: true });
      model.update(opt, Float64Array.from(task.p));
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) step();
    model.lambdaMax(5);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    model.dispose();
  });
});

describe('margins under GD in the orthogonal case', () => {
  const spec = (n: number, m: number, d: number): AssocSpec => ({ n, m, d, embeddings: { kind: 'orthonormal' }, init: 'zero', seed: 5 });

  it('one step from W₀ = 0 gives m_x = η·p(x) exactly (f64 and tfjs), also with N > M and shared targets', () => {
    for (const [n, m, d] of [[8, 8, 8], [6, 4, 9], [5, 12, 12]]) {
      const sp = spec(n, m, d);
      const task = makeTokenTask({ n, m, frequencies: { kind: 'zipf', alpha: 1.2 }, seed: n });
      const emb = f32Embeddings(sp);
      // the f64 side uses the exact (f64) orthonormal embeddings; float32 rounding breaks orthonormality at 1e-8
      const a = problem(sp, task, makeEmbeddings(sp));
      for (const lr of [0.1, 3, 40]) {
        const m64 = margins64(a, gdStep64(a, new Float64Array(d * d), lr));
        const expected = Array.from(task.p, (p) => lr * p);
        expect(maxDiff(m64, expected)).toBeLessThan(1e-12 * lr);
        const model = createAssocModel(sp, task, emb);
        model.update(createAssocOptimizer(model, 'gd', lr));
        const st = marginStats(model.observe({ scores: true }).scores!, n, m, task.targets, task.p);
        expect(maxDiff(st.margins, expected)).toBeLessThan(2e-5 * lr);
        model.dispose();
      }
    }
  });

  it('margins never decrease (several step sizes, 300 steps, f64 and tfjs)', () => {
    const n = 8, m = 6, d = 10;
    const sp = spec(n, m, d);
    const task = makeTokenTask({ n, m, frequencies: { kind: 'zipf', alpha: 1 }, seed: 9 });
    const emb = f32Embeddings(sp);
    const a = problem(sp, task, makeEmbeddings(sp));
    for (const lr of [0.5, 5, 50, 500]) {
      let w: Float64Array = new Float64Array(d * d);
      let prev = margins64(a, w);
      const model = createAssocModel(sp, task, emb);
      const opt = createAssocOptimizer(model, 'gd', lr);
      let prev32 = marginStats(model.observe({ scores: true }).scores!, n, m, task.targets, task.p).margins;
      let worst64 = Infinity, worst32 = Infinity;
      for (let t = 0; t < 300; t++) {
        w = gdStep64(a, w, lr);
        const cur = margins64(a, w);
        cur.forEach((v, i) => (worst64 = Math.min(worst64, v - prev[i])));
        prev = cur;
        model.update(opt);
        const cur32 = marginStats(model.observe({ scores: true }).scores!, n, m, task.targets, task.p).margins;
        cur32.forEach((v, i) => (worst32 = Math.min(worst32, v - prev32[i] + 1e-5 * (1 + Math.abs(v)))));
        prev32 = cur32;
      }
      expect(worst64).toBeGreaterThanOrEqual(-1e-12);
      expect(worst32).toBeGreaterThanOrEqual(0);
      expect(Math.min(...prev)).toBeGreaterThan(0);
      opt.dispose();
      model.dispose();
    }
  });
});

describe('two correlated tokens, imbalanced, large step: loss spikes', () => {
  // found with the f64 integrator (scratch sweep over α ∈ {0.9, 0.95, 0.99}, p1 ∈ {0.9, 0.95, 0.99},
  // η ∈ {1 … 100}): α = 0.99, p1 = 0.9, η = 30 oscillates for ~80 steps with spikes ×5–12, then settles
  const alpha = 0.99, p1 = 0.9, lr = 30, steps = 200;
  const task = { p: Float64Array.of(p1, 1 - p1), targets: Int32Array.of(0, 1) };
  const toEvents = (losses: number[]): TrainStepEvent[] =>
    losses.map((loss, step) => ({ kind: 'train-step', runId: 'r', step, time: 0, loss, lr, gradNorm: 0, stepMs: 0, samplesPerSec: 0 }));
  const expectSpikes = async (losses: number[]) => {
    const found = await firstValueFrom(from(toEvents(losses)).pipe(spikes({ runId: 'r' }), toArray()));
    const late = found.filter((s) => s.phase === 'onset' && s.onsetStep > 5);
    expect(late.length).toBeGreaterThan(0); // a spike after the loss had come down, not the first step's overshoot
    expect(late[0].preLoss).toBeLessThan(losses[0]);
    expect(found.some((s) => s.phase === 'end')).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(0.05); // the oscillation fades
  };

  it('in the float64 integrator', async () => {
    const a: AssocProblem = { n: 2, m: 2, d: 2, e: Float64Array.of(1, 0, alpha, Math.sqrt(1 - alpha * alpha)), u: Float64Array.of(1, 0, 0, 1), ...task };
    let w: Float64Array = new Float64Array(4);
    const losses: number[] = [];
    for (let t = 0; t <= steps; t++) {
      losses.push(loss64(a, w).loss);
      w = gdStep64(a, w, lr);
    }
    await expectSpikes(losses);
  });

  it('in the tfjs model (d = 4, random rotation), with margin sign flips seen by the margins monitor', async () => {
    const model = createAssocModel({ n: 2, m: 2, d: 4, embeddings: { kind: 'correlated', alpha }, init: 'zero', seed: 1 }, task);
    const opt = createAssocOptimizer(model, 'gd', lr);
    const losses: number[] = [];
    const snaps = [];
    for (let t = 0; t <= steps; t++) {
      const o = model.observe({ scores: true });
      losses.push(o.loss);
      snaps.push({ step: t, n: 2, m: 2, scores: o.scores!, targets: task.targets, weights: task.p });
      model.update(opt);
    }
    opt.dispose();
    model.dispose();
    await expectSpikes(losses);
    const ev = await firstValueFrom(from(snaps).pipe(margins({ runId: 'r', every: 100, perDecade: 0 }), toArray()));
    expect(ev.map((e) => e.step)).toEqual([0, 100, 200]);
    expect(ev[1].flips).toBeGreaterThan(4); // oscillations in the first 100 steps
    expect(ev[2].flips).toBe(0); // … and none later
    expect(ev[2].fractionPositive).toBe(1);
  });
});

describe('Hessian', () => {
  it('matrix-free HVP equals the dense closed form, which is the derivative of the gradient; Lanczos λ_max = dense top eigenvalue', () => {
    for (const seed of [1, 2, 3]) {
      const sp: AssocSpec = { n: 5, m: 4, d: 3, embeddings: { kind: 'sphere' }, init: 'randn', seed };
      const task = makeTokenTask({ n: 5, m: 4, frequencies: { kind: 'zipf', alpha: 0.8 }, seed });
      const emb = f32Embeddings(sp);
      const model = createAssocModel(sp, task, emb);
      const a = problem(sp, task, emb);
      const w = Float64Array.from(model.weights());
      const D = 9;
      const h = hessianDense64(a, w);
      // symmetric, and its columns are central differences of the gradient
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) expect(Math.abs(h[i * D + j] - h[j * D + i])).toBeLessThan(1e-14);
      const eps = 1e-5;
      for (let k = 0; k < D; k++) {
        const wp = Float64Array.from(w), wm = Float64Array.from(w);
        wp[k] += eps;
        wm[k] -= eps;
        const gp = grad64(a, wp), gm = grad64(a, wm);
        for (let i = 0; i < D; i++) expect(Math.abs((gp[i] - gm[i]) / (2 * eps) - h[i * D + k])).toBeLessThan(1e-8);
      }
      const rng = new Rng(seed);
      const v = Float64Array.from({ length: D }, () => rng.normal());
      const hv = Array.from({ length: D }, (_, i) => h.subarray(i * D, (i + 1) * D).reduce((s, x, j) => s + x * v[j], 0));
      expect(maxDiff(model.hvp(v), hv)).toBeLessThan(2e-5 * maxAbs(hv));
      const top = Math.max(...eigenvalues(h, D).re);
      expect(Math.abs(model.lambdaMax(D) - top)).toBeLessThan(2e-5 * top);
      model.dispose();
    }
  });

  it('at W₀ = 0 with orthonormal embeddings, λ_max = max_x p(x)/M', () => {
    const sp: AssocSpec = { n: 4, m: 5, d: 6, embeddings: { kind: 'orthonormal' }, init: 'zero', seed: 4 };
    const task = makeTokenTask({ n: 4, m: 5, frequencies: { kind: 'zipf', alpha: 1 }, seed: 4 });
    const model = createAssocModel(sp, task);
    expect(Math.abs(model.lambdaMax(36) - task.p[0] / 5)).toBeLessThan(2e-5 * task.p[0]);
    model.dispose();
  });
});
