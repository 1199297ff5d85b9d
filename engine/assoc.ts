/**
 * The associative memory of docs/math.md §8 in tfjs (float32): fixed input embeddings e_x (rows of E, N×d)
 * and output embeddings u_y (rows of U, M×d); only W (d×d) is trained. Every quantity is a few
 * matmuls over all tokens at once:
 *
 *   S = E Wᵀ Uᵀ (N×M, S[x,y] = u_yᵀ W e_x),  L = Σ_x p(x)·(−log softmax(S)[x, f*(x)])
 *   ∇L = Uᵀ Gᵀ E with G = diag(w)·(softmax(S) − Y)   (w = p for the full batch, batch counts/B for SGD)
 *   H[V] = Σ_x p(x)·C_x V e_x e_xᵀ = Uᵀ Rᵀ E with Q = E Vᵀ Uᵀ, R = diag(p)·P∘(Q − rowsum(P∘Q))
 *
 * The Hessian is never formed: λ_max comes from Lanczos on the Hessian-vector product.
 */
import { EngramError } from '../errors.ts';
import { lanczosTop } from './lanczos.ts';
import { createOptimizer, type Optimizer, type OptimizerSpec } from './optimizers.ts';
import { Rng } from './random.ts';
import { tf } from './tf.ts';
import type { Trainer } from './trainer.ts';

export type EmbeddingSpec = { kind: 'orthonormal' } | { kind: 'correlated'; alpha: number } | { kind: 'sphere' };

export interface AssocSpec {
  n: number;
  m: number;
  d: number;
  embeddings: EmbeddingSpec;
  /** W₀ = 0, or i.i.d. N(0, 1/d) entries (randn/√d). */
  init: 'zero' | 'randn';
  seed: number;
}

/** Token frequencies p(x) (summing to 1) and targets f*(x) ∈ [M]. */
export interface AssocTask {
  p: Float64Array;
  targets: Int32Array;
}

export interface Embeddings {
  /** N×d row-major, row x = e_x (unit norm). */
  e: Float64Array;
  /** M×d row-major, row y = u_y (unit norm). */
  u: Float64Array;
}

export function parseEmbeddings(s: string): EmbeddingSpec {
  if (s === 'orthonormal' || s === 'sphere') return { kind: s };
  const c = /^correlated:([0-9.eE+-]+)$/.exec(s);
  if (c && Number(c[1]) >= 0 && Number(c[1]) < 1) return { kind: 'correlated', alpha: Number(c[1]) };
  throw new EngramError('E_BAD_ARGUMENT', `--embeddings must be orthonormal, correlated:ALPHA (0 ≤ ALPHA < 1) or sphere (got '${s}')`);
}

export function formatEmbeddings(e: EmbeddingSpec): string {
  return e.kind === 'correlated' ? `correlated:${e.alpha}` : e.kind;
}

/** `count` orthonormal rows of length d from a random rotation (Gram–Schmidt on Gaussian rows). */
function orthonormalRows(count: number, d: number, rng: Rng): Float64Array {
  const out = new Float64Array(count * d);
  for (let r = 0; r < count; r++) {
    for (let tries = 0; ; tries++) {
      const v = Float64Array.from({ length: d }, () => rng.normal());
      for (let pass = 0; pass < 2; pass++) {
        for (let q = 0; q < r; q++) {
          let c = 0;
          for (let i = 0; i < d; i++) c += v[i] * out[q * d + i];
          for (let i = 0; i < d; i++) v[i] -= c * out[q * d + i];
        }
      }
      const nv = Math.hypot(...v);
      if (nv > 1e-6 || tries > 10) {
        for (let i = 0; i < d; i++) out[r * d + i] = v[i] / nv;
        break;
      }
    }
  }
  return out;
}

function sphereRows(count: number, d: number, rng: Rng): Float64Array {
  const out = new Float64Array(count * d);
  for (let r = 0; r < count; r++) {
    const v = Array.from({ length: d }, () => rng.normal());
    const nv = Math.hypot(...v);
    for (let i = 0; i < d; i++) out[r * d + i] = v[i] / nv;
  }
  return out;
}

/**
 * Fixed embeddings, seeded. orthonormal: e and u are rows of two independent random rotations
 * (needs N ≤ d and M ≤ d). correlated:α: unit e_x with e_xᵀe_x' = α for every pair (two tokens:
 * e_2 = α e_1 + √(1−α²) b; more: e_x = √α b_0 + √(1−α) b_x, needs N+1 ≤ d), u orthonormal.
 * sphere: e and u uniform on the unit sphere (any N, M).
 */
