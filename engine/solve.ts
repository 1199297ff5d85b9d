/**
 * solve: fit an FC net to a dataset without gradient steps (docs/math.md §3.5).
 *
 * 1. First layer sampled from the data. Hidden unit k takes a pair of training points (a, b) and puts
 *    its transition between them: w_k = (b − a)/‖b − a‖², b_k = −⟨w_k, a⟩ − offset, so its
 *    pre-activation is −offset at a and 1 − offset at b. A share `adjacent` of the units takes a
 *    training pair (input i, its target: the next frame of a cycle), the rest two random inputs.
 *    Hidden layers after the first keep their random initialization.
 * 2. Output layer solved in closed form: the net's Jacobian at x is J(x) = W_outᵀ·M(x), with M(x)
 *    the product of the hidden layers' factors, so both the fit H·W_out + 1·bᵀ = Y and J are linear
 *    in W_out. Among the exact fits, take the one with the smallest Σ_i ‖J(x_i)‖_F² + μ‖W_out‖²:
 *
 *      C  = Σ_i M(x_i) M(x_i)ᵀ + μ·I         ((W+1)×(W+1); the bias row gets μ only)
 *      Wₐ = C⁻¹Hₐᵀ (Hₐ C⁻¹ Hₐᵀ)⁻¹ Y          (Hₐ = [H 1], the last hidden layer's features)
 *
 *    solved in float64, then refined on the float32 residual (`passes`), so the fit is exact to
 *    float32 rounding. Small Jacobians at the stored points make each stored cycle contract
 *    (ρ(J_{f^n}) ≤ Π‖J(x_i)‖₂): the memory is an attractor, not only a fit.
 *
 * Needs width + 1 ≥ n (one feature per point, plus the bias) and the FC layout of engine/model.ts.
 * Cost: about 4·n²·W² flops per hidden layer for the Jacobian Gram (see jacobianGram) and a (W+1)²
 * Cholesky — all in OpenBLAS/LAPACK when the addon is built.
 */
import { tf } from './tf.ts';
import { activation } from './activations.ts';
import { hiddenDerivatives, matmul64, spdSolve, transpose64 } from './jacobian.ts';
import type { Model, NetSpec } from './model.ts';
import type { Dataset } from './objectives.ts';
import { Rng } from './random.ts';
import { shadow } from './limits.ts';
import { loadBlasAddon } from './native-blas.ts';
import { weightsFinite, type StepResult, type Trainer, type TrainerFactory, type TrainerState } from './trainer.ts';

/** Solve attempts a run makes by default (each with the next seed), when its noise starts do not all replay. */
export const SOLVE_TRIES = 3;

export interface SampleOptions {
  seed: number;
  /** Share of units whose pair is (input i, target i) (default 0.2). */
  adjacent?: number;
  /** Pre-activation at the pair's first point is −offset (default 0.5). */
  offset?: number;
}

export interface SolveOptions extends SampleOptions {
  /** Tikhonov weight on ‖W_out‖², relative: μ = mu·tr(C)/W (default 1e-3). */
  mu?: number;
  /** Refinement passes on the float32 residual (default 3). */
  passes?: number;
  /** Compute `jacobianFrob` (default true; a W×W×d product, NaN when false). */
  frob?: boolean;
  /** Called between points of the Jacobian Gram with the share done (0..1); may return a promise to yield. */
  progress?: (done: number) => void | Promise<void>;
}

export interface SolveResult {
  /** Full-data MSE (mean over elements, float32 forward) after the solve. */
  mse: number;
  /** Root-mean-square ‖J(x_i)‖_F over the training points after the solve (NaN when not asked for). */
  jacobianFrob: number;
  /** ‖∇ MSE‖₂ with respect to the output layer (the layer the solve sets; the others' gradients are not computed). */
  outputGradNorm: number;
  seconds: number;
  gramSeconds: number;
}

