/**
 * Matrix-free top-k eigenvalues (docs/math.md §5) by Arnoldi on vector–Jacobian products. tfjs has reverse
 * mode only, so what we can apply cheaply is Jᵀ: uᵀJ for a cotangent u. J and Jᵀ share eigenvalues,
 * and around a cycle (J_n⋯J_1)ᵀ = J_1ᵀ⋯J_nᵀ is n VJPs, the last point's first. No d×d matrix is ever
 * formed: the Krylov basis is m×d (m ≪ d) and the small m×m Hessenberg matrix goes to `eigenvalues()`
 * (LAPACK through the addon). Unlike power iteration, the Ritz values of the Hessenberg matrix find a
 * complex dominant pair as easily as a real eigenvalue.
 *
 * Several independent problems (e.g. the fixed points of several examples) run in lockstep so that
 * each Arnoldi step is ONE batched VJP: a row-wise model sends row i's cotangent back through row i.
 *
 * Convergence: the basis grows from m0 (≥ 2k + 10, "m ≫ k"), and every `checkEvery` steps the top-k
 * Ritz values are compared with those of the previous check; a problem stops when each of its top-k
 * Ritz values is within `tol`·ρ (default 1e-5; VJPs are float32, whose noise is ~1e-7) of one from
 * the previous check. It also stops, exactly, when the basis spans an invariant subspace (the new
 * vector's norm falls below 1e-10·‖H‖) or reaches d, and unconverged at `mMax` (then `converged` is
 * false and the values are the best Ritz estimates).
 */
import { tf } from './tf.ts';
import { eigenvalues, topByModulus, type Spectrum } from './eigen.ts';
import { matmul64 } from './jacobian.ts';
import type { Model } from './model.ts';
import { Rng } from './random.ts';

/**
 * A batch of linear maps on R^d: row i of `apply(which, v)` is Op_{which[i]} applied to row i of v.
 * Any map with the operator's eigenvalues will do: for Jacobians it is Jᵀ (a VJP).
 */
export interface LinearOperators {
  d: number;
  count: number;
  apply(which: number[], v: Float32Array | Float64Array): Float32Array | Float64Array;
}

export interface ArnoldiOptions {
  /** Eigenvalues wanted, by modulus (default 5). */
  k?: number;
  /** First convergence check at this Krylov dimension (default max(2k + 10, 20), at most d). */
  m0?: number;
  /** Largest Krylov dimension (default min(d, max(150, 4·m0))). */
  mMax?: number;
  /** Relative tolerance on the top-k Ritz values between checks (default 1e-5). */
  tol?: number;
  /** Steps between convergence checks (default 5). */
  checkEvery?: number;
  /** Seed of the random start vectors (default 1). */
  seed?: number;
}

export interface ArnoldiResult {
  rho: number;
  top: { re: number; im: number; abs: number }[];
  /** Whether the top-k Ritz values met the tolerance (or the subspace became invariant). */
  converged: boolean;
  /** Final Krylov dimension m. */
  krylovDim: number;
  /** Batched VJP passes (Arnoldi steps) taken. */
  steps: number;
  solver: Spectrum['solver'];
}

interface Problem {
  v: Float64Array; // (mMax+1)×d basis, row-major
  h: Float64Array; // (mMax+1)×mMax Hessenberg, row-major
  size: number; // basis vectors so far
  hNorm: number;
  last: { re: number; im: number; abs: number }[] | null;
  result: ArnoldiResult | null;
}

export const ARNOLDI_TOL = 1e-5;