/** Throws a usage error naming the fix when these embeddings cannot exist in R^d. */
export function validateEmbeddings(spec: Pick<AssocSpec, 'n' | 'm' | 'd' | 'embeddings'>): void {
  const { n, m, d, embeddings: emb } = spec;
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new EngramError('E_BAD_ARGUMENT', `--embeddings ${formatEmbeddings(emb)} needs ${what} (got N=${n}, M=${m}, d=${d}); raise --d or use --embeddings sphere`);
  };
  if (emb.kind === 'sphere') return;
  need(m <= d, 'M ≤ d for orthonormal outputs');
  if (emb.kind === 'orthonormal') need(n <= d, 'N ≤ d');
  else if (n <= 2) need(d >= 2, 'd ≥ 2');
  else need(n + 1 <= d, 'N + 1 ≤ d');
}

export function makeEmbeddings(spec: Pick<AssocSpec, 'n' | 'm' | 'd' | 'embeddings' | 'seed'>): Embeddings {
  validateEmbeddings(spec);
  const { n, m, d, embeddings: emb } = spec;
  const rng = new Rng(spec.seed * 7919 + 17);
  if (emb.kind === 'sphere') return { e: sphereRows(n, d, rng), u: sphereRows(m, d, rng) };
  if (emb.kind === 'orthonormal') {
    return { e: orthonormalRows(n, d, rng), u: orthonormalRows(m, d, rng) };
  }
  const a = emb.alpha;
  const e = new Float64Array(n * d);
  if (n <= 2) {
    const b = orthonormalRows(2, d, rng);
    for (let i = 0; i < d; i++) {
      e[i] = b[i];
      if (n === 2) e[d + i] = a * b[i] + Math.sqrt(1 - a * a) * b[d + i];
    }
  } else {
    const b = orthonormalRows(n + 1, d, rng);
    for (let x = 0; x < n; x++) for (let i = 0; i < d; i++) e[x * d + i] = Math.sqrt(a) * b[i] + Math.sqrt(1 - a) * b[(x + 1) * d + i];
  }
  return { e, u: orthonormalRows(m, d, rng) };
}

export interface AssocObservation {
  /** L at the current W (frequency-weighted cross-entropy). */
  loss: number;
  /** N×M scores at the current W (when asked for). */
  scores: Float32Array | null;
}

export interface AssocModel {
  readonly spec: AssocSpec;
  readonly task: AssocTask;
  readonly embeddings: Embeddings;
  /** L (and S when `scores`) at the current W; keeps softmax(S) − Y for the next `update`. */
  observe(o?: { scores?: boolean }): AssocObservation;
  /** The gradient of Σ_x w(x)·ℓ_x (w = p by default) at the current W, d×d; the caller disposes it. */
  gradient(weights?: Float64Array): tf.Tensor2D;
  /** One optimizer step on Σ_x w(x)·ℓ_x (w = p: full batch). Returns ‖∇‖_F. */
  update(opt: Optimizer, weights?: Float64Array): number;
  /** ‖∇L‖ at the current W (full batch, or the given weights), without an update. */
  gradientNorm(weights?: Float64Array): number;
  /** H[V] at the current W for V (d×d row-major, float64 in and out). */
  hvp(v: Float64Array): Float64Array;
  /** Top Hessian eigenvalue by Lanczos on `hvp` (k products). */
  lambdaMax(k?: number): number;
  readonly variable: tf.Variable;
  weights(): Float32Array;
  setWeights(w: Float32Array | Float64Array): void;
  dispose(): void;
}