/** Why `solveFit` cannot fit this model to n points, or null when it can. */
export function solveBlocker(spec: NetSpec, n: number): string | null {
  if (spec.kind !== 'fc') return 'the solver fits FC nets only';
  if (spec.depth < 1) return 'the solver needs at least one hidden layer';
  if (spec.width + (spec.bias ? 1 : 0) < n) return `the solver needs --width ≥ ${spec.bias ? n - 1 : n} for ${n} points (was ${spec.width})`;
  return null;
}

/** Step 1: the first layer from pairs of training points (see the file comment). */
export function sampleFirstLayer(model: Model, data: Dataset, o: SampleOptions): void {
  const { dim: d, width: w } = model.spec;
  const n = data.n, X = data.inputs, Y = data.targets;
  const rng = new Rng(o.seed);
  const adj = o.adjacent ?? 0.2, off = o.offset ?? 0.5;
  const v = (name: string) => model.params.find((q) => q.name === name)?.variable;
  const W0 = v('W0')!.dataSync().slice() as Float32Array; // [d, W]
  const b0 = v('b0')?.dataSync().slice() as Float32Array | undefined;
  const diff = new Float64Array(d);
  for (let k = 0; k < w; k++) {
    const i = Math.floor(rng.next() * n);
    const ao = i * d;
    let bo = 0;
    let fromTarget = rng.next() < adj;
    if (fromTarget) {
      bo = i * d;
      let same = true;
      for (let t = 0; t < d && same; t++) same = Y[bo + t] === X[ao + t];
      fromTarget = !same; // autoencoding: the target is the input; take a random pair instead
    }
    let nn = 0;
    if (fromTarget) {
      for (let t = 0; t < d; t++) nn += (diff[t] = Y[bo + t] - X[ao + t]) ** 2;
    } else {
      let j = Math.floor(rng.next() * n);
      if (j === i) j = (i + 1) % n;
      bo = j * d;
      for (let t = 0; t < d; t++) nn += (diff[t] = X[bo + t] - X[ao + t]) ** 2;
    }
    if (!(nn > 0)) continue; // identical points (n = 1): keep the random unit
    let dot = 0;
    for (let t = 0; t < d; t++) {
      const wk = diff[t] / nn;
      W0[t * w + k] = wk;
      dot += wk * X[ao + t];
    }
    if (b0) b0[k] = -dot - off;
  }
  assignWeight(model, 'W0', W0);
  if (b0) assignWeight(model, 'b0', b0);
}

/** The last hidden layer's features of every training input, [n, W]. */
function hiddenFeatures(model: Model, data: Dataset): Float32Array {
  const { dim: d, depth } = model.spec;
  const act = activation(model.spec.activation);
  const p = (name: string) => model.params.find((q) => q.name === name)?.variable;
  return tf.tidy(() => {
    let h: tf.Tensor2D = tf.tensor2d(data.inputs, [data.n, d]);
    for (let l = 0; l < depth; l++) {
      let z = tf.matMul(h, p(`W${l}`)! as tf.Tensor2D);
      const b = p(`b${l}`);
      if (b) z = tf.add(z, b);
      h = act.apply(z) as tf.Tensor2D;
    }
    return h.dataSync().slice() as Float32Array;
  });
}

/**
 * C = Σ_i M_i M_iᵀ (W×W), M_i = D_D W_{D−1}ᵀ ⋯ D_1 W_0ᵀ at training point i, without forming M_i (W×d).
 *
 * Low-rank path: when the first layer's columns lie in the span of the training points (a sampled
 * first layer does: its units are differences of points), W_0 = Xᵀ G⁻¹ B with X the n×d points,
 * G = X Xᵀ and B = X W_0 (n×W), so W_0ᵀ W_0 = Bᵀ G⁻¹ B and M_i M_iᵀ = K_iᵀ G⁻¹ K_i with
 * K_i = B D_1 W_1 D_2 ⋯ (n×W): about 4·n²·W² flops in all instead of 4·n·W³. With d ≤ n, K_i starts
 * from W_0 itself (d×W, no G). Otherwise (a first layer off the data's span) the general path:
 * P = W_0ᵀW_0, M_i M_iᵀ = D_D W_{D−1}ᵀ ⋯ D_1 P D_1 ⋯ W_{D−1} D_D, two W×W×W products per point and
 * layer after the first.
 */
