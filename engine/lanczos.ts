/**
 * The largest eigenvalue of a symmetric linear operator given only as v ↦ A·v (float64), by Lanczos
 * with full reorthogonalization: k products and k×k tridiagonal eigenvalues (engine/eigen.ts).
 * Exact (to rounding) when k reaches the dimension; degenerate top eigenvalues are no problem.
 */
import { eigenvalues } from './eigen.ts';
import { Rng } from './random.ts';

export function lanczosTop(apply: (v: Float64Array) => Float64Array, dim: number, k = 30, seed = 1): number {
  const steps = Math.min(k, dim);
  const rng = new Rng(seed);
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  };
  let q = Float64Array.from({ length: dim }, () => rng.normal());
  const n0 = Math.sqrt(dot(q, q));
  q = q.map((v) => v / n0);
  const basis: Float64Array[] = [];
  const alpha: number[] = [], beta: number[] = [];
  for (let j = 0; j < steps; j++) {
    basis.push(q);
    const w = apply(q);
    const a = dot(q, w);
    if (!Number.isFinite(a)) return Number.NaN;
    alpha.push(a);
    // full reorthogonalization (twice is enough) keeps the Ritz values free of ghost copies
    for (let pass = 0; pass < 2; pass++) {
      for (const b of basis) {
        const c = dot(b, w);
        for (let i = 0; i < dim; i++) w[i] -= c * b[i];
      }
    }
    const nb = Math.sqrt(dot(w, w));
    if (j === steps - 1 || nb <= 1e-10 * Math.max(Math.abs(a), 1e-300)) break;
    beta.push(nb);
    q = w.map((v) => v / nb);
  }
  const t = alpha.length;
  const tri = new Float64Array(t * t);
  for (let i = 0; i < t; i++) {
    tri[i * t + i] = alpha[i];
    if (i + 1 < t) tri[i * t + i + 1] = tri[(i + 1) * t + i] = beta[i];
  }
  return Math.max(...eigenvalues(tri, t).re);
}
