/**
 * margins: a monitor for any classification head (docs/math.md §8). Each input is a snapshot of the head's
 * scores (N rows, M classes), the targets and the row weights p; it knows nothing of the model.
 * Per row m_x = s(x, f*(x)) − max_{y≠f*(x)} s(x, y); the operator counts, per row, how often the
 * sign of m_x changed (m_x > 0 or not) between consecutive snapshots, and on a cadence emits a
 * `margins` event: min / median margin, fraction > 0, the p-weighted cross-entropy L and 0-1 loss,
 * the flips since the last event, η·λ_max/2 when the snapshot can give λ_max (called only then),
 * and per-row margins for a bounded set of rows (all when N ≤ maxTokens, else the most frequent
 * maxTokens and the `worst` lowest margins). Cost per snapshot: one pass over the N×M scores.
 *
 *   snapshots: -1-2-3-4-5-6-7-8-…-100-101-|     (steps)
 *   margins:   -m-m-m-m-m-m---m-…-m-------m|    (log-spaced early, every `every`, and the last one)
 *
 * @example
 *   snapshots$.pipe(margins({ runId, every: 100 }))
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { MarginToken, MarginsEvent } from '../events.ts';

export interface HeadSnapshot {
  step: number;
  n: number;
  m: number;
  /** N×M row-major scores (logits). */
  scores: ArrayLike<number>;
  /** Target class of each row. */
  targets: ArrayLike<number>;
  /** Row weights p(x) (frequencies; sum to 1 for a distribution). */
  weights: ArrayLike<number>;
  /** Step size η, for the stability ratio η·λ_max/2 (leave out where it does not apply, e.g. Adam). */
  lr?: number;
  /** λ_max of the loss Hessian at this snapshot; called only when an event is emitted. */
  lambdaMax?: () => number;
}

export interface MarginsOptions {
  runId: string;
  /** Emit every this many steps (default 100). */
  every?: number;
  /** Also emit at log-spaced steps, this many per decade (default 10; 0 for none). */
  perDecade?: number;
  /** Rows listed per event when N is small; else this many most frequent plus `worst` (defaults 64, 16). */
  maxTokens?: number;
  worst?: number;
}

export interface MarginStats {
  margins: Float64Array;
  min: number;
  median: number;
  fractionPositive: number;
  loss: number;
  loss01: number;
}

/** Margins, their summary, and the weighted losses of one scores matrix (a row is right iff m_x > 0). */
export function marginStats(scores: ArrayLike<number>, n: number, m: number, targets: ArrayLike<number>, weights: ArrayLike<number>): MarginStats {
  if (scores.length !== n * m) throw new Error(`margins: expected ${n}×${m} scores, got ${scores.length}`);
  const margins = new Float64Array(n);
  let loss = 0, loss01 = 0, positive = 0;
  for (let x = 0; x < n; x++) {
    const o = x * m, t = targets[x];
    let other = -Infinity, mx = -Infinity;
    for (let y = 0; y < m; y++) {
      const s = scores[o + y];
      if (s > mx) mx = s;
      if (y !== t && s > other) other = s;
    }
    let z = 0;
    for (let y = 0; y < m; y++) z += Math.exp(scores[o + y] - mx);
    margins[x] = scores[o + t] - other;
    loss += weights[x] * (mx + Math.log(z) - scores[o + t]);
    if (margins[x] > 0) positive++;
    else loss01 += weights[x];
  }
  const sorted = Float64Array.from(margins).sort();
  const median = n === 0 ? Number.NaN : n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { margins, min: n ? sorted[0] : Number.NaN, median, fractionPositive: n ? positive / n : Number.NaN, loss, loss01 };
}

/** The rows an event lists: all of them when n ≤ max, else the `max` heaviest and the `worst` lowest margins. */
export function selectTokens(margins: Float64Array, weights: ArrayLike<number>, max = 64, worst = 16): number[] {
  const n = margins.length;
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return all;
  const heavy = [...all].sort((a, b) => weights[b] - weights[a] || a - b).slice(0, max);
  const chosen = new Set(heavy);
  const low = [...all].sort((a, b) => margins[a] - margins[b] || a - b).filter((i) => !chosen.has(i)).slice(0, worst);
  return [...heavy, ...low.sort((a, b) => a - b)];
}

/** Whether `step` is on the log-spaced grid round(10^(k/perDecade)). */
export function isLogStep(step: number, perDecade: number): boolean {
  if (perDecade <= 0 || step < 1) return false;
  const k = Math.round(perDecade * Math.log10(step));
  return Math.round(Math.pow(10, k / perDecade)) === step;
}

export function margins(opts: MarginsOptions): OperatorFunction<HeadSnapshot, MarginsEvent> {
  const every = opts.every ?? 100, perDecade = opts.perDecade ?? 10;
  const maxTokens = opts.maxTokens ?? 64, worst = opts.worst ?? 16;
  return (source) =>
    new Observable<MarginsEvent>((sub) => {
      let flips: Int32Array | null = null;
      let prev: Float64Array | null = null;
      let pending: { snap: HeadSnapshot; stats: MarginStats } | null = null;
      const emit = (snap: HeadSnapshot, st: MarginStats) => {
        const lambdaMax = snap.lambdaMax ? snap.lambdaMax() : null;
        const tokens: MarginToken[] = selectTokens(st.margins, snap.weights, maxTokens, worst).map((x) => ({
          token: x, p: snap.weights[x], margin: st.margins[x], flips: flips![x],
        }));
        sub.next({
          kind: 'margins', runId: opts.runId, step: snap.step, time: Date.now(), n: snap.n, m: snap.m,
          min: st.min, median: st.median, fractionPositive: st.fractionPositive, loss: st.loss, loss01: st.loss01,
          flips: flips!.reduce((a, b) => a + b, 0), lambdaMax,
          stability: lambdaMax !== null && snap.lr !== undefined ? (snap.lr * lambdaMax) / 2 : null, tokens,
        });
        flips!.fill(0);
        pending = null;
      };
      let first = true;
      return source.subscribe({
        next: (snap) => {
          const st = marginStats(snap.scores, snap.n, snap.m, snap.targets, snap.weights);
          if (!flips || flips.length !== snap.n) [flips, prev] = [new Int32Array(snap.n), null];
          if (prev) for (let x = 0; x < snap.n; x++) if (prev[x] > 0 !== st.margins[x] > 0) flips[x]++;
          prev = st.margins;
          if (first || snap.step % every === 0 || isLogStep(snap.step, perDecade)) emit(snap, st);
          else pending = { snap, stats: st };
          first = false;
        },
        error: (err) => sub.error(err),
        complete: () => {
          if (pending) emit(pending.snap, pending.stats);
          sub.complete();
        },
      });
    });
}
