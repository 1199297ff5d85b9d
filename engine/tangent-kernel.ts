/**
 * The tangent kernel K = J_θ J_θᵀ of an FC model on a set of inputs (docs/math.md §7), matrix-free.
 * J_θ is the (n·d)×P Jacobian of all outputs f(x_i) ∈ R^d with respect to all P parameters, so K is
 * (n·d)×(n·d), symmetric positive semi-definite, and never formed:
 *
 *   K·v = J_θ(J_θᵀ v):  J_θᵀ v is one backward pass (the VJP of the outputs with cotangent v), and
 *   J_θ w is a JVP. tfjs has reverse mode only, so the JVP is either
 *   - 'forward' (default): the tangent pushed through the layers by hand, exact:
 *       z = hW + b, ż = ḣW + hẆ + ḃ, h = φ(z), ḣ = φ'(z)⊙ż  (φ' by autodiff, as in jacobian.ts);
 *     it agrees with a dense K to float32 rounding (~1e-6 relative);
 *   - 'fd': a central difference in parameter space, (f(θ + εw) − f(θ − εw))/(2ε) with ε‖w‖ =
 *     1e-3·max(‖θ‖, 1): any model, but float32 rounding and ReLU kinks cost it ~1e-4…1e-3.
 * λ_max(K) comes from Lanczos with full re-orthogonalization (float64 vectors of length n·d), which
 * converges in far fewer products than power iteration when the top of the spectrum is crowded.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { tf } from './tf.ts';
import { activation } from './activations.ts';
import type { Model } from './model.ts';
import { Rng } from './random.ts';

export type JvpMethod = 'forward' | 'fd';

/** The a of L = (a/2)·Σ‖f − y‖² for the trainer's loss, tfjs mean MSE over n·d elements: a = 2/(n·d). */
export function meanMseNormalization(n: number, d: number): number {
  return 2 / (n * d);
}

interface Layer {
  W: tf.Variable;
  b?: tf.Variable;
}

function layersOf(model: Model): Layer[] {
  const layers: Layer[] = [];
  for (let i = 0; i <= model.spec.depth; i++) {
    const W = model.params.find((p) => p.name === `W${i}`)?.variable;
    if (!W) throw new Error(`tangent kernel: the model has no parameter W${i}; it needs an FC model`);
    layers.push({ W, b: model.params.find((p) => p.name === `b${i}`)?.variable });
  }
  return layers;
}

/** J_θᵀ v for v shaped like f(X) ([n, d]): one backward pass; gradients in `model.params` order. */
export function vjp(model: Model, X: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor[] {
  const vars = model.params.map((p) => p.variable);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.forward(X), v)) as tf.Scalar, vars);
  value.dispose();
  return model.params.map((p) => grads[p.variable.name]);
}

/** J_θ w for a tangent w in `model.params` order, shaped like f(X) ([n, d]). */
export function jvp(model: Model, X: tf.Tensor2D, w: tf.Tensor[], method: JvpMethod = 'forward'): tf.Tensor2D {
  return method === 'forward' ? jvpForward(model, X, w) : jvpFiniteDifference(model, X, w);
}

function jvpForward(model: Model, X: tf.Tensor2D, w: tf.Tensor[]): tf.Tensor2D {
  const act = activation(model.spec.activation);
  const tangent = new Map(model.params.map((p, i) => [p.variable.name, w[i]]));
  return tf.tidy(() => {
    const dphi = tf.grad((z: tf.Tensor) => tf.sum(act.apply(z)));
    const layers = layersOf(model);
    let h: tf.Tensor2D = X;
    let dh: tf.Tensor2D | null = null; // the input does not move with θ
    layers.forEach(({ W, b }, l) => {
      let z = tf.matMul(h, W) as tf.Tensor2D;
      let dz = tf.matMul(h, tangent.get(W.name)! as tf.Tensor2D) as tf.Tensor2D;
      if (dh) dz = tf.add(dz, tf.matMul(dh, W));
      if (b) {
        z = tf.add(z, b);
        dz = tf.add(dz, tangent.get(b.name)!);
      }
      if (l + 1 < layers.length) {
        dh = tf.mul(dphi(z), dz) as tf.Tensor2D;
        h = act.apply(z) as tf.Tensor2D;
      } else {
        h = dz;
      }
    });
    return h;
  });
}

function jvpFiniteDifference(model: Model, X: tf.Tensor2D, w: tf.Tensor[]): tf.Tensor2D {
  const vars = model.params.map((p) => p.variable);
  const saved = vars.map((v) => tf.clone(v)); // shares the buffer: the exact θ to put back
  try {
    const [thetaNorm, wNorm] = tf.tidy(() => [
      Math.sqrt(tf.addN(vars.map((v) => tf.sum(tf.square(v)))).dataSync()[0]),
      Math.sqrt(tf.addN(w.map((t) => tf.sum(tf.square(t)))).dataSync()[0]),
    ]);
    if (wNorm === 0) return tf.zeros([X.shape[0], model.spec.dim]);
    const eps = (1e-3 * Math.max(thetaNorm, 1)) / wNorm;
    const at = (s: number) => {
      tf.tidy(() => vars.forEach((v, i) => v.assign(tf.add(saved[i], tf.mul(w[i], s)))));
      return model.forward(X);
    };
    const plus = at(eps), minus = at(-eps);
    const out = tf.tidy(() => tf.div(tf.sub(plus, minus), 2 * eps) as tf.Tensor2D);
    tf.dispose([plus, minus]);
    return out;
  } finally {
    vars.forEach((v, i) => v.assign(saved[i]));
    tf.dispose(saved);
  }
}

