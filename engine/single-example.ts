/**
 * Closed forms for one example memorized by a one-hidden-layer net from the rank-one initialization
 * (docs/math.md §5.6). f(z) = A φ(B z) without biases, width W, trained by gradient descent on one
 * example x (c = ‖x‖, x̂ = x/c) from B = v0·1·x̂ᵀ, A = x̂·(u0·1)ᵀ. Every hidden unit stays the same, so
 * the whole network is two scalars (u, v):
 *
 *   f(x) = W·u·φ(z)·x̂,   z = c·v,   e = W·u·φ(z) − c,   L = e²/d   (engram's mean MSE over d elements)
 *   gradient flow:  u̇ = −(2/d)·e·φ(z),   v̇ = −(2/d)·e·u·c·φ′(z)
 *
 * which conserves Q = G(z) − (c·u)²/2 with G′ = φ/φ′. At the fit W·u·φ(z*) = c, and the Jacobian at
 * x is the rank-one W·u·v·φ′(z*)·x̂x̂ᵀ, whose one non-zero eigenvalue is
 *
 *   λ = z*·φ′(z*)/φ(z*)      (power z^m: m; exp(2z): 2z*; sigmoid: z*·(1 − σ(z*)))
 *
 * z* is the root of G(z) − κ²/(2φ(z)²) = Q, κ = c²/W, found here by bisection (the left side is
 * monotone on the branch the flow stays on). Everything is float64 and free of tensors, so tests can
 * check it against a direct integration of the flow, and the single-example experiment can put it
 * beside what engram measures.
 */

