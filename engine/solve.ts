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
 * Cost: one W×d×W product, two W×W×W products per point and hidden layer after the first, and an
 * (W+1)² Cholesky — all in OpenBLAS/LAPACK when the addon is built.
 */
import { tf } from './tf.ts';
import { activation } from './activations.ts';
import { matmul64 } from './jacobian.ts';
import type { Model, NetSpec } from './model.ts';
import { loadBlasAddon } from './native-blas.ts';
import type { Dataset } from './objectives.ts';
import { Rng } from './random.ts';
import { shadow } from './limits.ts';
import type { TrainerFactory } from './trainer.ts';

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
  /** Called between points of the Jacobian Gram with the share done (0..1); may return a promise to yield. */
  progress?: (done: number) => void | Promise<void>;
}

export interface SolveResult {
  /** Full-data MSE (mean over elements, float32 forward) after the solve. */
  mse: number;
  /** Root-mean-square ‖J(x_i)‖_F over the training points after the solve. */
  jacobianFrob: number;
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
  const ws = model.weights();
  const W0 = ws.find((x) => x.name === 'W0')!.data; // [d, W]
  const b0 = ws.find((x) => x.name === 'b0')?.data;
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
  model.setWeights(ws);
}

/** φ′(z_l) of every hidden layer at every training input, per layer [n, W]. */
function hiddenDerivatives(model: Model, data: Dataset): Float32Array[] {
  const { dim: d, depth } = model.spec;
  const act = activation(model.spec.activation);
  const p = (name: string) => model.params.find((q) => q.name === name)?.variable;
  const dphi = tf.grad((z: tf.Tensor) => tf.sum(act.apply(z)));
  return tf.tidy(() => {
    let h: tf.Tensor2D = tf.tensor2d(data.inputs, [data.n, d]);
    const out: tf.Tensor[] = [];
    for (let l = 0; l < depth; l++) {
      let z = tf.matMul(h, p(`W${l}`)! as tf.Tensor2D);
      const b = p(`b${l}`);
      if (b) z = tf.add(z, b);
      out.push(dphi(z));
      h = act.apply(z) as tf.Tensor2D;
    }
    return out.map((t) => t.dataSync().slice() as Float32Array);
  });
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

export function transpose64(a: Float64Array, r: number, c: number): Float64Array {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = a[i * c + j];
  return t;
}

/**
 * X with A X = B for A (m×m) symmetric positive definite and B (m×k), row-major: LAPACK through the
 * addon, else Cholesky in JavaScript. Null when A is not positive definite. Inputs are not modified.
 */
export function spdSolve(a: Float64Array, m: number, b: Float64Array, k: number): Float64Array | null {
  const blas = loadBlasAddon();
  if (blas?.posv) return blas.posv(a, b, m, k);
  const L = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    let s = a[j * m + j];
    for (let t = 0; t < j; t++) s -= L[j * m + t] ** 2;
    if (!(s > 0)) return null;
    const ljj = Math.sqrt(s);
    L[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let t2 = a[i * m + j];
      for (let t = 0; t < j; t++) t2 -= L[i * m + t] * L[j * m + t];
      L[i * m + j] = t2 / ljj;
    }
  }
  const x = b.slice();
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < i; t++) {
      const l = L[i * m + t];
      if (l !== 0) for (let j = 0; j < k; j++) x[i * k + j] -= l * x[t * k + j];
    }
    const inv = 1 / L[i * m + i];
    for (let j = 0; j < k; j++) x[i * k + j] *= inv;
  }
  for (let i = m - 1; i >= 0; i--) {
    for (let t = i + 1; t < m; t++) {
      const l = L[t * m + i];
      if (l !== 0) for (let j = 0; j < k; j++) x[i * k + j] -= l * x[t * k + j];
    }
    const inv = 1 / L[i * m + i];
    for (let j = 0; j < k; j++) x[i * k + j] *= inv;
  }
  return x;
}

/**
 * C = Σ_i M_i M_iᵀ (W×W) without forming M_i: with P = W_0ᵀW_0, M_i M_iᵀ = D_L W_{L−1}ᵀ ⋯ D_1 P D_1 ⋯
 * W_{L−1} D_L, two W×W×W products per point and hidden layer after the first (none for depth 1).
 */
async function jacobianGram(model: Model, data: Dataset, progress?: SolveOptions['progress']): Promise<Float64Array> {
  const { dim: d, width: w, depth } = model.spec;
  const p = (name: string) => model.params.find((q) => q.name === name)!.variable;
  const derivs = hiddenDerivatives(model, data);
  const W0 = Float64Array.from(p('W0').dataSync());
  const P = matmul64(transpose64(W0, d, w), W0, w, d, w);
  const Wl = Array.from({ length: depth }, (_, l) => (l === 0 ? null : Float64Array.from(p(`W${l}`).dataSync())));
  const WlT = Wl.map((x) => (x ? transpose64(x, w, w) : null));
  const C = new Float64Array(w * w);
  for (let i = 0; i < data.n; i++) {
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
    await progress?.((i + 1) / data.n);
  }
  return C;
}