export function createAssocModel(spec: AssocSpec, task: AssocTask, given?: Embeddings): AssocModel {
  const { n, m, d } = spec;
  if (task.p.length !== n || task.targets.length !== n) throw new Error(`assoc: p and targets must have N=${n} entries`);
  const emb = given ?? makeEmbeddings(spec);
  const E = tf.tensor2d(Float32Array.from(emb.e), [n, d]);
  const U = tf.tensor2d(Float32Array.from(emb.u), [m, d]);
  const P = tf.tensor1d(Float32Array.from(task.p));
  const Y = tf.tidy(() => tf.oneHot(tf.tensor1d(task.targets, 'int32'), m).toFloat());
  const rng = new Rng(spec.seed);
  const w0 = spec.init === 'zero' ? new Float32Array(d * d) : rng.normalArray(d * d, 0, 1 / Math.sqrt(d));
  const W = tf.variable(tf.tensor2d(w0, [d, d]), true, 'W');
  /** softmax(S) − Y at the W of the last observe, until the next update. */
  let residual: tf.Tensor2D | null = null;
  const clearResidual = () => {
    residual?.dispose();
    residual = null;
  };
  const scoresT = (): tf.Tensor2D => tf.matMul(tf.matMul(E, W, false, true), U, false, true);
  const weightsT = (w?: Float64Array): tf.Tensor1D => (w ? tf.tensor1d(Float32Array.from(w)) : P);
  const gradFrom = (res: tf.Tensor2D, w?: Float64Array): tf.Tensor2D =>
    tf.tidy(() => {
      const g = tf.mul(res, tf.reshape(weightsT(w), [n, 1])) as tf.Tensor2D;
      return tf.matMul(U, tf.matMul(g, E, true, false), true, false);
    });

  const model: AssocModel = {
    spec, task, embeddings: emb, variable: W,
    observe(o = {}) {
      clearResidual();
      const [lossT, sT, res] = tf.tidy(() => {
        const s = scoresT();
        const logp = tf.logSoftmax(s);
        const l = tf.neg(tf.sum(tf.mul(tf.sum(tf.mul(logp, Y), 1), P)));
        return [l, s, tf.sub(tf.exp(logp), Y) as tf.Tensor2D];
      });
      residual = res;
      const loss = lossT.dataSync()[0];
      const scores = o.scores ? (sT.dataSync() as Float32Array).slice() : null;
      tf.dispose([lossT, sT]);
      return { loss, scores };
    },
    gradient(w) {
      if (!residual) model.observe();
      return gradFrom(residual!, w);
    },
    gradientNorm(w) {
      const g = model.gradient(w);
      const norm = tf.tidy(() => tf.norm(g).dataSync()[0]);
      g.dispose();
      return norm;
    },
    update(opt, w) {
      const g = model.gradient(w);
      const norm = tf.tidy(() => tf.norm(g).dataSync()[0]);
      opt.apply([g]);
      g.dispose();
      clearResidual();
      return norm;
    },
    hvp(v) {
      const out = tf.tidy(() => {
        const V = tf.tensor2d(Float32Array.from(v), [d, d]);
        const prob = tf.softmax(scoresT());
        const q = tf.matMul(tf.matMul(E, V, false, true), U, false, true);
        const pq = tf.mul(prob, q);
        const r = tf.mul(tf.sub(pq, tf.mul(prob, tf.sum(pq, 1, true))), tf.reshape(P, [n, 1])) as tf.Tensor2D;
        return tf.matMul(U, tf.matMul(r, E, true, false), true, false);
      });
      const res = Float64Array.from(out.dataSync());
      out.dispose();
      return res;
    },
    lambdaMax(k = 30) {
      return lanczosTop((v) => model.hvp(v), d * d, k, spec.seed);
    },
    weights() {
      return (W.dataSync() as Float32Array).slice();
    },
    setWeights(w) {
      clearResidual();
      tf.tidy(() => W.assign(tf.tensor2d(Float32Array.from(w), [d, d])));
    },
    dispose() {
      clearResidual();
      tf.dispose([E, U, P, Y, W]);
    },
  };
  return model;
}

export const ASSOC_OPTIMIZERS = ['gd', 'sgd', 'adam'] as const;
export type AssocOptimizerName = (typeof ASSOC_OPTIMIZERS)[number];

/** gd and sgd are plain gradient steps (sgd on sampled batches); adam is engine/optimizers' Adam. */
export function createAssocOptimizer(model: AssocModel, name: AssocOptimizerName, lr: number): Optimizer {
  const spec: OptimizerSpec = { name: name === 'adam' ? 'adam' : 'gd', lr };
  return createOptimizer(spec, [{ name: 'W', variable: model.variable }]);
}

export interface AssocTrainerOptions {
  optimizer: AssocOptimizerName;
  lr: number;
  /**
   * Updates to take: the step after the last update observes the final W without updating it
   * (its loss and gradient norm are still reported), so a run of U updates has U + 1 steps.
   */
  updates: number;
  /** SGD batches: the per-token weights count(x)/B of each step's batch, drawn from `rng`. */
  batch?: { size: number; weights: () => Float64Array; rng?: Rng };
}

/**
 * The associative memory as a Trainer. `observe` gives L and the scores S at the current W (the
 * margins monitor's snapshot); `step` updates W from that observation's softmax(S) − Y (it observes
 * first when nobody did). Step t therefore starts from W_t, the state after t updates. A step whose
 * loss is non-finite, or the one after the last update, measures the gradient norm and takes no
 * update.
 */
export function createAssocTrainer(model: AssocModel, o: AssocTrainerOptions): Trainer<AssocTask, AssocObservation> {
  const opt = createAssocOptimizer(model, o.optimizer, o.lr);
  let steps = 0;
  let observed: AssocObservation | null = null;
  return {
    observe() {
      observed = model.observe({ scores: true });
      return observed;
    },
    step() {
      const obs = observed ?? model.observe();
      observed = null;
      const last = steps >= o.updates || !Number.isFinite(obs.loss);
      const gradNorm = last ? model.gradientNorm() : model.update(opt, o.batch?.weights());
      steps++;
      return { loss: obs.loss, gradNorm, lr: opt.spec.lr, batchSize: o.batch?.size ?? model.spec.n };
    },
    state: () => ({ step: steps, optimizer: opt.state(), rng: o.batch?.rng?.getState() ?? [] }),
    restore(st) {
      opt.setState(st.optimizer);
      if (o.batch?.rng) o.batch.rng.setState(st.rng);
      steps = st.step;
      observed = null;
    },
    setLr: (lr) => opt.setLr(lr),
    weightsFinite: () => model.weights().every(Number.isFinite),
    dispose: () => opt.dispose(),
  };
}