/** An activation as the scalar functions the reduction needs. */
export interface ScalarActivation {
  name: string;
  phi(z: number): number;
  dphi(z: number): number;
  /** An antiderivative of φ/φ′. */
  G(z: number): number;
  /** Power activations of degree ≥ 2 keep the sign of z (φ′(0) = 0 stops v there). */
  keepsSign: boolean;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** sigmoid, exp2 or pow:m (the activations the closed form is for). */
export function scalarActivation(name: string): ScalarActivation {
  const pow = /^pow:(\d+)$/.exec(name);
  if (pow) {
    const m = Number(pow[1]);
    if (m < 1) throw new Error('pow:m needs m ≥ 1');
    return { name, phi: (z) => z ** m, dphi: (z) => m * z ** (m - 1), G: (z) => (z * z) / (2 * m), keepsSign: m >= 2 };
  }
  if (name === 'exp2') return { name, phi: (z) => Math.exp(2 * z), dphi: (z) => 2 * Math.exp(2 * z), G: (z) => z / 2, keepsSign: false };
  if (name === 'sigmoid') {
    // φ/φ′ = 1/(1 − σ(z)) = 1 + e^z
    return { name, phi: sigmoid, dphi: (z) => sigmoid(z) * (1 - sigmoid(z)), G: (z) => z + Math.exp(z), keepsSign: false };
  }
  throw new Error(`no closed form for activation '${name}'; use sigmoid, exp2 or pow:m`);
}

/** The one non-zero eigenvalue of J_f(x) at a fit with pre-activation z: z·φ′(z)/φ(z). */
export function rank1Eigenvalue(act: ScalarActivation, z: number): number {
  return (z * act.dphi(z)) / act.phi(z);
}

export interface Rank1Problem {
  /** ‖x‖. */
  c: number;
  /** Hidden units W. */
  width: number;
  u0: number;
  v0: number;
}

export interface Rank1FixedPoint {
  /** z* = c·v* at the fit. */
  z: number;
  u: number;
  v: number;
  /** The conserved Q = G(z) − (c·u)²/2. */
  q: number;
  /** The non-zero eigenvalue of J_f(x) (signed); ρ = |lambda|. */
  lambda: number;
  rho: number;
}

/** The invariant Q = G(c·v) − (c·u)²/2 at (u, v). */
export function rank1Invariant(act: ScalarActivation, c: number, u: number, v: number): number {
  return act.G(c * v) - (c * u) ** 2 / 2;
}

/**
 * Where the gradient flow from (u0, v0) meets the fit W·u·φ(c·v) = c: the root z* of
 * G(z) − κ²/(2φ(z)²) = Q, κ = c²/W. For sigmoid and exp2 the left side increases on all of ℝ; for
 * z^m it is even and increases in |z|, and the flow keeps the sign of z0 (m ≥ 2) — or, for m = 1,
 * crosses 0 freely, where the sign is that of u0 (then u* > 0 needs z* > 0).
 */
export function rank1FixedPoint(act: ScalarActivation, p: Rank1Problem): Rank1FixedPoint {
  const { c, width } = p;
  const kappa = (c * c) / width;
  const q = rank1Invariant(act, c, p.u0, p.v0);
  const F = (z: number) => act.G(z) - (kappa * kappa) / (2 * act.phi(z) ** 2);
  const powerLike = /^pow:/.test(act.name);
  // the branch: z > 0 for powers (mirrored for a negative start when the sign is kept), all of ℝ otherwise
  const sign = powerLike && act.keepsSign && p.v0 < 0 ? -1 : 1;
  const g = powerLike ? (t: number) => F(sign * t) : F;
  let lo: number, hi: number;
  if (powerLike) {
    lo = 1e-300 ** (1 / 8);
    hi = 1;
    while (g(lo) > q) lo /= 2;
  } else {
    lo = -1;
    hi = 1;
    while (g(lo) > q) lo *= 2;
  }
  while (g(hi) < q) hi *= 2;
  for (let i = 0; i < 400 && hi - lo > 1e-15 * Math.max(1, Math.abs(lo), Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (g(mid) < q) lo = mid;
    else hi = mid;
  }
  const z = (powerLike ? sign : 1) * (lo + hi) / 2;
  const u = c / (width * act.phi(z));
  const lambda = rank1Eigenvalue(act, z);
  return { z, u, v: z / c, q, lambda, rho: Math.abs(lambda) };
}

/** Curvature of e along the flow: ė = −h·e with h = (2W/d)·(φ(z)² + (c·u·φ′(z))²); GD on it is stable for η·h < 2. */
export function rank1Curvature(act: ScalarActivation, c: number, width: number, d: number, u: number, v: number): number {
  const z = c * v;
  return ((2 * width) / d) * (act.phi(z) ** 2 + (c * u * act.dphi(z)) ** 2);
}

export interface Rank1GdOptions extends Rank1Problem {
  /** The input dimension d (engram's loss is a mean over d elements). */
  d: number;
  lr: number;
  lossTarget: number;
  maxSteps: number;
}

export interface Rank1GdResult {
  /** Steps taken (the loss of step `steps` met the target, or the cap). */
  steps: number;
  reached: boolean;
  loss: number;
  u: number;
  v: number;
  z: number;
  /** The Jacobian's eigenvalue at these weights, evaluated at the network's own fixed point along x̂. */
  lambda: number;
  /** Largest curvature h met along the way. */
  hMax: number;
}

/**
 * Gradient descent as engram's trainer takes it (loss of the current weights, stop when it meets the
 * target, else update), on the two scalars, in float64: what `engram memorize --init rank1:u0,v0
 * --optimizer gd` does up to float32 rounding, without the d·W tensors.
 */
export function rank1Gd(act: ScalarActivation, o: Rank1GdOptions): Rank1GdResult {
  const { c, width: w, d, lr } = o;
  let u = o.u0, v = o.v0, hMax = 0, loss = Number.NaN, step = 0, reached = false;
  for (; step < o.maxSteps; step++) {
    const z = c * v, ph = act.phi(z), e = w * u * ph - c;
    loss = (e * e) / d;
    hMax = Math.max(hMax, rank1Curvature(act, c, w, d, u, v));
    if (!Number.isFinite(loss)) break;
    if (loss <= o.lossTarget) {
      reached = true;
      step++;
      break;
    }
    const gu = (2 / d) * e * ph, gv = (2 / d) * e * u * c * act.dphi(z);
    u -= lr * gu;
    v -= lr * gv;
  }
  return { steps: step, reached, loss, u, v, z: c * v, lambda: fixedPointEigenvalue(act, w, u, v, c), hMax };
}

/**
 * The eigenvalue of J_f at the fixed point the trained scalars actually have along x̂: the root s* of
 * g(s) = W·u·φ(v·s) = s near c (Newton), then g′(s*) = W·u·v·φ′(v·s*). Exactly z·φ′/φ at an exact fit.
 */
export function fixedPointEigenvalue(act: ScalarActivation, width: number, u: number, v: number, c: number): number {
  let s = c;
  for (let i = 0; i < 50; i++) {
    const g = width * u * act.phi(v * s) - s, dg = width * u * v * act.dphi(v * s) - 1;
    if (dg === 0) break;
    const step = g / dg;
    s -= step;
    if (Math.abs(step) <= 1e-15 * Math.abs(s)) break;
  }
  return width * u * v * act.dphi(v * s);
}

/**
 * The largest curvature h met along the gradient flow's path from (u0, v0) to the fit: the path is
 * followed by steps of δ/h (a time change, which keeps the flow's path) until the loss meets the
 * target. A learning rate γ/hMax then keeps every step of GD within γ of the flow's local time scale.
 */
export function rank1PathCurvature(act: ScalarActivation, p: Rank1Problem & { d: number; lossTarget: number }, delta = 0.01, maxSteps = 1e6): number {
  const { c, width: w, d } = p;
  let u = p.u0, v = p.v0, hMax = 0;
  for (let k = 0; k < maxSteps; k++) {
    const z = c * v, ph = act.phi(z), e = w * u * ph - c;
    const h = rank1Curvature(act, c, w, d, u, v);
    if (!Number.isFinite(h) || h === 0) break;
    hMax = Math.max(hMax, h);
    if ((e * e) / d <= p.lossTarget) break;
    const dt = delta / h;
    const gu = (2 / d) * e * ph, gv = (2 / d) * e * u * c * act.dphi(z);
    u -= dt * gu;
    v -= dt * gv;
  }
  return hMax;
}
