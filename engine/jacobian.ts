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

/** φ′(z_l) of every hidden layer at n points packed [n, d], per layer [n, W] (float32). */
export function hiddenDerivatives(model: Model, inputs: Float32Array): Float32Array[] {
  const { dim: d, depth } = model.spec;
  const act = activation(model.spec.activation);
  const p = (name: string) => model.params.find((q) => q.name === name)?.variable;
  const dphi = tf.grad((z: tf.Tensor) => tf.sum(act.apply(z)));
  return tf.tidy(() => {
    let h: tf.Tensor2D = tf.tensor2d(inputs, [inputs.length / d, d]);
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

/**
 * Low-rank first layer: when E = W_0ᵀ (W×d) has rank r well below W (a first layer sampled from n
 * training points has r ≤ n), E = L Vᵀ with L (W×r) from a pivoted Cholesky of E Eᵀ, and
 * M(x) = N(x) Vᵀ with N(x) = D_D W_{D−1}ᵀ ⋯ D_1 L (W×r). Around a cycle the product
 * A N_n Vᵀ ⋯ A N_1 Vᵀ has the non-zero spectrum of (S N_n)(S N_{n−1}) ⋯ (S N_1), r×r, with
 * S = Vᵀ A = (LᵀL)⁻¹ Lᵀ (E A): the certificate costs r×W work per point instead of W×W.
 * Null when the rank is above `maxRank` (default W/2: no gain).
 */
export function lowRankCycleProduct(model: Model, points: Float32Array[], maxRank = Math.floor(model.spec.width / 2)): { matrix: Float64Array; r: number } | null {
  const { dim: d, width: w, depth } = model.spec;
  const W0 = Float64Array.from(model.params.find((p) => p.name === 'W0')!.variable.dataSync()); // [d, W]
  const W0T = transpose64(W0, d, w);
  const L = pivotedCholesky(matmul64(W0T, W0, w, d, w), w, maxRank);
  if (!L) return null;
  const r = L.length / w;
  const WL = Float64Array.from(model.params.find((p) => p.name === `W${depth}`)!.variable.dataSync()); // [W, d]: A = W_Lᵀ
  const EA = matmul64(W0T, transpose64(WL, w, d), w, d, w); // W_0ᵀ W_Lᵀ
  const LT = transpose64(L, w, r);
  const gram = matmul64(LT, L, r, w, r);
  const S = spdSolve(gram, r, matmul64(LT, EA, r, w, w), w); // r×W
  if (!S) return null;
  const inner = Array.from({ length: depth }, (_, l) => (l === 0 ? null : transpose64(Float64Array.from(model.params.find((p) => p.name === `W${l}`)!.variable.dataSync()), w, w)));
  const packed = new Float32Array(points.length * d);
  points.forEach((x, i) => packed.set(x, i * d));
  const derivs = hiddenDerivatives(model, packed);
  let prod: Float64Array | null = null;
  points.forEach((_, i) => {
    let N: Float64Array = L.slice();
    scaleRows(N, w, r, derivs[0].subarray(i * w, (i + 1) * w));
    for (let l = 1; l < depth; l++) {
      N = matmul64(inner[l]!, N, w, w, r);
      scaleRows(N, w, r, derivs[l].subarray(i * w, (i + 1) * w));
    }
    const T = matmul64(S, N, r, w, r);
    prod = prod ? matmul64(T, prod, r, r, r) : T;
  });
  return { matrix: prod!, r };
}

function scaleRows(m: Float64Array, rows: number, cols: number, s: Float32Array): void {
  for (let i = 0; i < rows; i++) {
    const v = s[i];
    for (let j = 0; j < cols; j++) m[i * cols + j] *= v;
  }
}

/**
 * P ≈ L Lᵀ (P W×W symmetric positive semi-definite) by Cholesky with diagonal pivoting, stopping when
 * the largest remaining diagonal is below 1e-13 of the largest initial one (float32 weights are exact
 * to ~1e-7, so what is left is rounding): L is W×r in the original row order. Null past maxRank.
 */
function pivotedCholesky(P: Float64Array, w: number, maxRank: number): Float64Array | null {
  const diag = Float64Array.from({ length: w }, (_, i) => P[i * w + i]);
  const tol = 1e-13 * Math.max(...diag);
  const cols: Float64Array[] = [];
  for (;;) {
    let k = 0;
    for (let i = 1; i < w; i++) if (diag[i] > diag[k]) k = i;
    if (!(diag[k] > tol)) break;
    if (cols.length >= maxRank) return null;
    const piv = Math.sqrt(diag[k]);
    const col = new Float64Array(w);
    for (let i = 0; i < w; i++) {
      let s = P[i * w + k];
      for (const c of cols) s -= c[i] * c[k];
      col[i] = s / piv;
    }
    for (let i = 0; i < w; i++) diag[i] -= col[i] * col[i];
    diag[k] = 0;
    cols.push(col);
  }
  if (cols.length === 0) return null;
  const r = cols.length, L = new Float64Array(w * r);
  cols.forEach((c, j) => { for (let i = 0; i < w; i++) L[i * r + j] = c[i]; });
  return L;
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
