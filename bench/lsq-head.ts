/**
 * Prototype (issue 9, part 2): solve the output layer of an FC net by least squares.
 *
 * The FC net is f(x) = W_L·h(x) + b_L with h the last hidden layer (width W). Given the hidden
 * features H (n×W) of the n training inputs, the targets Y (n×d) are fitted exactly by any output
 * layer with [H 1]·[W_L; b_L] = Y, which exists when W + 1 ≥ n and [H 1] has full row rank n.
 *
 * `polishOutputLayer` applies the MINIMUM-NORM correction of the current output layer:
 *
 *   R = Y − f(X)             (residual of the float32 forward, in float64)
 *   G = Hₐ Hₐᵀ + λ·I         (n×n Gram of Hₐ = [H 1], float64; λ = ridge·tr(G)/n, tiny)
 *   Δ = Hₐᵀ G⁻¹ R            ((W+1)×d; Cholesky in float64)
 *   [W_L; b_L] += Δ
 *
 * repeated `passes` times (iterative refinement: each pass re-measures the float32 residual, so the
 * final error is float32 rounding, not float64 solve error). This is one exact Gauss–Newton step on
 * the output-layer block (the loss is quadratic in it), taken from the current weights, so a net that
 * Adam has already brought near the data keeps its shape (and its attractor) and only loses the
 * residual. Cost: one forward, one n×(W+1)×n and one (W+1)×n×d product, an n×n Cholesky.
 */
import { tf } from '../engine/tf.ts';
import { activation } from '../engine/activations.ts';
import type { Model } from '../engine/model.ts';
import type { Dataset } from '../engine/objectives.ts';
import { hiddenDerivatives, matmul64, spdSolve, transpose64 } from '../engine/jacobian.ts';
import { residual } from '../engine/solve.ts';
import { Rng } from '../engine/random.ts';

/** Last hidden layer h(x) of an FC model for n inputs packed [n, d]: Float32Array [n, W]. */
export function hiddenFeatures(model: Model, inputs: Float32Array): Float32Array {
  const { dim: d, depth } = model.spec;
  const act = activation(model.spec.activation);
  const n = inputs.length / d;
  const p = (name: string) => model.params.find((q) => q.name === name)?.variable;
  return tf.tidy(() => {
    let h: tf.Tensor2D = tf.tensor2d(inputs, [n, d]);
    for (let l = 0; l < depth; l++) {
      let z = tf.matMul(h, p(`W${l}`)! as tf.Tensor2D);
      const b = p(`b${l}`);
      if (b) z = tf.add(z, b);
      h = act.apply(z) as tf.Tensor2D;
    }
    return h.dataSync() as Float32Array;
  }).slice();
}

export interface PolishOptions {
  /** Refinement passes (default 3; pass 2 and 3 remove float32 rounding of pass 1). */
  passes?: number;
  /** Relative ridge λ/(tr(G)/n) (default 1e-12: only guards an exactly singular Gram). */
  ridge?: number;
}

export interface PolishResult {
  /** Full-data MSE (mean over elements, float32 forward) before and after each pass. */
  mse: number[];
  /** ‖Δ‖_F of each pass and ‖W_L‖_F after. */
  deltaNorm: number[];
  outNorm: number;
  /** Condition number estimate of the Gram (max/min diagonal of its Cholesky factor, squared). */
  ms: number;
}

/** Minimum-norm least-squares correction of the output layer (see the file comment). */
export function polishOutputLayer(model: Model, data: Dataset, opts: PolishOptions = {}): PolishResult {
  const t0 = performance.now();
  const { dim: d, width: w, depth } = model.spec;
  const n = data.n;
  const wa = w + 1;
  const H = hiddenFeatures(model, data.inputs);
  const ha = new Float64Array(n * wa);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < w; j++) ha[i * wa + j] = H[i * w + j];
    ha[i * wa + w] = model.spec.bias ? 1 : 0;
  }
  const haT = transpose64(ha, n, wa);
  const g = matmul64(ha, haT, n, wa, n);
  let tr = 0;
  for (let i = 0; i < n; i++) tr += g[i * n + i];
  const lam = (opts.ridge ?? 1e-12) * (tr / n);
  for (let i = 0; i < n; i++) g[i * n + i] += lam;
  const wName = `W${depth}`, bName = `b${depth}`;
  const res: PolishResult = { mse: [], deltaNorm: [], outNorm: 0, ms: 0 };
  for (let pass = 0; pass < (opts.passes ?? 3); pass++) {
    const { mse, r } = residual(model, data);
    res.mse.push(mse);
    const z = spdSolve(g, n, r, d);
    if (!z) throw new Error('Gram of the hidden features is not positive definite; raise ridge');
    const delta = matmul64(haT, z, wa, n, d); // (W+1)×d
    const ws = model.weights();
    const W = ws.find((x) => x.name === wName)!.data; // [W, d]
    const b = ws.find((x) => x.name === bName)?.data;
    let dn = 0;
    for (let i = 0; i < w * d; i++) {
      W[i] += delta[i];
      dn += delta[i] * delta[i];
    }
    if (b) for (let j = 0; j < d; j++) b[j] += delta[w * d + j];
    res.deltaNorm.push(Math.sqrt(dn));
    model.setWeights(ws);
    if (pass === (opts.passes ?? 3) - 1) {
      let on = 0;
      for (let i = 0; i < w * d; i++) on += W[i] * W[i];
      res.outNorm = Math.sqrt(on);
    }
  }
  res.mse.push(residual(model, data).mse);
  res.ms = performance.now() - t0;
  return res;
}

