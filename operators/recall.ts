/**
 * recall: iterate x_{k+1} = f(x_k) from noise or a given input until a fixed point or a cycle is
 * detected (or the trajectory diverges, or a step cap), then match the limit onto the training
 * sequences (SPEC §4).
 *
 *   input:   --r|
 *   recall:  -----R|        (R = { event: recall, states: the recalled cycle in order })
 *
 * Stored patterns x*_i are the network's own limits reached from the training samples (the cycle
 * through a sequence, phase-aligned to it, or each sample's fixed point), so a network trained to
 * MSE 1e-8 is judged against its attractors. A stored pattern only stands for x_i when it is close
 * to it (PSNR ≥ storedMinPsnr); distances and PSNR against x_i are reported too.
 *
 * @example
 *   of({ map: model, sequences: [frames], objective: 'cycle' }).pipe(recall({ runId, from: 'gaussian' }))
 */
import { cancellable } from './cancellable.ts';
import { type OperatorFunction, mergeMap } from 'rxjs';
import type { RecallEvent, RecallFrame } from '../events.ts';
import { Rng } from '../engine/random.ts';
import { dist, nearest, norm, psnr } from '../engine/vectors.ts';

/** What recall needs of a model: its dimension and k-step iteration of a batch. */
export interface IteratedMap {
  readonly spec: { dim: number };
  iterate(x0: Float32Array, steps: number): Float32Array;
}

export interface RecallInput {
  map: IteratedMap;
  /** Training sequences (one for cycle/autoencode, several for multi-cycle), vectors of length d. */
  sequences: Float32Array[][];
  /** Objective the map was trained with: autoencode samples are fixed points, not a cycle. */
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
  /** Fixed point: ‖x_{k+1} − x_k‖ ≤ tol·max(‖x_k‖, 1) (relative, with an absolute floor near 0). */
  tolStep?: number;
  /** Cycle: ‖x_{k+p} − x_k‖ ≤ tol·max(‖x_k‖, 1) for p consecutive k. */
  tolCycle?: number;
  /** Match: ‖x − x*_i‖ ≤ tol·max(‖x*_i‖, 1). */
  tolMatch?: number;
  /** A stored pattern stands for x_i only if PSNR(x*_i, x_i) ≥ this many dB (default 30). */
  storedMinPsnr?: number;
  maxPeriod?: number;
  /** Peak-to-peak range of the data for PSNR: 1 for pixels in [0,1], 2 for audio in [−1,1]. */
  peak?: number;
}

export interface RecallOutput {
  event: RecallEvent;
  /** Recalled states in cycle order, rotated to start at the state matched to the lowest sample index. */
  states: Float32Array[];
  /** The stored pattern x*_i of every training sample (null where none stands for it). */
  stored: (Float32Array | null)[];
}

export interface Limit {
  rule: RecallEvent['rule'];
  iterations: number;
  period: number;
  /** The last `period` states in iteration order (or the last state when no period was found). */
  states: Float32Array[];
}

interface LimitOptions {
  maxIterations: number;
  tolStep: number;
  tolCycle: number;
  maxPeriod: number;
}

const BLOCK = 128;
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Iterate until a fixed point (period 1, step rule), a cycle of period p ≤ maxPeriod whose distinct
 * states repeat for p consecutive steps, a non-finite state (diverged), or maxIterations.
 */
