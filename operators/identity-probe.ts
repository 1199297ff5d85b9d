/**
 * identity-probe (docs/math.md §9): after training on one example x̂ to reproduce its input, does the
 * network act like the identity map or like the constant map x ↦ x̂ away from x̂? Probe inputs
 * x_ρ = ‖x̂‖(ρ·x̂/‖x̂‖ + √(1−ρ²)·r⊥/‖r⊥‖) (r⊥ Gaussian with its x̂ component removed) have
 * corr(x_ρ, x̂) = ρ and the norm of x̂; the map's outputs are scored against x_ρ (corrI) and x̂
 * (corrC), next to the scores of the exact identity and constant maps on the same probes.
 *
 *   trained:  --t--t-|        (t = one trained map with its arch, depth and training summary)
 *   probe:    --i--i-|        (i = identity event: ρ rows, distances to both baselines, label)
 *
 * @example
 *   of({ arch: 'fc', depth: 2, map: model, xhat, train }).pipe(identityProbe({ runId, rhos: [0, 0.5, 1], perRho: 8, seed: 1 }))
 *
 * corr is the cosine similarity (uncentred correlation), so the construction is exact. The map is
 * any `apply` on packed rows: all probes of one run go through it in one batch.
 */
import { map, type OperatorFunction } from 'rxjs';
import type { IdentityEvent, IdentityRow } from '../events.ts';
import { Rng } from '../engine/random.ts';

export interface ProbedMap {
  apply(x: Float32Array): Float32Array;
}

export interface IdentityProbeInput {
  arch: IdentityEvent['arch'];
  depth: number;
  params: number;
  map: ProbedMap;
  xhat: Float32Array;
  train: IdentityEvent['train'];
  /** Training step the event refers to. */
  step?: number;
}

export interface IdentityProbeOptions {
  runId: string;
  /** The ρ grid in [0, 1]. */
  rhos: number[];
  /** Random directions r⊥ per ρ. */
  perRho: number;
  seed: number;
  /** Normalised distance to a baseline at or below which the map gets that baseline's label (default 0.25). */
  threshold?: number;
}

export const DEFAULT_LABEL_THRESHOLD = 0.25;

/** Evenly spaced ρ from 0 to 1 inclusive (n ≥ 2 points). */
export function rhoGrid(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Number((i / (n - 1)).toFixed(6)));
}

/** a·b / (‖a‖‖b‖) in float64; 0 when either is the zero vector. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** The probes x_ρ, `perRho` for each ρ in order, packed [rhos.length·perRho, d]. */
export function probeInputs(xhat: Float32Array, rhos: number[], perRho: number, seed: number): Float32Array {
  const d = xhat.length;
  let nx = 0;
  for (let i = 0; i < d; i++) nx += xhat[i] * xhat[i];
  nx = Math.sqrt(nx);
  if (!(nx > 0)) throw new Error('the identity probe needs a non-zero example x̂');
  if (d < 2) throw new Error('the identity probe needs at least 2 dimensions (r⊥ must exist)');
  const u = Float64Array.from(xhat, (v) => v / nx);
  const rng = new Rng(seed);
  const out = new Float32Array(rhos.length * perRho * d);
  const r = new Float64Array(d);
  let row = 0;
  for (const rho of rhos) {
    if (!(rho >= 0 && rho <= 1)) throw new Error(`ρ must lie in [0, 1] (got ${rho})`);
    const s = Math.sqrt(Math.max(0, 1 - rho * rho));
    for (let k = 0; k < perRho; k++, row++) {
      let ru = 0, rr = 0;
      for (let i = 0; i < d; i++) (r[i] = rng.normal()), (ru += r[i] * u[i]);
      for (let i = 0; i < d; i++) (r[i] -= ru * u[i]), (rr += r[i] * r[i]);
      const rn = Math.sqrt(rr);
      for (let i = 0; i < d; i++) out[row * d + i] = nx * (rho * u[i] + (s * r[i]) / rn);
    }
  }
  return out;
}