export async function jacobianGram(model: Model, data: Dataset, progress?: SolveOptions['progress']): Promise<Float64Array> {
  const { dim: d, width: w, depth } = model.spec;
  const n = data.n;
  const p = (name: string) => model.params.find((q) => q.name === name)!.variable;
  const derivs = hiddenDerivatives(model, data.inputs);
  const W0 = Float64Array.from(p('W0').dataSync());
  const Wl = Array.from({ length: depth }, (_, l) => (l === 0 ? null : Float64Array.from(p(`W${l}`).dataSync())));
  const low = lowRankFirstLayer(W0, data);
  const C = new Float64Array(w * w);
  const blas = loadBlasAddon();
  if (low && !low.G && blas?.jacgram) {
    // native: the points' chain products stacked, one dgemm per layer and one dsyrk per chunk
    const ws = new Float64Array((depth - 1) * w * w);
    for (let l = 1; l < depth; l++) ws.set(Wl[l]!, (l - 1) * w * w);
    const chunk = Math.max(1, Math.min(n, Math.floor(4096 / low.r)));
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const m = Math.min(chunk, n - i0);
      const dv = new Float32Array(depth * m * w);
      for (let l = 0; l < depth; l++) dv.set(derivs[l].subarray(i0 * w, (i0 + m) * w), l * m * w);
      const q = blas.jacgram(low.B, dv, ws, low.r, w, m, depth);
      if (m === n) return q;
      for (let t = 0; t < w * w; t++) C[t] += q[t];
      await progress?.((i0 + m) / n);
    }
    return C;
  }
  if (low) {
    const { B, r, G } = low;
    // Σ_i K_iᵀ Z_i over a chunk of points is one product [K_1; …]ᵀ [Z_1; …] (a large, efficient gemm)
    const chunk = Math.max(1, Math.min(n, Math.floor(4096 / r)));
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const m = Math.min(chunk, n - i0);
      const Ks = new Float64Array(m * r * w), Zs = new Float64Array(m * r * w);
      for (let j = 0; j < m; j++) {
        const i = i0 + j;
        let K: Float64Array = B.slice();
        scaleColumns(K, r, w, derivs[0].subarray(i * w, (i + 1) * w));
        for (let l = 1; l < depth; l++) {
          K = matmul64(K, Wl[l]!, r, w, w);
          scaleColumns(K, r, w, derivs[l].subarray(i * w, (i + 1) * w));
        }
        const Z = G ? spdSolve(G, r, K, w) : K;
        if (!Z) throw new Error('the Gram of the training points is not positive definite');
        Ks.set(K, j * r * w);
        Zs.set(Z, j * r * w);
      }
      const q = matmul64(transpose64(Ks, m * r, w), Zs, w, m * r, w);
      for (let t = 0; t < w * w; t++) C[t] += q[t];
      await progress?.((i0 + m) / n);
    }
    return C;
  }
  const P = matmul64(transpose64(W0, d, w), W0, w, d, w);
  const WlT = Wl.map((x) => (x ? transpose64(x, w, w) : null));
  for (let i = 0; i < n; i++) {
    const d1 = derivs[0].subarray(i * w, (i + 1) * w);
    let q: Float64Array = new Float64Array(w * w);
    for (let r = 0; r < w; r++) {
      const a = d1[r];
      if (a === 0) continue;
      for (let c = 0; c < w; c++) q[r * w + c] = a * P[r * w + c] * d1[c];
    }
    for (let l = 1; l < depth; l++) {
      q = matmul64(matmul64(WlT[l]!, q, w, w, w), Wl[l]!, w, w, w);
      const dl = derivs[l].subarray(i * w, (i + 1) * w);
      for (let r = 0; r < w; r++) {
        const a = dl[r];
        for (let c = 0; c < w; c++) q[r * w + c] *= a * dl[c];
      }
    }
    for (let t = 0; t < w * w; t++) C[t] += q[t];
    await progress?.((i + 1) / n);
  }
  return C;
}

