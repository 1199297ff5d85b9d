/**
 * Jacobians of the FC network (SPEC §5) in the factored form J_f(x) = A·M(x): A = W_Lᵀ (d×W) is
 * the output layer, M(x) = D_{L−1}W_{L−1}ᵀ⋯D_1W_1ᵀ (W×d) the rest, D_l = diag φ'(pre-activation).
 * The non-zero spectrum of J (d×d) equals that of the W×W matrix M·A, and around a cycle
 * x_1…x_n that of (M_n A)⋯(M_1 A) — so certifying a memory costs W×W, whatever d is.
 */
import { tf } from './tf.ts';
import { activation } from './activations.ts';
import type { Model } from './model.ts';
import { loadBlasAddon } from './native-blas.ts';

export interface JacobianFactors {
  /** d×W, row-major. */
  a: Float64Array;
  /** W×d, row-major. */
  m: Float64Array;
  d: number;
  w: number;
}

/** A and M(x) for one point. */
export function fcJacobianFactors(model: Model, x: Float32Array): JacobianFactors {
  const { dim: d, width: w, depth } = model.spec;
  const act = activation(model.spec.activation);
  const layer = (i: number) => ({
    W: model.params.find((p) => p.name === `W${i}`)!.variable as tf.Tensor2D,
    b: model.params.find((p) => p.name === `b${i}`)?.variable,
  });
  const [a, m] = tf.tidy(() => {
    // φ'(z) elementwise, by autodiff of Σφ(z): works for every activation in the SPEC list
    const dphi = tf.grad((z: tf.Tensor) => tf.sum(act.apply(z)));
    let h: tf.Tensor2D = tf.tensor2d(x, [1, d]);
    let mm: tf.Tensor2D | null = null; // current W_l×d block product
    for (let l = 0; l < depth; l++) {
      const { W, b } = layer(l);
      let pre = tf.matMul(h, W) as tf.Tensor2D;
      if (b) pre = tf.add(pre, b) as tf.Tensor2D;
      const dl = tf.reshape(dphi(pre), [w, 1]);
      const wt = tf.transpose(W) as tf.Tensor2D; // W_lᵀ: out×in
      mm = tf.mul(dl, mm ? tf.matMul(wt, mm) : wt) as tf.Tensor2D;
      h = act.apply(pre) as tf.Tensor2D;
    }
    return [tf.transpose(layer(depth).W), mm!];
  });
  const out = { a: Float64Array.from(a.dataSync()), m: Float64Array.from(m.dataSync()), d, w };
  tf.dispose([a, m]);
  return out;
}

/** Row-major (r×k)·(k×c) in float64: OpenBLAS dgemm when the addon is built, else a plain loop. */
export function matmul64(x: Float64Array, y: Float64Array, r: number, k: number, c: number): Float64Array {
  const blas = loadBlasAddon();
  if (blas) return blas.dgemm(x, y, r, k, c);
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let p = 0; p < k; p++) {
      const xv = x[i * k + p];
      if (xv === 0) continue;
      const yo = p * c, oo = i * c;
      for (let j = 0; j < c; j++) out[oo + j] += xv * y[yo + j];
    }
  }
  return out;
}

/** The full d×d Jacobian A·M. */
export function fullJacobian(f: JacobianFactors): Float64Array {
  return matmul64(f.a, f.m, f.d, f.w, f.d);
}

/** The W×W matrix M·A whose spectrum is J's non-zero spectrum. */
export function reducedJacobian(f: JacobianFactors): Float64Array {
  return matmul64(f.m, f.a, f.w, f.d, f.w);
}

/** (M_n A)⋯(M_1 A) for the cycle points in order (W×W): J_{f^n}'s non-zero spectrum. */
export function reducedCycleProduct(factors: JacobianFactors[]): Float64Array {
  const w = factors[0].w;
  let p: Float64Array | null = null;
  for (const f of factors) {
    const r = reducedJacobian(f);
    p = p ? matmul64(r, p, w, w, w) : r;
  }
  return p!;
}