export async function findLimit(map: IteratedMap, x0: Float32Array, o: LimitOptions, cancelled: () => boolean = () => false): Promise<Limit> {
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
      if (!x.every(Number.isFinite)) return { rule: 'diverged', iterations: k, period: 0, states: [x] };
      hist.push(x);
      if (hist.length > o.maxPeriod + 1) hist.shift();
      const scale = Math.max(norm(x), 1);
      for (let p = 1; p <= o.maxPeriod && p < hist.length; p++) {
        const tol = (p === 1 ? o.tolStep : o.tolCycle) * scale;
        streak[p] = dist(x, hist[hist.length - 1 - p]) <= tol ? streak[p] + 1 : 0;
        if (streak[p] >= p) {
          const states = hist.slice(hist.length - p);
          // A trajectory still settling onto a fixed point also repeats with any period; only call
          // it a cycle when its states are distinct, and let the step rule decide fixed points.
          if (p > 1 && states.every((y, j) => j === 0 || dist(y, states[j - 1]) <= o.tolCycle * scale)) continue;
          return { rule: p === 1 ? 'fixed-point' : 'cycle', iterations: k, period: p, states };
        }
      }
    }
    await yieldToLoop();
  }
  return { rule: 'step-cap', iterations: k, period: 0, states: [hist[hist.length - 1]] };
}

/** Fixed points reached from many starts in one batched iteration; null where none was reached. */
export async function findFixedPoints(map: IteratedMap, starts: Float32Array[], o: LimitOptions, cancelled: () => boolean = () => false): Promise<(Float32Array | null)[]> {
  const d = map.spec.dim, n = starts.length;
  const out: (Float32Array | null)[] = Array(n).fill(null);
  let prev: Float32Array = new Float32Array(n * d);
  starts.forEach((s, i) => prev.set(s, i * d));
  for (let k = 0; k < o.maxIterations && out.includes(null) && !cancelled(); k += BLOCK) {
    const steps = Math.min(BLOCK, o.maxIterations - k);
    const traj = map.iterate(prev, steps);
    for (let s = 0; s < steps; s++) {
      const x = traj.subarray(s * n * d, (s + 1) * n * d);
      for (let i = 0; i < n; i++) {
        if (out[i]) continue;
        const xi = x.subarray(i * d, (i + 1) * d);
        if (xi.every(Number.isFinite) && dist(xi, prev.subarray(i * d, (i + 1) * d)) <= o.tolStep * Math.max(norm(xi), 1)) out[i] = xi.slice();
      }
      prev = x;
    }
    prev = prev.slice();
    await yieldToLoop();
  }
  return out;
}

export function recall(opts: RecallOptions): OperatorFunction<RecallInput, RecallOutput> {
  return mergeMap(
    (input) =>
      cancellable((cancelled) => runRecall(input, opts, cancelled)),
  );
}

/** Limit searches per sequence: from its first sample, then from samples no limit has covered yet. */
const MAX_SEARCHES = 4;

/**
 * The network's own limits from the training samples: x*_i is the point of a limit cycle (or the
 * fixed point) reached from the samples that is close to x_i (PSNR ≥ minPsnr); null where none is.
 */
async function storedPatterns(input: RecallInput, o: LimitOptions, minPsnr: number, peak: number, cancelled: () => boolean): Promise<(Float32Array | null)[]> {
  const close = (x: Float32Array, f: Float32Array) => psnr(x, f, peak) >= minPsnr;
  if (input.objective === 'autoencode') {
    const frames = input.sequences.flat();
    return (await findFixedPoints(input.map, frames, o, cancelled)).map((x, i) => (x && close(x, frames[i]) ? x : null));
  }
  const stored: (Float32Array | null)[] = [];
  for (const seq of input.sequences) {
    const mine: (Float32Array | null)[] = seq.map(() => null);
    const limitPoints: Float32Array[] = [];
    const tried = new Set<number>();
    for (let search = 0; search < MAX_SEARCHES; search++) {
      const start = mine.findIndex((x, j) => x === null && !tried.has(j));
      if (start < 0) break;
      tried.add(start);
      const lim = await findLimit(input.map, seq[start], o, cancelled);
      if (lim.rule === 'cycle' || lim.rule === 'fixed-point') limitPoints.push(...lim.states);
      seq.forEach((f, j) => {
        if (mine[j]) return;
        const near = nearest(limitPoints, f);
        if (near.i >= 0 && close(limitPoints[near.i], f)) mine[j] = limitPoints[near.i];
      });
    }
    stored.push(...mine);
  }
  return stored;
}

