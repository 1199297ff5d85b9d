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
import type { RecallEvent, RecallFrame, RecallOutcome } from '../events.ts';
import { DEFAULT_TOLERANCES, findLimits, isConverged, matchTarget, shadow, type IteratedMap, type Limit, type LimitOptions, type Shadow } from '../engine/limits.ts';
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
  /** A state within this PSNR (dB) of a training frame passes it; shadowing for approximate orbits (default 25). */
  shadowPsnr?: number;
  /** Noise starts (seeds seed, seed+1, …; default 1); the best trajectory is reported. Ignored for an explicit start. */
  tries?: number;
  /** Peak-to-peak range of the data for PSNR: 1 for pixels in [0,1], 2 for audio in [−1,1]. */
  peak?: number;
  /** Called after each block of iterations: the stage ('stored memories', then 'noise starts'), iterations so far in this search, and its cap. */
  progress?: (stage: string, iterations: number, cap: number) => void;
}

export interface RecallOutput {
  event: RecallEvent;
  /** Recalled states in cycle order, rotated to start at the state matched to the lowest sample index. */
  states: Float32Array[];
  /** The stored pattern x*_i of every training sample (null where none stands for it). */
  stored: (Float32Array | null)[];
  /** Every noise start (seeds seed, seed+1, …; one for an explicit start), classified on its own; the event reports the best. */
  starts: StartOutcome[];
}

/** One trajectory of a recall, classified (docs/math.md §4): what `tries` noise starts each did. */
export interface StartOutcome {
  seed: number;
  kind: RecallOutcome['kind'];
  recalled: boolean;
  /** The sequence it came back to (exact: the one its states match; else the one it shadows most); -1 when it passes no frame. */
  sequence: number;
  /** Frames it passed at ≥ the shadowing PSNR, of the `of` frames of that sequence. */
  coverage: number;
  of: number;
  /** Period of the limit (1: a fixed point; 0: none found) and iterations taken. */
  period: number;
  iterations: number;
  /** Exact limits: the sample index each state of the limit matched (-1 when none), in cycle order. */
  matched: number[];
  /** The states that stand for it (the period, rotated as the event's; or one pass of the trajectory's tail), as recall would record them. */
  states: Float32Array[];
}

export function recall(opts: RecallOptions): OperatorFunction<RecallInput, RecallOutput> {
  return mergeMap(
    (input) =>
      cancellable((cancelled) => runRecall(input, opts, cancelled)),
  );
}

/** Limit searches per sequence: from its first sample, then from samples no limit has covered yet (all sequences' searches batched). */
const MAX_SEARCHES = 4;

/**
 * The network's own limits from the training samples: x*_i is the point of a limit cycle (or the
 * fixed point) reached from the samples that is close to x_i (PSNR ≥ minPsnr); null where none is.
 */
async function storedPatterns(
  input: RecallInput, o: LimitOptions, minPsnr: number, peak: number, cancelled: () => boolean, progress?: (iterations: number) => void,
): Promise<(Float32Array | null)[]> {
  const close = (x: Float32Array, f: Float32Array) => psnr(x, f, peak) >= minPsnr;
  if (input.objective === 'autoencode') {
    // every sample in one batch; only a fixed point stores an autoencoded sample
    const frames = input.sequences.flat();
    return (await findLimits(input.map, frames, o, cancelled, progress)).map((l, i) => (l.outcome === 'fixed-point' && close(l.states[0], frames[i]) ? l.states[0] : null));
  }
  // every sequence's next search in one batch (several sequences: one iteration of all of them at a time)
  const mine = input.sequences.map((seq) => seq.map((): Float32Array | null => null));
  const limitPoints = input.sequences.map((): Float32Array[] => []);
  const tried = input.sequences.map(() => new Set<number>());
  for (let search = 0; search < MAX_SEARCHES; search++) {
    const batch: { q: number; start: number }[] = [];
    mine.forEach((m, q) => {
      const start = m.findIndex((x, j) => x === null && !tried[q].has(j));
      if (start < 0) return;
      tried[q].add(start);
      batch.push({ q, start });
    });
    if (batch.length === 0) break;
    const lims = await findLimits(input.map, batch.map(({ q, start }) => input.sequences[q][start]), o, cancelled, progress);
    batch.forEach(({ q }, b) => {
      if (isConverged(lims[b])) limitPoints[q].push(...lims[b].states);
      input.sequences[q].forEach((f, j) => {
        if (mine[q][j]) return;
        const near = nearest(limitPoints[q], f);
        if (near.i >= 0 && close(limitPoints[q][near.i], f)) mine[q][j] = limitPoints[q][near.i];
      });
    });
  }
  const stored = mine.flat();
  return stored;
}

