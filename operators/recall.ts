/**
 * recall: iterate x_{k+1} = f(x_k) from noise or a given input until a fixed point or a cycle is
 * detected (or a step cap), then match the limit onto the training sequences (SPEC §4).
 *
 *   input:   --r|
 *   recall:  -----R|        (R = { event: recall, states: the recalled cycle in order })
 *
 * Stored patterns x*_i are the limits reached by iterating from the training frames themselves, so a
 * network trained to MSE 1e-8 is judged against its own attractors; distances to x_i are reported too.
 *
 * @example
 *   of({ map: model, sequences: [frames] }).pipe(recall({ runId, from: 'gaussian' }))
 */
import { Observable, type OperatorFunction, mergeMap } from 'rxjs';
import type { RecallEvent, RecallFrame } from '../events.ts';
import { Rng } from '../engine/random.ts';

/** What recall needs of a model: its dimension and k-step iteration of a batch. */
export interface IteratedMap {
  readonly spec: { dim: number };
  iterate(x0: Float32Array, steps: number): Float32Array;
}

export interface RecallInput {
  map: IteratedMap;
  /** Training sequences (one for cycle/autoencode, several for multi-cycle), vectors of length d. */
  sequences: Float32Array[][];
  /** Objective the map was trained with: autoencode frames are fixed points, not a cycle. */
  objective: 'autoencode' | 'cycle' | 'multi-cycle';
}

export interface RecallOptions {
  runId: string;
  step?: number;
  /** 'gaussian' (N(0, σ²)), 'uniform' (U[0,1]) or an explicit start vector. */
  from: 'gaussian' | 'uniform' | Float32Array;
  sigma?: number;
  seed?: number;
  maxIterations?: number;
  /** Relative step tolerance for a fixed point: ‖x_{k+1} − x_k‖ ≤ tol·‖x_k‖ (float32: 1e-6). */
  tolStep?: number;
  /** Relative tolerance for a cycle: ‖x_{k+p} − x_k‖ ≤ tol·‖x_k‖. */
  tolCycle?: number;
  /** Relative tolerance for a match: ‖x − x*_i‖ ≤ tol·‖x*_i‖. */
  tolMatch?: number;
  maxPeriod?: number;
}

export interface RecallOutput {
  event: RecallEvent;
  /** Recalled states in cycle order, rotated to start at the state matched to the lowest frame index. */
  states: Float32Array[];
}

export interface Limit {
  rule: RecallEvent['rule'];
  iterations: number;
  period: number;
  /** The last `period` states in iteration order (or the last state when no period was found). */
  states: Float32Array[];
}

const BLOCK = 128;

function dist(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}