/** Top-k eigenvalues of each of `op.count` operators. */
export function arnoldiTopK(op: LinearOperators, opts: ArnoldiOptions = {}): ArnoldiResult[] {
  const d = op.d, k = Math.min(opts.k ?? 5, d);
  const m0 = Math.min(d, opts.m0 ?? Math.max(2 * k + 10, 20));
  const mMax = Math.max(m0, Math.min(d, opts.mMax ?? Math.max(150, 4 * m0)));
  const tol = opts.tol ?? ARNOLDI_TOL, every = opts.checkEvery ?? 5;
  const rng = new Rng(opts.seed ?? 1);
  const problems: Problem[] = Array.from({ length: op.count }, () => {
    const v = new Float64Array((mMax + 1) * d);
    const start = rng.normalArray(d, 0, 1);
    let norm = 0;
    for (let i = 0; i < d; i++) norm += start[i] * start[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < d; i++) v[i] = start[i] / norm;
    return { v, h: new Float64Array((mMax + 1) * mMax), size: 1, hNorm: 0, last: null, result: null };
  });
  let steps = 0;
  for (;;) {
    const active = problems.flatMap((p, i) => (p.result ? [] : [i]));
    if (!active.length) break;
    const vin = new Float64Array(active.length * d);
    active.forEach((i, r) => {
      const p = problems[i];
      vin.set(p.v.subarray((p.size - 1) * d, p.size * d), r * d);
    });
    const wout = op.apply(active, vin);
    steps++;
    active.forEach((i, r) => {
      const p = problems[i];
      const j = p.size - 1; // column of H being filled
      const w = Float64Array.from(wout.subarray(r * d, (r + 1) * d));
      const basis = p.v.subarray(0, p.size * d);
      // classical Gram–Schmidt twice (CGS2): two dgemv-like products per pass, stable in float64
      for (let pass = 0; pass < 2; pass++) {
        const c = matmul64(basis, w, p.size, d, 1);
        const proj = matmul64(c, basis, 1, p.size, d);
        for (let q = 0; q < d; q++) w[q] -= proj[q];
        for (let q = 0; q < p.size; q++) p.h[q * mMax + j] += c[q];
      }
      let beta = 0;
      for (let q = 0; q < d; q++) beta += w[q] * w[q];
      beta = Math.sqrt(beta);
      for (let q = 0; q <= j; q++) p.hNorm = Math.max(p.hNorm, Math.abs(p.h[q * mMax + j]));
      const m = p.size; // the Hessenberg matrix is now m×m
      const invariant = beta <= 1e-10 * Math.max(p.hNorm, 1e-300) || m >= d;
      if (!invariant) {
        p.h[m * mMax + j] = beta;
        for (let q = 0; q < d; q++) p.v[m * d + q] = w[q] / beta;
        p.size++;
      }
      const check = invariant || m >= mMax || (m >= m0 && (m - m0) % every === 0);
      if (!check) return;
      const hm = new Float64Array(m * m);
      for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) hm[a * m + b] = p.h[a * mMax + b];
      const spec = eigenvalues(hm, m);
      const top = topByModulus(spec, k + 1);
      const rho = top[0]?.abs ?? 0;
      const settled = p.last !== null && top.slice(0, k).every((t) =>
        p.last!.some((o) => Math.hypot(t.re - o.re, t.im - o.im) <= tol * Math.max(rho, 1e-30)));
      p.last = top;
      if (invariant || settled || m >= mMax) {
        p.result = { rho, top: top.slice(0, k), converged: invariant || settled, krylovDim: m, steps, solver: spec.solver };
      }
    });
  }
  return problems.map((p) => p.result!);
}

/**
 * The transposed Jacobians of `model` at fixed points or around cycles: problem i is the cycle
 * cycles[i] = [x_1…x_n] (one point: a fixed point), whose map is J_f(x_n)⋯J_f(x_1). One batched VJP
 * per point of the longest cycle; every row is sent back through its own point.
 */
export function jacobianOperators(model: Model, cycles: Float32Array[][]): LinearOperators {
  const d = model.spec.dim;
  return {
    d,
    count: cycles.length,
    apply(which, v) {
      let cur: Float32Array = Float32Array.from(v);
      // each row is renormalized after every point and the scale kept in float64: a long cycle's
      // product (e.g. 48 contractions, ρ ~ 1e-49) would otherwise underflow float32
      const scale = new Float64Array(which.length).fill(1);
      const longest = Math.max(...which.map((i) => cycles[i].length));
      // (J_n⋯J_1)ᵀ u = J_1ᵀ(⋯(J_nᵀ u)): pass q applies point n−1−q of each cycle still going
      for (let q = 0; q < longest; q++) {
        const rows = which.flatMap((i, r) => (q < cycles[i].length ? [r] : []));
        const xs = new Float32Array(rows.length * d), us = new Float32Array(rows.length * d);
        rows.forEach((r, b) => {
          const pts = cycles[which[r]];
          xs.set(pts[pts.length - 1 - q], b * d);
          us.set(cur.subarray(r * d, (r + 1) * d), b * d);
        });
        const g = vjp(model, xs, us, rows.length);
        const next = rows.length === which.length ? g : cur.slice();
        if (next !== g) rows.forEach((r, b) => next.set(g.subarray(b * d, (b + 1) * d), r * d));
        cur = next;
        for (let r = 0; r < which.length; r++) {
          const row = cur.subarray(r * d, (r + 1) * d);
          let n2 = 0;
          for (let q2 = 0; q2 < d; q2++) n2 += row[q2] * row[q2];
          const norm = Math.sqrt(n2);
          if (norm > 0 && Number.isFinite(norm)) {
            for (let q2 = 0; q2 < d; q2++) row[q2] /= norm;
            scale[r] *= norm;
          }
        }
      }
      const out = new Float64Array(cur.length);
      for (let r = 0; r < which.length; r++) for (let q2 = 0; q2 < d; q2++) out[r * d + q2] = cur[r * d + q2] * scale[r];
      return out;
    },
  };
}

/** Rows uᵢᵀ J_f(xᵢ) for n points packed [n, d], by one reverse pass. */
export function vjp(model: Model, xs: Float32Array, us: Float32Array, n: number): Float32Array {
  const d = model.spec.dim;
  return tf.tidy(() => {
    const x = tf.tensor2d(xs, [n, d]), u = tf.tensor2d(us, [n, d]);
    const g = tf.grad((z: tf.Tensor) => model.forward(z as tf.Tensor2D))(x, u);
    return g.dataSync() as Float32Array;
  }).slice();
}