export async function runRecall(input: RecallInput, opts: RecallOptions, cancelled = () => false): Promise<RecallOutput> {
  const d = input.map.spec.dim;
  const frames = input.sequences.flat();
  const o: LimitOptions = {
    maxIterations: opts.maxIterations ?? 20_000,
    tolStep: opts.tolStep ?? 1e-6,
    tolCycle: opts.tolCycle ?? 1e-5,
    maxPeriod: opts.maxPeriod ?? Math.max(2 * Math.max(...input.sequences.map((s) => s.length)), 8),
  };
  const tolMatch = opts.tolMatch ?? 1e-3;
  const storedMinPsnr = opts.storedMinPsnr ?? 30;
  const peak = opts.peak ?? 1;
  const autoencode = input.objective === 'autoencode';
  // successor of each global index within its own sequence
  const succ: number[] = [];
  let base = 0;
  for (const s of input.sequences) {
    s.forEach((_, j) => succ.push(autoencode ? base + j : base + ((j + 1) % s.length)));
    base += s.length;
  }

  const stored = await storedPatterns(input, o, storedMinPsnr, peak, cancelled);
  const rng = new Rng(opts.seed ?? 7);
  const x0 = opts.from instanceof Float32Array ? opts.from
    : opts.from === 'uniform' ? rng.uniformArray(d, 0, 1) : rng.normalArray(d, 0, opts.sigma ?? 1);
  const lim = await findLimit(input.map, x0, o, cancelled);
  const converged = lim.rule === 'cycle' || lim.rule === 'fixed-point';

  const candidates = stored.map((s) => s ?? new Float32Array(d).fill(Number.NaN));
  const cycle = lim.states.map((x) => {
    if (!converged) return -1;
    const { i, dist: dd } = nearest(candidates, x);
    return i >= 0 && dd <= tolMatch * Math.max(norm(candidates[i]), 1) ? i : -1;
  });
  // rotate so the state matched to the smallest index comes first (readable output order)
  const matchedIdx = cycle.filter((c) => c >= 0);
  const rot = matchedIdx.length ? cycle.indexOf(Math.min(...matchedIdx)) : 0;
  const states = [...lim.states.slice(rot), ...lim.states.slice(0, rot)];
  const order = [...cycle.slice(rot), ...cycle.slice(0, rot)];
  const orderCorrect = autoencode ? null : converged && order.every((c, j) => c >= 0 && succ[c] === order[(j + 1) % order.length]) &&
    order.length === seqOf(input.sequences, order[0]).length;

  const perFrame: RecallFrame[] = frames.map((f, i) => {
    const matchedAt = order.indexOf(i);
    const state = matchedAt >= 0 ? matchedAt : nearest(states, f).i;
    const x = states[state];
    return {
      index: i, matched: matchedAt >= 0, stored: stored[i] !== null, state,
      l2: dist(x, f), l2Stored: stored[i] ? dist(x, stored[i]!) : Number.NaN, psnr: psnr(x, f, peak),
    };
  });
  const matched = perFrame.filter((f) => f.matched);
  const event: RecallEvent = {
    kind: 'recall', runId: opts.runId, step: opts.step ?? 0, time: Date.now(),
    from: opts.from instanceof Float32Array ? 'input' : opts.from, rule: lim.rule, iterations: lim.iterations,
    period: lim.period, framesMatched: matched.length, framesTotal: frames.length,
    framesStored: stored.filter((s) => s !== null).length, orderCorrect,
    meanPsnr: matched.length ? matched.reduce((a, f) => a + Math.min(f.psnr, 200), 0) / matched.length : 0,
    cycle: order, frames: perFrame, tolerances: { step: o.tolStep, cycle: o.tolCycle, match: tolMatch, storedMinPsnr },
  };
  return { event, states, stored };
}

/** Global indices of the sequence that contains global index i. */
function seqOf(seqs: Float32Array[][], i: number): number[] {
  let base = 0;
  for (const s of seqs) {
    if (i < base + s.length) return s.map((_, j) => base + j);
    base += s.length;
  }
  return [];
}