function norm(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

export function psnr(x: Float32Array, ref: Float32Array, peak = 1): number {
  const mse = dist(x, ref) ** 2 / x.length;
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}

/**
 * Iterate until a fixed point (period 1, step rule) or a cycle of period p ≤ maxPeriod repeats for
 * p consecutive states, or until maxIterations. Async: yields between blocks of iterations.
 */
export async function findLimit(
  map: IteratedMap, x0: Float32Array,
  o: { maxIterations: number; tolStep: number; tolCycle: number; maxPeriod: number },
  cancelled: () => boolean = () => false,
): Promise<Limit> {
  const d = map.spec.dim;
  const hist: Float32Array[] = [x0];
  const streak = new Int32Array(o.maxPeriod + 1);
  let k = 0;
  while (k < o.maxIterations && !cancelled()) {
    const steps = Math.min(BLOCK, o.maxIterations - k);
    const traj = map.iterate(hist[hist.length - 1], steps);
    for (let s = 0; s < steps; s++) {
      const x = traj.slice(s * d, (s + 1) * d);
      k++;
      if (!Number.isFinite(x[0]) || !x.every(Number.isFinite)) {
        return { rule: 'step-cap', iterations: k, period: 0, states: [x] };
      }
      hist.push(x);
      if (hist.length > o.maxPeriod + 1) hist.shift();
      const scale = Math.max(norm(x), 1e-12);
      for (let p = 1; p <= o.maxPeriod && p < hist.length; p++) {
        const tol = (p === 1 ? o.tolStep : o.tolCycle) * scale;
        streak[p] = dist(x, hist[hist.length - 1 - p]) <= tol ? streak[p] + 1 : 0;
        if (streak[p] >= p) {
          const states = hist.slice(hist.length - p);
          // A trajectory still settling onto a fixed point also repeats with any period; only call
          // it a cycle when its states are distinct, and let the step rule decide fixed points.
          if (p > 1 && states.every((x, j) => j === 0 || dist(x, states[j - 1]) <= o.tolCycle * scale)) continue;
          return { rule: p === 1 ? 'fixed-point' : 'cycle', iterations: k, period: p, states };
        }
      }
    }
    await new Promise<void>((r) => setImmediate(r));
  }
  return { rule: 'step-cap', iterations: k, period: 0, states: [hist[hist.length - 1]] };
}

export function recall(opts: RecallOptions): OperatorFunction<RecallInput, RecallOutput> {
  return mergeMap(
    (input) =>
      new Observable<RecallOutput>((sub) => {
        let cancelled = false;
        runRecall(input, opts, () => cancelled)
          .then((out) => {
            if (cancelled) return;
            sub.next(out);
            sub.complete();
          })
          .catch((e) => sub.error(e));
        return () => {
          cancelled = true;
        };
      }),
  );
}

export async function runRecall(input: RecallInput, opts: RecallOptions, cancelled = () => false): Promise<RecallOutput> {
  const d = input.map.spec.dim;
  const frames = input.sequences.flat();
  const o = {
    maxIterations: opts.maxIterations ?? 20_000,
    tolStep: opts.tolStep ?? 1e-6,
    tolCycle: opts.tolCycle ?? 1e-5,
    maxPeriod: opts.maxPeriod ?? Math.max(2 * Math.max(...input.sequences.map((s) => s.length)), 8),
  };
  const tolMatch = opts.tolMatch ?? 1e-3;
  // successor of each global frame index within its own sequence
  const succ: number[] = [];
  let base = 0;
  for (const s of input.sequences) {
    s.forEach((_, j) => succ.push(input.objective === 'autoencode' ? base + j : base + ((j + 1) % s.length)));
    base += s.length;
  }

  // Stored patterns: the limit reached from each training sequence's first frame (cycle) or from
  // every frame (autoencode); fall back to the frame itself when that limit is not found.
  const stored = frames.map((f) => f);
  const starts = input.objective === 'autoencode' ? frames.map((_, i) => i) : input.sequences.map((_, s) =>
    input.sequences.slice(0, s).reduce((a, q) => a + q.length, 0));
  for (const i of starts) {
    const lim = await findLimit(input.map, frames[i], o, cancelled);
    const idxs = input.objective === 'autoencode' ? [i] : seqIndices(input.sequences, i);
    // only a limit of the trained kind stands for the memory: a fixed point for an autoencoder,
    // a cycle through the whole sequence otherwise (an untrained net's lone fixed point is not)
    if (lim.rule === 'step-cap' || lim.period !== (input.objective === 'autoencode' ? 1 : idxs.length)) continue;
    for (const j of idxs) stored[j] = nearest(lim.states, frames[j]).x;
  }

  const rng = new Rng(opts.seed ?? 7);
  const x0 = opts.from instanceof Float32Array ? opts.from
    : opts.from === 'uniform' ? rng.uniformArray(d, 0, 1) : rng.normalArray(d, 0, opts.sigma ?? 1);
  const lim = await findLimit(input.map, x0, o, cancelled);

  const cycle = lim.states.map((x) => {
    const { i, dist: dd } = nearest(stored, x);
    return dd <= tolMatch * Math.max(norm(stored[i]), 1e-12) ? i : -1;
  });
  // rotate so the state matched to the smallest frame index comes first (readable output order)
  const firstMatched = cycle.indexOf(Math.min(...cycle.filter((c) => c >= 0)));
  const rot = firstMatched > 0 ? firstMatched : 0;
  const states = [...lim.states.slice(rot), ...lim.states.slice(0, rot)];
  const order = [...cycle.slice(rot), ...cycle.slice(0, rot)];
  const orderCorrect = lim.rule !== 'step-cap' && order.every((c, j) => c >= 0 && succ[c] === order[(j + 1) % order.length]) &&
    // a full cycle of a sequence: every frame of its sequence visited
    (input.objective === 'autoencode' || order.length === seqIndices(input.sequences, order[0]).length);

  const perFrame: RecallFrame[] = frames.map((f, i) => {
    const j = order.indexOf(i);
    const x = j >= 0 ? states[j] : nearest(states, f).x;
    return { index: i, matched: j >= 0, l2: dist(x, f), l2Stored: dist(x, stored[i]), psnr: psnr(x, f) };
  });
  const matched = perFrame.filter((f) => f.matched);
  const event: RecallEvent = {
    kind: 'recall', runId: opts.runId, step: opts.step ?? 0, time: Date.now(),
    from: opts.from instanceof Float32Array ? 'input' : opts.from, rule: lim.rule, iterations: lim.iterations,
    period: lim.period, framesMatched: matched.length, framesTotal: frames.length, orderCorrect,
    meanPsnr: matched.length ? matched.reduce((a, f) => a + Math.min(f.psnr, 200), 0) / matched.length : 0,
    cycle: order, frames: perFrame, tolerances: { step: o.tolStep, cycle: o.tolCycle, match: tolMatch },
  };
  return { event, states };
}

function nearest(candidates: Float32Array[], x: Float32Array): { i: number; dist: number; x: Float32Array } {
  let best = 0, bd = Infinity;
  candidates.forEach((c, i) => {
    const dd = dist(c, x);
    if (dd < bd) [best, bd] = [i, dd];
  });
  return { i: best, dist: bd, x: candidates[best] };
}

/** Global indices of the sequence that contains global frame index i. */
function seqIndices(seqs: Float32Array[][], i: number): number[] {
  let base = 0;
  for (const s of seqs) {
    if (i < base + s.length) return s.map((_, j) => base + j);
    base += s.length;
  }
  return [];
}