export interface ContractiveOptions {
  /** Relative Tikhonov weight on ‖W_out‖²: μ = mu·tr(C)/W (default 1e-3). */
  mu?: number;
  passes?: number;
  /**
   * 0: exact C = Σ M_i M_iᵀ (cost n·2·W²·d per net with W×d factors). k > 0: sketch
   * C ≈ Σ (M_i R)(M_i R)ᵀ with R (d×k) Gaussian, E[RRᵀ] = I — cost n·2·W²·k, for large d.
   */
  sketch?: number;
  seed?: number;
}

export interface ContractiveResult extends PolishResult {
  /** ‖J_f(x_i)‖_F averaged over the training inputs, after the solve. */
  jacobianFrobMean: number;
  /** Seconds spent building C (the Jacobian Gram). */
  gramSeconds: number;
}

/**
 * Contractive interpolating output layer. The Jacobian of an FC net at x is J(x) = W_outᵀ·M(x)
 * (engine/jacobian.ts), linear in W_out, and so is the fit H·W_out + 1·bᵀ = Y. Among all exact
 * fits, take the one with the smallest Σ_i ‖J(x_i)‖_F² + μ‖W_out‖_F²:
 *
 *   C  = Σ_i M(x_i) M(x_i)ᵀ + μ·I        (W×W; the bias gets weight μ too)
 *   Wₐ = C⁻¹Hₐᵀ (Hₐ C⁻¹ Hₐᵀ)⁻¹ Y         (then refinement passes on the float32 residual)
 *
 * Small Jacobians at the stored frames make the cycle's Jacobian product small (ρ ≤ Π‖J_i‖₂), so the
 * interpolated cycle is an attractor, and float32 rounding is not amplified around it.
 */
export function contractiveOutputLayer(model: Model, data: Dataset, opts: ContractiveOptions = {}): ContractiveResult {
  const t0 = performance.now();
  const { dim: d, width: w, depth } = model.spec;
  const n = data.n, wa = w + 1;
  // C = Σ M_i M_iᵀ, with M_i (W×d) from the Jacobian factors of each training input
  const c = new Float64Array(wa * wa);
  const tg = performance.now();
  const k = opts.sketch ?? 0;
  let R: Float64Array | null = null;
  if (k > 0) {
    const rng = new Rng(opts.seed ?? 5);
    R = new Float64Array(d * k);
    const sd = 1 / Math.sqrt(k);
    for (let i = 0; i < d * k; i++) R[i] = rng.normal() * sd;
  }
  const cols = k > 0 ? k : d;
  if (k > 0) {
    const jf = fcJacobianFactorsBatch(model, data, R, cols);
    for (const m of jf) {
      const g = matmul64(m, transpose64(m, w, cols), w, cols, w);
      for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) c[i * wa + j] += g[i * w + j];
    }
  } else {
    const g = jacobianGramExact(model, data);
    for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) c[i * wa + j] = g[i * w + j];
  }
  const gramSeconds = (performance.now() - tg) / 1000;
  let tr = 0;
  for (let i = 0; i < w; i++) tr += c[i * wa + i];
  const mu = (opts.mu ?? 1e-3) * (tr / w);
  for (let i = 0; i < wa; i++) c[i * wa + i] += mu;
  const H = hiddenFeatures(model, data.inputs);
  const ha = new Float64Array(n * wa);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < w; j++) ha[i * wa + j] = H[i * w + j];
    ha[i * wa + w] = model.spec.bias ? 1 : 0;
  }
  const haT = transpose64(ha, n, wa);
  const cInvHaT = spdSolve(c, wa, haT, n); // (W+1)×n
  if (!cInvHaT) throw new Error('matrix is not positive definite');
  const g = matmul64(ha, cInvHaT, n, wa, n); // n×n
  // start from W_out = 0, b = 0: the residual is then Y itself
  const wName = `W${depth}`, bName = `b${depth}`;
  const ws = model.weights();
  const W = ws.find((x) => x.name === wName)!.data;
  const b = ws.find((x) => x.name === bName)?.data;
  W.fill(0);
  b?.fill(0);
  model.setWeights(ws);
  const res: ContractiveResult = { mse: [], deltaNorm: [], outNorm: 0, ms: 0, jacobianFrobMean: 0, gramSeconds };
  const passes = opts.passes ?? 3;
  for (let pass = 0; pass < passes; pass++) {
    const { mse, r } = residual(model, data);
    res.mse.push(mse);
    const z = spdSolve(g, n, r, d);
    if (!z) throw new Error('Gram Hₐ C⁻¹ Hₐᵀ is not positive definite');
    const delta = matmul64(cInvHaT, z, wa, n, d);
    let dn = 0;
    for (let i = 0; i < w * d; i++) {
      W[i] += delta[i];
      dn += delta[i] * delta[i];
    }
    if (b) for (let j = 0; j < d; j++) b[j] += delta[w * d + j];
    res.deltaNorm.push(Math.sqrt(dn));
    model.setWeights(ws);
  }
  res.mse.push(residual(model, data).mse);
  let on = 0;
  for (let i = 0; i < w * d; i++) on += W[i] * W[i];
  res.outNorm = Math.sqrt(on);
  // mean ‖J_i‖_F² = tr(W_outᵀ M_i M_iᵀ W_out) = tr(W_outᵀ (C − μI)_{W×W} W_out) / n (sketched C: an estimate)
  const W64 = Float64Array.from(W);
  const cw = new Float64Array(w * w);
  for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) cw[i * w + j] = c[i * wa + j] - (i === j ? mu : 0);
  const cW = matmul64(cw, W64, w, w, d);
  let s = 0;
  for (let i = 0; i < w * d; i++) s += W64[i] * cW[i];
  res.jacobianFrobMean = Math.sqrt(s / n);
  res.ms = performance.now() - t0;
  return res;
}