function scaleColumns(m: Float64Array, rows: number, cols: number, s: Float32Array): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m[r * cols + c] *= s[c];
}

/**
 * W_0 (d×W) as seen from the training points: { B = W_0, r = d } when d ≤ n; { B = X W_0, r = n, G = X Xᵀ }
 * when W_0's columns lie in the points' span (checked: tr(Bᵀ G⁻¹ B) = ‖W_0‖_F² to 1e-6); else null.
 */
function lowRankFirstLayer(W0: Float64Array, data: Dataset): { B: Float64Array; r: number; G?: Float64Array } | null {
  const { n, dim: d } = data;
  const w = W0.length / d;
  if (d <= n) return { B: W0, r: d };
  const X = Float64Array.from(data.inputs);
  const G = matmul64(X, transpose64(X, n, d), n, d, n);
  const B = matmul64(X, W0, n, d, w);
  let total = 0;
  for (let i = 0; i < d * w; i++) total += W0[i] * W0[i];
  const blas = loadBlasAddon();
  if (blas?.cholL) {
    // whitened: L⁻¹B with G = L Lᵀ, so Bᵀ G⁻¹ B = (L⁻¹B)ᵀ(L⁻¹B) and no G is needed after this
    const LiB = blas.cholL(G, B, n, w);
    if (!LiB) return null;
    let inSpan = 0;
    for (let i = 0; i < n * w; i++) inSpan += LiB[i] * LiB[i];
    return Math.abs(total - inSpan) <= 1e-6 * total ? { B: LiB, r: n } : null;
  }
  const GiB = spdSolve(G, n, B, w);
  if (!GiB) return null;
  let inSpan = 0;
  for (let i = 0; i < n * w; i++) inSpan += B[i] * GiB[i];
  return Math.abs(total - inSpan) <= 1e-6 * total ? { B, r: n, G } : null;
}

/** Sets one of the model's weights (the others stay as they are). */
function assignWeight(model: Model, name: string, data: Float32Array): void {
  const v = model.params.find((q) => q.name === name)!.variable;
  tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
}

/** Float64 residual Y − f(X) of the float32 forward, and its MSE (mean over elements). */
export function residual(model: Model, data: Dataset): { mse: number; r: Float64Array } {
  const y = model.apply(data.inputs);
  const r = new Float64Array(y.length);
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const e = data.targets[i] - y[i];
    r[i] = e;
    s += e * e;
  }
  return { mse: s / y.length, r };
}