/**
 * Which stored memories the network holds, by the rule recall uses (x*_i exists where the network's
 * own limit from the samples comes back to within storedMinPsnr of x_i): per sample for an
 * autoencoder, per sequence (every sample stored) for a cycle. engram inspect says with it whether
 * what it certified is a stored memory, as memorize's certificate does.
 */
export async function storedMemoryFlags(input: RecallInput, opts: Pick<RecallOptions, 'maxIterations' | 'maxPeriod' | 'storedMinPsnr' | 'peak'> = {}): Promise<boolean[]> {
  const longest = Math.max(1, ...input.sequences.map((s) => s.length));
  const o: LimitOptions = { maxIterations: opts.maxIterations ?? 20_000, maxPeriod: opts.maxPeriod ?? Math.max(2 * longest, 8), tol: { ...DEFAULT_TOLERANCES } };
  const stored = await storedPatterns(input, o, opts.storedMinPsnr ?? 30, opts.peak ?? 1, () => false);
  if (input.objective === 'autoencode') return stored.map((x) => x !== null);
  let base = 0;
  return input.sequences.map((seq) => {
    const mine = stored.slice(base, base + seq.length);
    base += seq.length;
    return mine.every((x) => x !== null);
  });
}

export async function runRecall(input: RecallInput, opts: RecallOptions, cancelled = () => false): Promise<RecallOutput> {
  const d = input.map.spec.dim;
  const frames = input.sequences.flat();
  const tol = { step: opts.tolStep ?? DEFAULT_TOLERANCES.step, cycle: opts.tolCycle ?? DEFAULT_TOLERANCES.cycle, match: opts.tolMatch ?? DEFAULT_TOLERANCES.match };
  const longest = Math.max(1, ...input.sequences.map((s) => s.length));
  const o: LimitOptions = {
    maxIterations: opts.maxIterations ?? 20_000,
    maxPeriod: opts.maxPeriod ?? Math.max(2 * longest, 8),
    tol,
  };
  const storedMinPsnr = opts.storedMinPsnr ?? 30;
  const shadowPsnr = opts.shadowPsnr ?? DEFAULT_SHADOW_PSNR;
  const peak = opts.peak ?? 1;
  const autoencode = input.objective === 'autoencode';
  // successor of each global index within its own sequence, and the sequence of each index
  const succ: number[] = [], seqIndex: number[] = [];
  let base = 0;
  input.sequences.forEach((s, q) => {
    s.forEach((_, j) => {
      succ.push(autoencode ? base + j : base + ((j + 1) % s.length));
      seqIndex.push(q);
    });
    base += s.length;
  });

  const stored = await storedPatterns(input, o, storedMinPsnr, peak, cancelled, opts.progress && ((k) => opts.progress!('stored memories', k, o.maxIterations)));
  const seed = opts.seed ?? 7;
  const tries = opts.from instanceof Float32Array ? 1 : Math.max(1, Math.floor(opts.tries ?? 1));
  const starts = Array.from({ length: tries }, (_, t) => {
    const rng = new Rng(seed + t);
    return opts.from instanceof Float32Array ? opts.from
      : opts.from === 'uniform' ? rng.uniformArray(d, 0, 1) : rng.normalArray(d, 0, opts.sigma ?? 1);
  });
  // the trajectories that never repeat keep their last states (at least two passes round the longest sequence)
  const limits = await findLimits(input.map, starts, { ...o, tail: o.maxPeriod + 1 }, cancelled, opts.progress && ((k) => opts.progress!('noise starts', k, o.maxIterations)));
  const ctx: Ctx = { input, frames, succ, seqIndex, stored, tol, shadowPsnr, peak, autoencode, longest };
  const judged = limits.map((lim, t) => judge(lim, ctx, seed + t));
  const best = judged.reduce((a, b) => (better(b, a) ? b : a));
  const several = input.sequences.length > 1 && !autoencode;
  const { lim, sh, kind, recalled, states, order } = best;
  const converged = isConverged(lim);
  const orderCorrect = autoencode ? null : kind === 'exact'
    ? order.every((c, j) => c >= 0 && succ[c] === order[(j + 1) % order.length]) && order.length === seqOf(input.sequences, order[0]).length
    : kind === 'approximate-orbit' ? best.inOrder : false;

  const window = best.window;
  const perFrame: RecallFrame[] = frames.map((f, i) => {
    const matchedAt = kind === 'exact' ? order.indexOf(i) : -1;
    const state = matchedAt >= 0 ? matchedAt : Math.max(0, nearest(states, f).i);
    const passed = sh.bestState[i] >= 0 ? window[sh.bestState[i]] : states[state];
    return {
      index: i, matched: kind === 'exact' ? matchedAt >= 0 : kind === 'approximate-orbit' && sh.passed[i],
      stored: stored[i] !== null, state,
      l2: dist(passed, f), l2Stored: stored[i] ? dist(passed, stored[i]!) : Number.NaN, psnr: sh.best[i] === -Infinity ? psnr(passed, f, peak) : sh.best[i],
    };
  });
  const matched = perFrame.filter((f) => f.matched);
  const capped = (v: number) => Math.min(v, 200);
  const ofFrames = perFrame.filter((_, i) => seqIndex[i] === best.seq).map((f) => capped(f.psnr));
  const sorted = [...ofFrames].sort((a, b) => a - b);
  const median = sorted.length ? (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2 : Number.NaN;
  const outcome: RecallOutcome = {
    kind, recalled, coverage: best.coverage, of: best.of, inOrder: autoencode ? null : best.inOrder,
    worstPsnr: sorted.length ? sorted[0] : Number.NaN, medianPsnr: median, minPsnr: shadowPsnr,
    window: window.length, close: sh.close, tries, seed: best.seed, why: '',
    ...(several ? { sequence: best.seq, sequences: input.sequences.length } : {}),
  };
  outcome.why = explain(outcome, lim, converged);
  const event: RecallEvent = {
    kind: 'recall', runId: opts.runId, step: opts.step ?? 0, time: Date.now(),
    from: opts.from instanceof Float32Array ? 'input' : opts.from, rule: ruleOf(lim), iterations: lim.iterations,
    period: lim.period, framesMatched: matched.length, framesTotal: frames.length,
    framesStored: stored.filter((s) => s !== null).length, orderCorrect,
    meanPsnr: perFrame.reduce((a, f) => a + capped(f.psnr), 0) / Math.max(perFrame.length, 1),
    cycle: order, frames: perFrame, tolerances: { step: tol.step, cycle: tol.cycle, match: tol.match, storedMinPsnr }, outcome,
  };
  const startOutcomes: StartOutcome[] = judged.map((j) => ({
    seed: j.seed, kind: j.kind, recalled: j.recalled, sequence: j.coverage > 0 || j.kind === 'exact' ? j.seq : -1, coverage: j.coverage, of: j.of,
    period: j.lim.period, iterations: j.lim.iterations, matched: j.kind === 'exact' ? j.order : [], states: j.states,
  }));
  return { event, states, stored, starts: startOutcomes };
}

/**
 * Default shadowing threshold: a state within this PSNR of a training frame passes that frame. Below
 * the PSNR between neighbouring frames of natural footage (about 25 dB at 16×16) on purpose: a
 * network short of its target plays the clip blurred, and the order rule below tells a replay from
 * a blur (the mean of a clip is 12–17 dB from its frames).
 */
export const DEFAULT_SHADOW_PSNR = 20;
/**
 * "In order": at least this share of the steps between close states go forward by at most two
 * frames (an orbit whose pass is a little longer or shorter than the sequence repeats or skips a
 * frame now and then), and at least half of them advance exactly one frame.
 */
export const IN_ORDER_SHARE = 0.9;
/** Share of the classified states that must be within the threshold for an approximate orbit. */
export const SHADOW_SHARE = 0.9;

interface Ctx {
  input: RecallInput;
  frames: Float32Array[];
  succ: number[];
  seqIndex: number[];
  stored: (Float32Array | null)[];
  tol: { match: number };
  shadowPsnr: number;
  peak: number;
  autoencode: boolean;
  longest: number;
}

interface Judged {
  lim: Limit;
  seed: number;
  kind: RecallOutcome['kind'];
  recalled: boolean;
  /** The states classified (the period, or the trajectory's tail) and their shadowing. */
  window: Float32Array[];
  sh: Shadow;
  /** The sequence shadowed most, its frames passed, its length; whether every close step advanced. */
  seq: number;
  coverage: number;
  of: number;
  inOrder: boolean;
  median: number;
  /** What gets recorded, and the frame each of those states matched (-1 when none). */
  states: Float32Array[];
  order: number[];
}

/** Classify one trajectory (docs/math.md §4) and pick the states that stand for it. */
function judge(lim: Limit, c: Ctx, seed: number): Judged {
  const converged = isConverged(lim);
  const window = lim.states;
  const sh = shadow(window, c.frames, c.succ, { minPsnr: c.shadowPsnr, peak: c.peak, cyclic: converged });
  const exact = converged ? lim.states.map((x) => matchTarget(x, c.stored, c.tol.match)) : [];
  const exactAll = converged && exact.every((m) => m >= 0);
  // the sequence with the most frames passed; for a limit made of stored patterns, the one most of them belong to
  const covered = c.input.sequences.map(() => 0);
  sh.passed.forEach((p, i) => {
    if (p) covered[c.seqIndex[i]]++;
  });
  const votes = c.input.sequences.map(() => 0);
  for (const m of exact) if (m >= 0) votes[c.seqIndex[m]]++;
  const seq = exactAll && !c.autoencode ? votes.indexOf(Math.max(...votes)) : covered.indexOf(Math.max(...covered));
  const of = c.input.sequences[seq]?.length ?? 0;
  const coverage = covered[seq] ?? 0;
  const inOrder = !c.autoencode && sh.pairs > 0 && sh.forward >= IN_ORDER_SHARE * sh.pairs && sh.advanced >= 0.5 * sh.pairs;
  const seqPsnr = sh.best.filter((_, i) => c.seqIndex[i] === seq).map((v) => Math.min(v, 200)).sort((a, b) => a - b);
  const median = seqPsnr.length ? seqPsnr[(seqPsnr.length - 1) >> 1] : -Infinity;
  const shadows = window.length > 0 && sh.close >= SHADOW_SHARE * window.length;
  const kind: RecallOutcome['kind'] = lim.outcome === 'diverged' ? 'diverged'
    : exactAll ? 'exact'
      : shadows ? 'approximate-orbit'
        : converged ? 'spurious' : 'undecided';

  let states: Float32Array[], order: number[];
  if (converged) {
    // the period, rotated so the state matched to the smallest index comes first
    const tag = kind === 'exact' ? exact : sh.nearest.map((j, s) => (sh.psnr[s] >= c.shadowPsnr ? j : -1));
    const hits = tag.filter((m) => m >= 0);
    const rot = hits.length ? tag.indexOf(Math.min(...hits)) : 0;
    states = [...window.slice(rot), ...window.slice(0, rot)];
    order = [...tag.slice(rot), ...tag.slice(0, rot)];
  } else {
    // one pass round the sequence (n states), starting where the trajectory passes its lowest frame
    const n = Math.min(window.length, kind === 'approximate-orbit' ? Math.max(of, 1) : c.longest);
    let from = window.length - n;
    if (kind === 'approximate-orbit') {
      let low = Infinity;
      for (let s = 0; s <= window.length - n; s++) {
        const j = sh.psnr[s] >= c.shadowPsnr ? sh.nearest[s] : -1;
        if (j >= 0 && j < low) [low, from] = [j, s];
      }
    }
    states = window.slice(from, from + n);
    order = states.map((_, s) => (sh.psnr[from + s] >= c.shadowPsnr ? sh.nearest[from + s] : -1));
  }
  const recalled = kind === 'exact' ? (c.autoencode || (order.every((m, j) => c.succ[m] === order[(j + 1) % order.length]) && order.length === of))
    : kind === 'approximate-orbit' ? (c.autoencode ? coverage >= 1 : coverage === of && inOrder)
      : false;
  return { lim, seed, kind, recalled, window, sh, seq, coverage, of, inOrder, median, states, order };
}

const RANK: Record<RecallOutcome['kind'], number> = { exact: 4, 'approximate-orbit': 3, spurious: 2, undecided: 1, diverged: 0 };

/** Whether a beats b: a memory that came back first, then exact > approximate orbit > spurious > undecided > diverged, then coverage, then median PSNR. */
function better(a: Judged, b: Judged): boolean {
  if (a.recalled !== b.recalled) return a.recalled;
  if (RANK[a.kind] !== RANK[b.kind]) return RANK[a.kind] > RANK[b.kind];
  if (a.coverage !== b.coverage) return a.coverage > b.coverage;
  return a.median > b.median;
}

/** Why the outcome is what it is, and (when nothing stored came back) what to try. */
function explain(o: RecallOutcome, lim: Limit, converged: boolean): string {
  const passed = `${o.coverage}/${o.of} frames passed at ≥ ${o.minPsnr} dB (median ${o.medianPsnr.toFixed(1)} dB, worst ${o.worstPsnr.toFixed(1)} dB)`;
  const order = o.inOrder === null ? '' : o.inOrder ? ', in order' : ', NOT in order';
  const tryMore = 'train longer (engram memorize --resume <run> --max-steps <more>)' + (o.tries > 1 ? '' : ', recall with --tries 5');
  switch (o.kind) {
    case 'exact':
      return o.recalled ? `the ${lim.period === 1 ? 'fixed point' : `cycle of period ${lim.period}`} is a stored memory${o.sequences ? ` (sequence ${o.sequence} of ${o.sequences})` : ''}` : `the limit is made of stored patterns, but not one whole sequence in order; ${tryMore}`;
    case 'approximate-orbit':
      return o.recalled ? `the trajectory never repeats exactly but replays the stored sequence${o.sequences ? ` ${o.sequence} of ${o.sequences}` : ''}: ${passed}${order}`
        : `the trajectory shadows part of the stored sequence: ${passed}${order}; ${tryMore}`;
    case 'spurious':
      return `a ${lim.period === 1 ? 'fixed point' : `cycle of period ${lim.period}`} that matches no stored pattern (${passed}); ${tryMore}`;
    case 'diverged':
      return `the trajectory diverged after ${lim.iterations} iterations (${passed}); ${tryMore}`;
    case 'undecided':
      return `no repeat and no shadowing within ${lim.iterations} iterations (${o.close}/${o.window} last states within ${o.minPsnr} dB of a frame; ${passed}); ` +
        `${converged ? '' : 'recall with more --recall-steps, '}${tryMore}`;
  }
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
