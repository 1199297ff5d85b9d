/**
 * Attractor certificates (SPEC §5): a fixed point x* is an attractor when ρ(J_f(x*)) < 1, a cycle
 * x_1…x_n is stable when ρ(J_f(x_n)⋯J_f(x_1)) < 1. For the FC net both are computed exactly on the
 * smaller of the W×W reduction and the d×d Jacobian.
 */
import { eigenvalues, spectralRadius, topByModulus, type Spectrum } from './eigen.ts';
import { fcJacobianFactors, fullJacobian, matmul64, reducedCycleProduct } from './jacobian.ts';
import type { Model } from './model.ts';

export interface Certificate {
  rho: number;
  top: { re: number; im: number; abs: number }[];
  attractor: boolean;
  method: 'reduced' | 'full';
  solver: Spectrum['solver'];
}

/** Certify the cycle through `points` in iteration order (one point: a fixed point). */
export function certifyCycle(model: Model, points: Float32Array[], topK = 5, method?: 'reduced' | 'full'): Certificate {
  const { dim: d, width: w } = model.spec;
  const m = method ?? (w < d ? 'reduced' : 'full');
  const factors = points.map((x) => fcJacobianFactors(model, x));
  let matrix: Float64Array, n: number;
  if (m === 'reduced') {
    matrix = reducedCycleProduct(factors);
    n = w;
  } else {
    matrix = factors.map(fullJacobian).reduce((acc, j) => matmul64(j, acc, d, d, d));
    n = d;
  }
  const spectrum = eigenvalues(matrix, n);
  const rho = spectralRadius(spectrum);
  return { rho, top: topByModulus(spectrum, topK), attractor: rho < 1, method: m, solver: spectrum.solver };
}
