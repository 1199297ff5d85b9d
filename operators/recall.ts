/**
 * recall: iterate x_{k+1} = f(x_k) from noise or a given input until a fixed point or a cycle is
 * detected (or the trajectory diverges, or a step cap), then match the limit onto the training
 * sequences (docs/math.md §4).
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
import { DEFAULT_TOLERANCES, findLimits, isConverged, matchTarget, type IteratedMap, type Limit, type LimitOptions } from '../engine/limits.ts';
import { Rng } from '../engine/random.ts';
import { dist, nearest, psnr } from '../engine/vectors.ts';

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
  /** Fixed point: ‖x_{k+1} − x_k‖ ≤ tol·max(‖x_{k+1}‖, 1) (relative, with an absolute floor near 0; engine/limits.ts). */
  tolStep?: number;
  /** Cycle: ‖x_{k+p} − x_k‖ ≤ tol·max(‖x_{k+p}‖, 1) for p consecutive k. */
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
    // every sample in one batch; only a fixed point stores an autoencoded sample
    const frames = input.sequences.flat();
    return (await findLimits(input.map, frames, o, cancelled)).map((l, i) => (l.outcome === 'fixed-point' && close(l.states[0], frames[i]) ? l.states[0] : null));
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
      const [lim] = await findLimits(input.map, [seq[start]], o, cancelled);
      if (isConverged(lim)) limitPoints.push(...lim.states);
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
  const tol = { step: opts.tolStep ?? DEFAULT_TOLERANCES.step, cycle: opts.tolCycle ?? DEFAULT_TOLERANCES.cycle, match: opts.tolMatch ?? DEFAULT_TOLERANCES.match };
  const o: LimitOptions = {
    maxIterations: opts.maxIterations ?? 20_000,
    maxPeriod: opts.maxPeriod ?? Math.max(2 * Math.max(...input.sequences.map((s) => s.length)), 8),
    tol,
  };
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
  const [lim] = await findLimits(input.map, [x0], o, cancelled);
  const converged = isConverged(lim);

  // states: the limit's period in iteration order, or (diverged, step cap) the one state it has, which
  // matches nothing but still gets each frame's distance and PSNR
  const cycle = lim.states.map((x) => (converged ? matchTarget(x, stored, tol.match) : -1));
  // rotate so the state matched to the smallest index comes first (readable output order)
  const matchedIdx = cycle.filter((c) => c >= 0);
  const rot = matchedIdx.length ? cycle.indexOf(Math.min(...matchedIdx)) : 0;
  const states = [...lim.states.slice(rot), ...lim.states.slice(0, rot)];
  const order = [...cycle.slice(rot), ...cycle.slice(0, rot)];
  const orderCorrect = autoencode ? null : converged && order.every((c, j) => c >= 0 && succ[c] === order[(j + 1) % order.length]) &&
    order.length === seqOf(input.sequences, order[0]).length;

  const perFrame: RecallFrame[] = frames.map((f, i) => {
    const matchedAt = order.indexOf(i);
    const state = matchedAt >= 0 ? matchedAt : Math.max(0, nearest(states, f).i);
    const x = states[state];
    return {
      index: i, matched: matchedAt >= 0, stored: stored[i] !== null, state,
      l2: dist(x, f), l2Stored: stored[i] ? dist(x, stored[i]!) : Number.NaN, psnr: psnr(x, f, peak),
    };
  });
  const matched = perFrame.filter((f) => f.matched);
  const event: RecallEvent = {
    kind: 'recall', runId: opts.runId, step: opts.step ?? 0, time: Date.now(),
    from: opts.from instanceof Float32Array ? 'input' : opts.from, rule: ruleOf(lim), iterations: lim.iterations,
    period: lim.period, framesMatched: matched.length, framesTotal: frames.length,
    framesStored: stored.filter((s) => s !== null).length, orderCorrect,
    meanPsnr: matched.length ? matched.reduce((a, f) => a + Math.min(f.psnr, 200), 0) / matched.length : 0,
    cycle: order, frames: perFrame, tolerances: { step: tol.step, cycle: tol.cycle, match: tol.match, storedMinPsnr },
  };
  return { event, states, stored };
}

/** The stopping rule of a search without targets. */
function ruleOf(l: Limit): RecallEvent['rule'] {
  if (l.outcome === 'target') throw new Error('recall searches for limits without targets');
  return l.outcome;
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