/** Step 2: the contractive interpolating output layer (see the file comment), from the current hidden layers. */
export async function solveOutputLayer(model: Model, data: Dataset, o: Pick<SolveOptions, 'mu' | 'passes' | 'progress' | 'frob'> = {}): Promise<SolveResult> {
  const t0 = performance.now();
  const { dim: d, width: w, depth, bias } = model.spec;
  const n = data.n, wa = w + 1;
  const gram = await jacobianGram(model, data, o.progress);
  const gramSeconds = (performance.now() - t0) / 1000;
  const c = new Float64Array(wa * wa);
  let tr = 0;
  for (let i = 0; i < w; i++) {
    c.set(gram.subarray(i * w, (i + 1) * w), i * wa);
    tr += gram[i * w + i];
  }
  const mu = (o.mu ?? 1e-3) * (tr / w) || 1e-12;
  for (let i = 0; i < wa; i++) c[i * wa + i] += mu;
  const H = hiddenFeatures(model, data);
  const ha = new Float64Array(n * wa);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < w; j++) ha[i * wa + j] = H[i * w + j];
    ha[i * wa + w] = bias ? 1 : 0;
  }
  const cInvHaT = spdSolve(c, wa, transpose64(ha, n, wa), n);
  if (!cInvHaT) throw new Error('the Jacobian Gram is not positive definite');
  const g = matmul64(ha, cInvHaT, n, wa, n);
  // Wₐ = [W_out; bᵀ] ((W+1)×d), kept in float32 as the net holds it; each pass solves for the
  // residual of those float32 weights on the float32 features (computed in float64), so the fit is
  // exact to float32 rounding without running the net
  const Wa = new Float32Array(wa * d);
  const Y = data.targets;
  for (let pass = 0; pass < (o.passes ?? 3); pass++) {
    const y = matmul64(ha, Float64Array.from(Wa), n, wa, d);
    for (let i = 0; i < n * d; i++) y[i] = Y[i] - y[i];
    const z = spdSolve(g, n, y, d);
    if (!z) throw new Error('the hidden features of the training points are linearly dependent (duplicate points, or too narrow a net)');
    const delta = matmul64(cInvHaT, z, wa, n, d);
    for (let i = 0; i < wa * d; i++) Wa[i] += delta[i];
  }
  const W = Wa.subarray(0, w * d);
  assignWeight(model, `W${depth}`, W);
  if (bias) assignWeight(model, `b${depth}`, Wa.slice(w * d));
  // Σ‖J_i‖_F² = tr(W_outᵀ Σ M_i M_iᵀ W_out)
  let s = Number.NaN;
  if (o.frob ?? true) {
    const W64 = Float64Array.from(W);
    const gw = matmul64(gram, W64, w, w, d);
    s = 0;
    for (let i = 0; i < w * d; i++) s += W64[i] * gw[i];
  }
  // ∇_{Wₐ} MSE = −(2/(n·d)) Hₐᵀ r
  const { mse, r } = residual(model, data);
  const grad = matmul64(transpose64(ha, n, wa), r, wa, n, d);
  let g2 = 0;
  for (let i = 0; i < wa * d; i++) g2 += grad[i] * grad[i];
  const outputGradNorm = (2 / (n * d)) * Math.sqrt(g2);
  return { mse, jacobianFrob: Math.sqrt(s / n), outputGradNorm, seconds: (performance.now() - t0) / 1000, gramSeconds };
}

/** Steps 1 and 2: a fitted net, its output layer solved on a first layer sampled with `o.seed`. */
export async function solveFit(model: Model, data: Dataset, o: SolveOptions): Promise<SolveResult> {
  const blocker = solveBlocker(model.spec, data.n);
  if (blocker) throw new Error(blocker);
  const t0 = performance.now();
  sampleFirstLayer(model, data, o);
  const r = await solveOutputLayer(model, data, o);
  return { ...r, seconds: (performance.now() - t0) / 1000 };
}

export interface ReplayCheck {
  /** Noise starts N(0, sigma²) (default 8, sigma 1). */
  starts?: number;
  sigma?: number;
  /** Iterations a start may take to settle before the check gives up on it (default 1000). */
  burnIn?: number;
  /** A state is close to a stored point at ≥ this PSNR (default 30 dB). */
  minPsnr?: number;
  /** Peak-to-peak range for PSNR (1 for pixels in [0, 1], 2 for audio). */
  peak: number;
}

/**
 * How many of `starts` noise starts replay the data within `burnIn` iterations: over n consecutive
 * states every state is within minPsnr of a stored point and every step goes to that point's
 * successor (its target), so the start has settled onto a stored cycle (or, autoencoding, a stored
 * point).
 */
export function replayCount(model: Model, data: Dataset, o: ReplayCheck & { seed: number }): number {
  const { n, dim: d } = data;
  const k = o.starts ?? 8, burn = o.burnIn ?? 1000, minPsnr = o.minPsnr ?? 30;
  const frames = Array.from({ length: n }, (_, i) => data.inputs.subarray(i * d, (i + 1) * d));
  const succ = Array.from({ length: n }, (_, i) => nearestRow(data.inputs, n, d, data.targets.subarray(i * d, (i + 1) * d)));
  const rng = new Rng(o.seed);
  let x: Float32Array = new Float32Array(k * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal() * (o.sigma ?? 1);
  // iterate in blocks of at least n states; stop as soon as every start replays over its last n
  // states (a strongly contracting memory settles in tens of iterations), or after burnIn + n
  const block = Math.max(n, 32);
  let replayed = 0;
  for (let done = 0; done < burn + n; done += block) {
    const traj = model.iterate(x, block);
    x = traj.slice((block - 1) * k * d);
    replayed = 0;
    for (let s = 0; s < k; s++) {
      const states = Array.from({ length: n }, (_, t) => {
        const at = (block - n + t) * k * d + s * d;
        return traj.subarray(at, at + d);
      });
      const sh = shadow(states, frames, succ, { minPsnr, peak: o.peak, cyclic: false });
      if (sh.close === n && sh.advanced === sh.pairs) replayed++;
    }
    if (replayed === k) break;
  }
  return replayed;
}

function nearestRow(rows: Float32Array, n: number, d: number, x: Float32Array): number {
  let best = 0, bd = Infinity;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d && s < bd; t++) s += (rows[i * d + t] - x[t]) ** 2;
    if (s < bd) [best, bd] = [i, s];
  }
  return best;
}