function residual(model: Model, data: Dataset): { mse: number; r: Float64Array } {
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
export async function solveOutputLayer(model: Model, data: Dataset, o: Pick<SolveOptions, 'mu' | 'passes' | 'progress'> = {}): Promise<SolveResult> {
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
  const ws = model.weights();
  const W = ws.find((x) => x.name === `W${depth}`)!.data; // [W, d]
  const b = ws.find((x) => x.name === `b${depth}`)?.data;
  W.fill(0);
  b?.fill(0);
  model.setWeights(ws);
  for (let pass = 0; pass < (o.passes ?? 3); pass++) {
    const { r } = residual(model, data);
    const z = spdSolve(g, n, r, d);
    if (!z) throw new Error('the hidden features of the training points are linearly dependent (duplicate points, or too narrow a net)');
    const delta = matmul64(cInvHaT, z, wa, n, d);
    for (let i = 0; i < w * d; i++) W[i] += delta[i];
    if (b) for (let j = 0; j < d; j++) b[j] += delta[w * d + j];
    model.setWeights(ws);
  }
  // Σ‖J_i‖_F² = tr(W_outᵀ Σ M_i M_iᵀ W_out)
  const W64 = Float64Array.from(W);
  const gw = matmul64(gram, W64, w, w, d);
  let s = 0;
  for (let i = 0; i < w * d; i++) s += W64[i] * gw[i];
  return { mse: residual(model, data).mse, jacobianFrob: Math.sqrt(s / n), seconds: (performance.now() - t0) / 1000, gramSeconds };
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
}

/**
 * The solver as a Trainer: each step is one attempt (a first layer sampled with seed + attempt, the
 * output layer solved). With `check`, an attempt whose noise starts do not all replay asks for
 * another (`retry`), up to `tries`; the last attempt keeps the best attempt's weights. Between points
 * of the Jacobian Gram the step yields to the event loop, so a dashboard stays live.
 */
export function solveTrainer(model: Model, o: SolveTrainerOptions): TrainerFactory<Dataset> {
  return (data) => {
    let steps = 0;
    let best: { replayed: number; loss: number; weights: ReturnType<Model['weights']> } | null = null;
    const tries = o.tries ?? SOLVE_TRIES;
    const yieldEvery = 50;
    let last = performance.now();
    const progress = async () => {
      if (performance.now() - last < yieldEvery) return;
      await new Promise<void>((r) => setImmediate(r));
      last = performance.now();
    };
    return {
      async step() {
        const attempt = steps;
        const seed = o.seed + attempt;
        const r = await solveFit(model, data, { ...o, seed, progress });
        const gradNorm = fullGradientNorm(model, data);
        steps++;
        const notes: string[] = [];
        let retry: string | undefined;
        const res = { loss: r.mse, gradNorm, lr: 0, batchSize: data.n };
        if (!o.check) return { ...res, notes: [`solved the output layer on a first layer sampled with seed ${seed}: MSE ${r.mse.toExponential(2)}, rms ‖J‖_F ${r.jacobianFrob.toPrecision(3)} (${r.seconds.toFixed(1)} s)`] };
        const k = o.check.starts ?? 8;
        const replayed = Number.isFinite(r.mse) ? replayCount(model, data, { ...o.check, seed: seed + 1000 }) : 0;
        notes.push(`solve ${attempt + 1}/${tries} (first layer seed ${seed}): MSE ${r.mse.toExponential(2)}, rms ‖J‖_F ${r.jacobianFrob.toPrecision(3)}, ${replayed}/${k} noise starts replay the data (${r.seconds.toFixed(1)} s)`);
        if (!best || replayed > best.replayed || (replayed === best.replayed && r.mse < best.loss)) best = { replayed, loss: r.mse, weights: model.weights() };
        if (replayed < k) {
          if (attempt + 1 < tries) retry = `${k - replayed} of ${k} noise starts did not replay the data`;
          else if (best.weights && best.loss !== r.mse) {
            model.setWeights(best.weights);
            notes.push(`kept solve with ${best.replayed}/${k} replaying, the best of ${tries}`);
            return { ...res, loss: best.loss, gradNorm: fullGradientNorm(model, data), notes };
          }
        }
        return { ...res, notes, retry };
      },
      state: () => ({ step: steps, optimizer: [], rng: [] }),
      restore(st) {
        steps = st.step;
      },
      weightsFinite: () => model.weights().every((w) => w.data.every(Number.isFinite)),
      dispose() {},
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