interface Scores { corrI: number; corrC: number; corrIStd: number; corrCStd: number }

/** Mean and std of corrI, corrC per ρ for outputs `y` of probes `x` (both packed in probe order). */
export function scoreOutputs(xhat: Float32Array, x: Float32Array, y: Float32Array, rhos: number[], perRho: number): Scores[] {
  const d = xhat.length;
  return rhos.map((_, j) => {
    const ci: number[] = [], cc: number[] = [];
    for (let k = 0; k < perRho; k++) {
      const o = (j * perRho + k) * d;
      const yk = y.subarray(o, o + d);
      ci.push(cosine(yk, x.subarray(o, o + d)));
      cc.push(cosine(yk, xhat));
    }
    const [mi, si] = meanStd(ci), [mc, sc] = meanStd(cc);
    return { corrI: mi, corrC: mc, corrIStd: si, corrCStd: sc };
  });
}

function meanStd(v: number[]): [number, number] {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length)];
}

/** The rows for `map`, with the exact identity and constant maps scored on the same probes. */
export function identityRows(probed: ProbedMap, xhat: Float32Array, o: Omit<IdentityProbeOptions, 'runId' | 'threshold'>): IdentityRow[] {
  const x = probeInputs(xhat, o.rhos, o.perRho, o.seed);
  const y = probed.apply(x);
  if (y.length !== x.length) throw new Error(`the probed map returned ${y.length} values for ${x.length} inputs`);
  const constant = new Float32Array(x.length);
  for (let r = 0; r < x.length / xhat.length; r++) constant.set(xhat, r * xhat.length);
  const net = scoreOutputs(xhat, x, y, o.rhos, o.perRho);
  const id = scoreOutputs(xhat, x, x, o.rhos, o.perRho);
  const co = scoreOutputs(xhat, x, constant, o.rhos, o.perRho);
  return o.rhos.map((rho, j) => ({
    rho, ...net[j],
    identity: { corrI: id[j].corrI, corrC: id[j].corrC },
    constant: { corrI: co[j].corrI, corrC: co[j].corrC },
  }));
}

/**
 * Distances of the rows to both baselines: mean over ρ of |ΔcorrI| + |ΔcorrC| to the baseline row,
 * over the mean of the same distance between the baselines (at ρ = 1 they coincide). Label: the
 * baseline within `threshold` (≤ 0.5 keeps the two exclusive: the distances sum to at least 1).
 */
export function labelRows(rows: IdentityRow[], threshold = DEFAULT_LABEL_THRESHOLD): Pick<IdentityEvent, 'distance' | 'label'> {
  const l1 = (a: { corrI: number; corrC: number }, b: { corrI: number; corrC: number }) => Math.abs(a.corrI - b.corrI) + Math.abs(a.corrC - b.corrC);
  const mean = (f: (r: IdentityRow) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
  const gap = mean((r) => l1(r.identity, r.constant));
  if (!(gap > 0)) throw new Error('the ρ grid needs at least one ρ < 1, where identity and constant differ');
  const distance = { identity: mean((r) => l1(r, r.identity)) / gap, constant: mean((r) => l1(r, r.constant)) / gap };
  const label = distance.identity <= threshold && distance.identity < distance.constant ? 'identity'
    : distance.constant <= threshold && distance.constant < distance.identity ? 'constant' : 'neither';
  return { distance, label };
}

export function identityProbe(opts: IdentityProbeOptions): OperatorFunction<IdentityProbeInput, IdentityEvent> {
  const threshold = opts.threshold ?? DEFAULT_LABEL_THRESHOLD;
  return map((input) => {
    const rows = identityRows(input.map, input.xhat, opts);
    return {
      kind: 'identity', runId: opts.runId, step: input.step ?? input.train.steps, time: Date.now(),
      arch: input.arch, depth: input.depth, params: input.params, train: input.train, corr: 'cosine',
      probesPerRho: opts.perRho, rows, ...labelRows(rows, threshold), threshold,
    };
  });
}
