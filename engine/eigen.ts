/**
 * Eigenvalues of general real matrices (complex in general): LAPACK dgeev through the OpenBLAS addon,
 * else ml-matrix's Hessenberg–QR in JavaScript (correct, ~30× slower at d = 784; docs/math.md §5).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { loadBlasAddon } from './native-blas.ts';

export interface Spectrum {
  re: Float64Array;
  im: Float64Array;
  solver: 'lapack' | 'ml-matrix';
}

/** Eigenvalues of the n×n row-major matrix `a`. */
export function eigenvalues(a: Float64Array, n: number): Spectrum {
  if (a.length !== n * n) throw new Error(`eigenvalues: expected ${n}×${n} = ${n * n} values, got ${a.length}`);
  const blas = loadBlasAddon();
  if (blas) return { ...blas.geev(a, n), solver: 'lapack' };
  const rows = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
  const e = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: false });
  return { re: Float64Array.from(e.realEigenvalues), im: Float64Array.from(e.imaginaryEigenvalues), solver: 'ml-matrix' };
}

/** The k eigenvalues of largest modulus, largest first. */
export function topByModulus(s: Spectrum, k: number): { re: number; im: number; abs: number }[] {
  return Array.from(s.re, (re, i) => ({ re, im: s.im[i], abs: Math.hypot(re, s.im[i]) }))
    .sort((x, y) => y.abs - x.abs)
    .slice(0, k);
}

/** ρ = max |λ|. */
export function spectralRadius(s: Spectrum): number {
  let r = 0;
  for (let i = 0; i < s.re.length; i++) r = Math.max(r, Math.hypot(s.re[i], s.im[i]));
  return r;
}