export interface SolveTrainerOptions extends Omit<SolveOptions, 'progress'> {
  /** Solve attempts (fresh first layers, seeds seed, seed+1, …) before the best one is kept (default 3). */
  tries?: number;
  /** Check each solve by recall from noise, and try the next seed while starts fail (default: no check). */
  check?: ReplayCheck;
  /**
   * With `check`: when no attempt had a single start replay, put fresh weights in (`reinit`) and go on
   * training with `gradient`, the step count going on (--fit auto). Without it the best attempt is kept.
   */
  fallback?: { gradient: TrainerFactory<Dataset>; reinit: () => void };
}

/**
 * The solver as a Trainer: each step is one attempt (a first layer sampled with seed + attempt, the
 * output layer solved). With `check`, an attempt whose noise starts do not all replay asks for
 * another (`retry`), up to `tries`; after the last one the best attempt's weights are kept — or, with
 * `fallback` and no start replaying at all, training goes on by gradient from fresh weights. Between
 * points of the Jacobian Gram the step yields to the event loop, so a dashboard stays live.
 */
export function solveTrainer(model: Model, o: SolveTrainerOptions): TrainerFactory<Dataset> {
  return (data, opts) => {
    let steps = 0;
    let best: { attempt: number; replayed: number; loss: number; weights: ReturnType<Model['weights']> } | null = null;
    let gradient: Trainer<Dataset> | null = null;
    const tries = o.tries ?? SOLVE_TRIES;
    let last = performance.now();
    const progress = async () => {
      if (performance.now() - last < 50) return;
      await new Promise<void>((r) => setImmediate(r));
      last = performance.now();
    };
    const startGradient = (st?: TrainerState) => {
      gradient = o.fallback!.gradient(data, opts);
      const own = gradient.state();
      gradient.restore(st ?? { ...own, step: steps });
      return gradient;
    };
    const attempt = async (): Promise<StepResult> => {
      const at = steps;
      const seed = o.seed + at;
      const r = await solveFit(model, data, { ...o, seed, progress });
      steps++;
      const res = { loss: r.mse, gradNorm: fullGradientNorm(model, data), lr: 0, batchSize: data.n };
      const what = `MSE ${r.mse.toExponential(2)}, rms ‖J‖_F ${r.jacobianFrob.toPrecision(3)}`;
      if (!o.check) return { ...res, notes: [`solved the output layer on a first layer sampled with seed ${seed}: ${what} (${r.seconds.toFixed(1)} s)`] };
      const k = o.check.starts ?? 8;
      const replayed = Number.isFinite(r.mse) ? replayCount(model, data, { ...o.check, seed: seed + 1000 }) : 0;
      const notes = [`solve ${at + 1}/${tries} (first layer seed ${seed}): ${what}, ${replayed}/${k} noise starts replay the data (${r.seconds.toFixed(1)} s)`];
      if (!best || replayed > best.replayed || (replayed === best.replayed && r.mse < best.loss)) best = { attempt: at, replayed, loss: r.mse, weights: model.weights() };
      if (replayed === k) return { ...res, notes };
      if (at + 1 < tries) return { ...res, notes, retry: `${k - replayed} of ${k} noise starts did not replay the data` };
      if (best.replayed === 0 && o.fallback) {
        o.fallback.reinit();
        startGradient();
        return { ...res, notes, retry: `no noise start replayed the data in ${tries} solve attempts; training by gradient from a fresh initialization instead` };
      }
      if (best.attempt !== at) {
        model.setWeights(best.weights);
        notes.push(`kept solve ${best.attempt + 1} (${best.replayed}/${k} replaying), the best of ${tries}`);
        return { ...res, loss: best.loss, gradNorm: fullGradientNorm(model, data), notes };
      }
      return { ...res, notes };
    };
    return {
      step: () => (gradient ? gradient.step() : attempt()),
      state: () => (gradient ? gradient.state() : { step: steps, optimizer: [], rng: [] }),
      restore(st) {
        steps = st.step;
        // a checkpoint taken after the fallback carries the optimizer's state
        if (o.fallback && (st.step > tries || st.optimizer.length > 0)) startGradient(st);
      },
      rollback: () => gradient?.rollback?.() ?? null,
      weightsFinite: () => weightsFinite(model),
      dispose() {
        gradient?.dispose();
      },
    };
  };
}

