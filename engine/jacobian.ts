/**
 * Jacobians of the FC network (docs/math.md §5) in the factored form J_f(x) = A·M(x): A = W_Lᵀ (d×W) is
 * the output layer, M(x) = D_{L−1}W_{L−1}ᵀ⋯D_1W_1ᵀ (W×d) the rest, D_l = diag φ'(pre-activation).
 * The non-zero spectrum of J (d×d) equals that of the W×W matrix M·A, and around a cycle
 * x_1…x_n that of (M_n A)⋯(M_1 A) — so certifying a memory costs W×W, whatever d is.
 */
import { tf } from './tf.ts';
import { activation } from './activations.ts';
import type { Model } from './model.ts';
import { loadBlasAddon } from './native-blas.ts';
import type { LinearOperators } from './arnoldi.ts';

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
    // φ'(z) elementwise, by autodiff of Σφ(z): works for every activation in docs/math.md §2.1
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

/**
 * The reduced maps R(x) = M(x)·A (W×W) of FC nets as matrix-free operators for Arnoldi: problem i is
 * the product R(x_n)⋯R(x_1) around cycles[i] (one point: a fixed point), whose eigenvalues are the
 * non-zero spectrum of J_f(x_n)⋯J_f(x_1). R(x) is never formed: with C = W_L·W_0 (W×W, once),
 * vᵀ ↦ ((vᵀC)∘φ'_0 · W_1 ∘ φ'_1 ⋯) costs D W×W products per point — no d in the loop at all.
 */
export function fcReducedOperators(model: Model, cycles: Float32Array[][]): LinearOperators {
  const { dim: d, width: w, depth } = model.spec;
  const act = activation(model.spec.activation);
  const weight = (i: number) => model.params.find((p) => p.name === `W${i}`)!.variable as tf.Tensor2D;
  const bias = (i: number) => model.params.find((p) => p.name === `b${i}`)?.variable;
  const points = cycles.flat();
  const offsets: number[] = [];
  cycles.reduce((at, c) => (offsets.push(at), at + c.length), 0);
  const packed = new Float32Array(points.length * d);
  points.forEach((x, i) => packed.set(x, i * d));
  const tensors = tf.tidy(() => {
    const dphi = tf.grad((z: tf.Tensor) => tf.sum(act.apply(z)));
    let h: tf.Tensor2D = tf.tensor2d(packed, [points.length, d]);
    const ds: tf.Tensor[] = [];
    for (let l = 0; l < depth; l++) {
      let pre = tf.matMul(h, weight(l)) as tf.Tensor2D;
      const b = bias(l);
      if (b) pre = tf.add(pre, b) as tf.Tensor2D;
      ds.push(dphi(pre));
      h = act.apply(pre) as tf.Tensor2D;
    }
    const inner = Array.from({ length: depth - 1 }, (_, l) => tf.clone(weight(l + 1)));
    return { ds, last: tf.clone(weight(depth)), first: tf.clone(weight(0)), inner };
  });
  const f64 = (t: tf.Tensor) => Float64Array.from(t.dataSync());
  const ds = tensors.ds.map(f64), inner = tensors.inner.map(f64);
  // in float64: C enters every factor of a cycle product, its float32 rounding would compound
  const c = matmul64(f64(tensors.last), f64(tensors.first), w, d, w);
  tf.dispose([...tensors.ds, tensors.last, tensors.first, ...tensors.inner]);
  return {
    d: w,
    count: cycles.length,
    apply(which, v) {
      const cur = Float64Array.from(v);
      const longest = Math.max(...which.map((i) => cycles[i].length));
      for (let q = 0; q < longest; q++) {
        const rows = which.flatMap((i, r) => (q < cycles[i].length ? [r] : []));
        let x = new Float64Array(rows.length * w);
        rows.forEach((r, b) => x.set(cur.subarray(r * w, (r + 1) * w), b * w));
        for (let l = 0; l < depth; l++) {
          x = matmul64(x, l === 0 ? c : inner[l - 1], rows.length, w, w) as Float64Array<ArrayBuffer>;
          rows.forEach((r, b) => {
            const dl = ds[l], at = (offsets[which[r]] + q) * w;
            for (let j = 0; j < w; j++) x[b * w + j] *= dl[at + j];
          });
        }
        rows.forEach((r, b) => cur.set(x.subarray(b * w, (b + 1) * w), r * w));
      }
      return cur;
    },
  };
}
