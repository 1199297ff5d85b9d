/**
 * Token sets for the associative memory of docs/math.md §8: tokens x ∈ [N] with frequencies p(x) (Zipf
 * p ∝ x^−α, or two tokens p = (p1, 1 − p1)), a fixed target map y = f*(x) ∈ [M], and SGD batches
 * drawn from p with a seeded generator.
 *
 *   tokenBatches(p, 4, seed):  -w-w-w-…   (w = per-token weights count/B of one batch, forever)
 */
import { Observable } from 'rxjs';
import { Rng } from '../engine/random.ts';
import type { AssocTask } from '../engine/assoc.ts';
import { EngramError } from '../errors.ts';

export type FrequencySpec = { kind: 'zipf'; alpha: number } | { kind: 'two'; p1: number };

export function parseFrequencies(s: string): FrequencySpec {
  const z = /^zipf:([0-9.eE+-]+)$/.exec(s);
  if (z && Number(z[1]) >= 0) return { kind: 'zipf', alpha: Number(z[1]) };
  const t = /^two:([0-9.eE+-]+)$/.exec(s);
  if (t && Number(t[1]) > 0 && Number(t[1]) < 1) return { kind: 'two', p1: Number(t[1]) };
  throw new EngramError('E_BAD_ARGUMENT', `--frequencies must be zipf:ALPHA (ALPHA ≥ 0) or two:P1 (0 < P1 < 1) (got '${s}')`);
}

export function formatFrequencies(f: FrequencySpec): string {
  return f.kind === 'zipf' ? `zipf:${f.alpha}` : `two:${f.p1}`;
}

/** p(x) for x = 1..N (index x−1), normalized. two:p1 is only for N = 2. */
export function tokenFrequencies(spec: FrequencySpec, n: number): Float64Array {
  if (spec.kind === 'two') {
    if (n !== 2) throw new EngramError('E_BAD_ARGUMENT', `--frequencies two:${spec.p1} is for two tokens; use --n 2 (got --n ${n}) or zipf:ALPHA`);
    return Float64Array.of(spec.p1, 1 - spec.p1);
  }
  const w = Float64Array.from({ length: n }, (_, i) => Math.pow(i + 1, -spec.alpha));
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / z);
}

/**
 * The task: frequencies and targets. Targets are given, or a fixed random map [N] → [M] from the
 * seed (with N ≤ M, distinct tokens get distinct targets when `distinct` is set, as for the
 * two-token case where f*(1) ≠ f*(2) is the point).
 */
export function makeTokenTask(o: { n: number; m: number; frequencies: FrequencySpec; seed: number; targets?: Int32Array }): AssocTask {
  const p = tokenFrequencies(o.frequencies, o.n);
  if (o.targets) {
    if (o.targets.length !== o.n || o.targets.some((y) => y < 0 || y >= o.m)) {
      throw new EngramError('E_BAD_ARGUMENT', `targets must be ${o.n} integers in [0, ${o.m})`);
    }
    return { p, targets: o.targets };
  }
  const rng = new Rng(o.seed * 104729 + 3);
  let targets: Int32Array;
  if (o.n <= o.m) {
    // a random injection: every token its own output, so every association is learnable
    const perm = Array.from({ length: o.m }, (_, i) => i);
    for (let i = o.m - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    targets = Int32Array.from(perm.slice(0, o.n));
  } else {
    targets = Int32Array.from({ length: o.n }, () => Math.floor(rng.next() * o.m));
  }
  return { p, targets };
}

/** Draws token indices from p by inverse CDF (binary search), seeded. */
export function createTokenSampler(p: Float64Array, rng: Rng): { sample(b: number): Int32Array; weights(b: number): Float64Array } {
  const cdf = new Float64Array(p.length);
  let acc = 0;
  p.forEach((v, i) => (cdf[i] = acc += v));
  const draw = () => {
    const r = rng.next() * acc;
    let lo = 0, hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const sample = (b: number) => Int32Array.from({ length: b }, draw);
  return {
    sample,
    /** Per-token weights count(x)/B of one batch: the SGD loss is Σ_x w(x)·ℓ_x. */
    weights(b: number) {
      const w = new Float64Array(p.length);
      for (const x of sample(b)) w[x] += 1 / b;
      return w;
    },
  };
}

/** An endless stream of batch weights (count/B per token), for pull-free consumers. */
export function tokenBatches(p: Float64Array, batch: number, seed: number): Observable<Float64Array> {
  return new Observable<Float64Array>((sub) => {
    const s = createTokenSampler(p, new Rng(seed));
    while (!sub.closed) sub.next(s.weights(batch));
  });
}