/** M(x_i) (W×d, row-major float64) for every training input: D_L W_Lᵀ ⋯ D_1 W_1ᵀ of the hidden layers. */
function fcJacobianFactorsBatch(model: Model, data: Dataset, R: Float64Array | null, cols: number): Float64Array[] {
  const { dim: d, width: w, depth } = model.spec;
  const p = (name: string) => model.params.find((q) => q.name === name)?.variable;
  const n = data.n;
  const derivs = hiddenDerivatives(model, data.inputs);
  // transposed weights W_lᵀ (out×in) as float64
  const wt = Array.from({ length: depth }, (_, l) => {
    const v = p(`W${l}`)!;
    const [fi, fo] = v.shape;
    return transpose64(Float64Array.from(v.dataSync()), fi, fo);
  });
  // first factor W_0ᵀ (W×d), or its sketch W_0ᵀR (W×cols)
  const first = R ? matmul64(wt[0], R, w, d, cols) : wt[0];
  const res: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    // M = D_1 W_0ᵀ (W×d); then M ← D_{l} W_{l}ᵀ M
    let m: Float64Array = first.slice();
    const d0 = derivs[0];
    for (let r = 0; r < w; r++) { const s = d0[i * w + r]; for (let c2 = 0; c2 < cols; c2++) m[r * cols + c2] *= s; }
    for (let l = 1; l < depth; l++) {
      m = matmul64(wt[l], m, w, w, cols);
      const dl = derivs[l];
      for (let r = 0; r < w; r++) { const s = dl[i * w + r]; for (let c2 = 0; c2 < cols; c2++) m[r * cols + c2] *= s; }
    }
    res.push(m);
  }
  return res;
}

/**
 * Exact C = Σ_i M_i M_iᵀ without forming M_i (W×d): with P = W_0ᵀW_0 (one W×d×W product),
 * M_i M_iᵀ = D_L W_{L−1}ᵀ ⋯ D_1 P D_1 ⋯ W_{L−1} D_L: per input and hidden layer after the first, two
 * W×W×W products (instead of two W×W×d), so the cost does not grow with d.
 */
function jacobianGramExact(model: Model, data: Dataset): Float64Array {
  const { dim: d, width: w, depth } = model.spec;
  const p = (name: string) => model.params.find((q) => q.name === name)?.variable;
  const n = data.n;
  const derivs = hiddenDerivatives(model, data.inputs);
  const W0 = Float64Array.from(p('W0')!.dataSync()); // [d, W]
  const P = matmul64(transpose64(W0, d, w), W0, w, d, w);
  const Wl = Array.from({ length: depth }, (_, l) => (l === 0 ? null : Float64Array.from(p(`W${l}`)!.dataSync()))); // [W, W] in×out
  const WlT = Wl.map((x) => (x ? transpose64(x, w, w) : null));
  const C = new Float64Array(w * w);
  for (let i = 0; i < n; i++) {
    const d1 = derivs[0];
    let q: Float64Array = new Float64Array(w * w);
    for (let r = 0; r < w; r++) {
      const a = d1[i * w + r];
      if (a === 0) continue;
      for (let c2 = 0; c2 < w; c2++) q[r * w + c2] = a * P[r * w + c2] * d1[i * w + c2];
    }
    for (let l = 1; l < depth; l++) {
      q = matmul64(matmul64(WlT[l]!, q, w, w, w), Wl[l]!, w, w, w);
      const dl = derivs[l];
      for (let r = 0; r < w; r++) {
        const a = dl[i * w + r];
        for (let c2 = 0; c2 < w; c2++) q[r * w + c2] *= a * dl[i * w + c2];
      }
    }
    for (let t = 0; t < w * w; t++) C[t] += q[t];
  }
  return C;
}