/** ‖∇θ MSE‖₂ over the whole dataset. */
function fullGradientNorm(model: Model, data: Dataset): number {
  const vars = model.params.map((p) => p.variable);
  const x = tf.tensor2d(data.inputs, [data.n, data.dim]);
  const y = tf.tensor2d(data.targets, [data.n, data.dim]);
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(model.forward(x), y)) as tf.Scalar, vars);
  const g2 = tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
  tf.dispose([x, y, value, ...Object.values(grads)]);
  return Math.sqrt(g2);
}

/**
 * The solver for a live input (pipelines/live.ts): its data changes between steps (`setData`), and
 * each step solves the data as it is then — a first layer sampled from the current frames (a new
 * seed every step) and the output layer in closed form. The hidden layers after the first keep
 * their weights from step to step. There is no recall check per step: checking (and trying again)
 * made each step slower, so more frames were dropped and the memory's frames lay further apart,
 * which replayed worse (docs/live.md); the live run's probe says what replays. A solve that fails
 * (nearly equal frames, too narrow a net for them) keeps the last fit and says so. Each step yields
 * to the event loop between points of the Jacobian Gram, so frames keep arriving while it works.
 */
export function liveSolveTrainer(model: Model, o: Omit<SolveOptions, 'progress'>): TrainerFactory<Dataset> {
  return (first) => {
    let data = first;
    let steps = 0;
    let last = performance.now();
    const progress = async () => {
      if (performance.now() - last < 20) return;
      await new Promise<void>((r) => setImmediate(r));
      last = performance.now();
    };
    /** The weights the step under way started from (null between steps). */
    let inStep: ReturnType<Model['weights']> | null = null;
    return {
      async step(): Promise<StepResult> {
        const seed = o.seed + steps++;
        const before = (inStep = model.weights());
        try {
          const r = await solveFit(model, data, { ...o, seed, progress, frob: false });
          // the output layer's gradient: the whole net's costs a backward pass every step, and a
          // solve's loss is at float32 round-off anyway
          return { loss: r.mse, gradNorm: r.outputGradNorm, lr: 0, batchSize: data.n };
        } catch (e) {
          model.setWeights(before);
          const mse = residual(model, data).mse;
          return {
            loss: Number.isFinite(mse) ? mse : Number.MAX_VALUE, gradNorm: 0, lr: 0, batchSize: data.n,
            notes: [`solve with first layer seed ${seed} failed (${e instanceof Error ? e.message : String(e)}); the net keeps its last fit and tries another seed`],
          };
        } finally {
          inStep = null;
        }
      },
      abortStep() {
        if (inStep) model.setWeights(inStep);
        inStep = null;
      },
      setData(next) {
        data = next;
      },
      state: () => ({ step: steps, optimizer: [], rng: [] }),
      restore(st) {
        steps = st.step;
      },
      weightsFinite: () => weightsFinite(model),
      dispose() {},
    };
  };
}
