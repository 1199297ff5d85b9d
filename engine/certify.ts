/**
 * Attractor certificates (docs/math.md §5): a fixed point x* is an attractor when ρ(J_f(x*)) < 1, a cycle
 * x_1…x_n is stable when ρ(J_f(x_n)⋯J_f(x_1)) < 1. Three ways to get the spectrum:
 *   full     the d×d Jacobian (product) + dense eigen-solver — exact, any model that is FC here;
 *   reduced  the W×W matrix M·A (FC nets): exactly J's non-zero spectrum, whatever d is;
 *   arnoldi  top-k by Arnoldi (engine/arnoldi.ts) — matrix-free: on VJPs (any model, large d) or, for
 *            FC nets with W < d, on the factored W×W maps.
 */
import { arnoldiTopK, jacobianOperators, type ArnoldiOptions } from './arnoldi.ts';
import { eigenvalues, spectralRadius, topByModulus, type Spectrum } from './eigen.ts';
import { fcJacobianFactors, fcReducedOperators, fullJacobian, lowRankCycleProduct, matmul64, reducedCycleProduct } from './jacobian.ts';
import type { Model } from './model.ts';
import { loadBlasAddon } from './native-blas.ts';

export type EigMethod = 'full' | 'reduced' | 'arnoldi';
export type EigMethodChoice = EigMethod | 'auto';
export const EIG_METHODS: readonly EigMethodChoice[] = ['auto', 'full', 'reduced', 'arnoldi'];

/** Largest dense eigenproblem 'auto' hands to LAPACK (2048×2048: ~5 s here, docs/math.md §5). */
export const DENSE_LIMIT = 2048;
/** Largest dense eigenproblem without LAPACK (ml-matrix: ~1 s at 256, minutes at 1024). */
export const JS_SOLVER_LIMIT = 256;

/**
 * The rule of `auto`: an FC net with W < d and W within the dense limit → reduced (W×W, exact);
 * else d within the dense limit → full (d×d, exact; FC only); else → arnoldi (top-k, matrix-free).
 * The dense limit is 2048 with LAPACK and 256 without (a JS solver takes minutes above that).
 */
export function chooseEigMethod(model: Model, choice: EigMethodChoice = 'auto', lapack = loadBlasAddon() !== null): EigMethod {
  if (choice !== 'auto') return choice;
  const { dim: d, width: w, kind } = model.spec;
  const limit = lapack ? DENSE_LIMIT : JS_SOLVER_LIMIT;
  if (kind !== 'fc') return 'arnoldi';
  if (w < d && w <= limit) return 'reduced';
  if (d <= limit) return 'full';
  return 'arnoldi';
}

export interface Certificate {
  rho: number;
  top: { re: number; im: number; abs: number }[];
  attractor: boolean;
  method: EigMethod;
  solver: Spectrum['solver'];
  /** All eigenvalue moduli found (full: d, reduced: the W non-zero-spectrum ones, arnoldi: top-k). */
  moduli?: Float64Array;
  /** Arnoldi only: whether the top-k Ritz values converged, and the Krylov dimension used. */
  converged?: boolean;
  krylovDim?: number;
  operator?: 'vjp' | 'factored';
}

/** Certify the cycle through `points` in iteration order (one point: a fixed point). */
export function certifyCycle(
  model: Model, points: Float32Array[], topK = 5, method: EigMethodChoice = 'auto', arnoldi: ArnoldiOptions = {},
): Certificate {
  const m = chooseEigMethod(model, method);
  // a first layer of low rank r (sampled from the data, docs/math.md §5.2): the same non-zero spectrum from r×r matrices
  const low = m === 'reduced' || (method === 'auto' && model.spec.kind === 'fc') ? lowRankCycleProduct(model, points) : null;
  if (low) {
    const spectrum = eigenvalues(low.matrix, low.r);
    const rho = spectralRadius(spectrum);
    const moduli = Float64Array.from(spectrum.re, (re, i) => Math.hypot(re, spectrum.im[i]));
    return { rho, top: topByModulus(spectrum, topK), attractor: rho < 1, method: 'reduced', solver: spectrum.solver, moduli };
  }
  if (m === 'arnoldi') return certifyByArnoldi(model, [points], topK, arnoldi)[0];
  const { dim: d, width: w } = model.spec;
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
  const moduli = Float64Array.from(spectrum.re, (re, i) => Math.hypot(re, spectrum.im[i]));
  return { rho, top: topByModulus(spectrum, topK), attractor: rho < 1, method: m, solver: spectrum.solver, moduli };
}

/**
 * What Arnoldi multiplies by: 'vjp' — Jᵀ through tfjs reverse mode on R^d (any model); 'factored' —
 * the reduced W×W maps of an FC net applied in factored form (fcReducedOperators: same non-zero
 * spectrum, no d in the loop, ~10× cheaper around long cycles); 'auto' — factored for FC nets with
 * W < d, else vjp.
 */
export type ArnoldiOperator = 'vjp' | 'factored' | 'auto';

/** Several cycles (or fixed points) at once: one batched operator application per Arnoldi step. */
export function certifyByArnoldi(
  model: Model, cycles: Float32Array[][], topK = 5, opts: ArnoldiOptions & { operator?: ArnoldiOperator } = {},
): Certificate[] {
  const { dim: d, width: w, kind } = model.spec;
  const which = opts.operator ?? 'auto';
  const factored = which === 'factored' || (which === 'auto' && kind === 'fc' && w < d);
  const op = factored ? fcReducedOperators(model, cycles) : jacobianOperators(model, cycles);
  return arnoldiTopK(op, { ...opts, k: topK }).map((r) => ({
    rho: r.rho, top: r.top, attractor: r.rho < 1, method: 'arnoldi', solver: r.solver,
    moduli: Float64Array.from(r.top, (t) => t.abs), converged: r.converged, krylovDim: r.krylovDim,
    operator: factored ? 'factored' : 'vjp',
  }));
}