/** K·v = J_θ(J_θᵀ v) for v packed [n·d] (float64 in and out; the products run in float32). */
export function kernelTimes(model: Model, X: tf.Tensor2D, v: Float64Array, method: JvpMethod = 'forward'): Float64Array {
  const [n, d] = [X.shape[0], model.spec.dim];
  const vt = tf.tensor2d(Float32Array.from(v), [n, d]);
  const g = vjp(model, X, vt);
  const kv = jvp(model, X, g, method);
  const out = Float64Array.from(kv.dataSync());
  tf.dispose([vt, kv, ...g]);
  return out;
}

export interface LambdaMaxResult {
  lambdaMax: number;
  /** Lanczos steps taken (= K·v products). */
  iterations: number;
  /** Whether the Ritz residual reached tol·λ (else the iteration cap stopped it). */
  converged: boolean;
  jvp: JvpMethod;
  ms: number;
}

export interface LambdaMaxOptions {
  /** Lanczos steps at most (default 30). */
  maxIterations?: number;
  /** Stop when the Ritz residual ‖Ky − θy‖ ≤ tol·θ (default 1e-3; the eigenvalue error is ~ its square). */
  tol?: number;
  jvp?: JvpMethod;
  /** Seed of the random start vector (default 1). */
  seed?: number;
}

/** λ_max(K) of the tangent kernel on the inputs X (packed [n, d]) by Lanczos. */
export function tangentKernelLambdaMax(model: Model, inputs: Float32Array, opts: LambdaMaxOptions = {}): LambdaMaxResult {
  const t0 = performance.now();
  const d = model.spec.dim, n = inputs.length / d;
  const method = opts.jvp ?? 'forward';
  const X = tf.tensor2d(inputs, [n, d]);
  try {
    const r = lanczosMax((v) => kernelTimes(model, X, v, method), n * d, opts);
    return { ...r, jvp: method, ms: performance.now() - t0 };
  } finally {
    X.dispose();
  }
}

/**
 * Largest eigenvalue of a symmetric PSD operator of size N given by `times`, by Lanczos with full
 * re-orthogonalization; stops on a small Ritz residual, on breakdown (an invariant subspace: exact)
 * or after maxIterations.
 */
export function lanczosMax(
  times: (v: Float64Array) => Float64Array, N: number, opts: LambdaMaxOptions = {},
): { lambdaMax: number; iterations: number; converged: boolean } {
  const maxIt = Math.min(opts.maxIterations ?? 30, N), tol = opts.tol ?? 1e-3;
  const rng = new Rng(opts.seed ?? 1);
  const Q: Float64Array[] = [];
  const alpha: number[] = [], beta: number[] = [];
  let q: Float64Array = Float64Array.from({ length: N }, () => rng.normal());
  scale(q, 1 / norm(q));
  let theta = 0;
  for (let k = 0; k < maxIt; k++) {
    Q.push(q);
    const w = times(q);
    if (!w.every(Number.isFinite)) return { lambdaMax: Number.NaN, iterations: k + 1, converged: false };
    const a = dot(w, q);
    alpha.push(a);
    // full re-orthogonalization (twice is enough): keeps the Ritz values free of ghost copies
    for (let pass = 0; pass < 2; pass++) for (const qi of Q) axpy(w, -dot(w, qi), qi);
    const b = norm(w);
    const { value, lastComponent } = topRitz(alpha, beta);
    theta = value;
    const residual = b * Math.abs(lastComponent);
    if (b <= 1e-12 * Math.max(Math.abs(theta), 1e-300) || residual <= tol * Math.abs(theta)) {
      return { lambdaMax: theta, iterations: k + 1, converged: true };
    }
    beta.push(b);
    scale(w, 1 / b);
    q = w;
  }
  return { lambdaMax: theta, iterations: maxIt, converged: false };
}

/** Top eigenvalue of the tridiagonal (alpha on the diagonal, beta off it) and its eigenvector's last entry. */
function topRitz(alpha: number[], beta: number[]): { value: number; lastComponent: number } {
  const k = alpha.length;
  if (k === 1) return { value: alpha[0], lastComponent: 1 };
  const T = Matrix.zeros(k, k);
  for (let i = 0; i < k; i++) {
    T.set(i, i, alpha[i]);
    if (i + 1 < k) {
      T.set(i, i + 1, beta[i]);
      T.set(i + 1, i, beta[i]);
    }
  }
  const e = new EigenvalueDecomposition(T, { assumeSymmetric: true });
  const vals = e.realEigenvalues;
  let best = 0;
  for (let i = 1; i < k; i++) if (vals[i] > vals[best]) best = i;
  return { value: vals[best], lastComponent: e.eigenvectorMatrix.get(k - 1, best) };
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}
function norm(x: Float64Array): number {
  return Math.sqrt(dot(x, x));
}
function scale(x: Float64Array, s: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= s;
}
function axpy(y: Float64Array, a: number, x: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += a * x[i];
}
