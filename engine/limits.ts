/**
 * limits: iterate a map x_{k+1} = f(x_k) from a batch of starts and say, for every start, where it
 * ended — the one set of rules behind recall, recovery, basins and inspect.
 *
 * Every rule is relative with an absolute floor near 0 (scale = max(‖·‖, 1)):
 *   diverged     x_k is non-finite, or ‖x_k‖ > 1e6 · max(1, ‖starts‖, ‖targets‖)
 *   fixed point  ‖x_k − x_{k−1}‖ ≤ tol.step · max(‖x_k‖, 1)
 *   cycle p      ‖x_j − x_{j−p}‖ ≤ tol.cycle · max(‖x_j‖, 1) for the p consecutive j ending at k
 *                (2 ≤ p ≤ maxPeriod, smaller p tried first), and the p states are not all within
 *                tol.cycle of their predecessor: a trajectory still settling onto a fixed point
 *                repeats with every period, and only the step rule may call it a fixed point
 *   target       ‖x_k − t_j‖ ≤ tol.match · max(‖t_j‖, 1) for a known point t_j (optional; checked at
 *                the end of each block only, so a block that is a multiple of a cycle's length
 *                keeps its phase)
 *   step cap     none of these within maxIterations
 * Rules are tried in this order at every step (targets at block ends, after the others).
 *
 * The batch goes through the map `block` steps per `iterate` call; a decided trajectory leaves the
 * batch, so later calls are smaller. `findLimits` yields to the event loop between blocks and stops
 * (rejecting with LimitSearchCancelled) when `cancelled()` says so; `findLimitsSync` is the same
 * search without yielding, for callers that must stay synchronous (the attractor monitor runs inside
 * a training step).
 *
 *   starts:  [x0, x1, x2]
 *   blocks:  |--128--|--128--|--12-|
 *   limits:  [cycle p=5 @40, fixed-point @131, step-cap @268]
 */
import { norm, psnr } from './vectors.ts';

/** What the search needs of a map: its dimension and k-step iteration of a batch. */
export interface IteratedMap {
  readonly spec: { dim: number };
  /** x_k = f^k(x_0) for k = 1..steps of n starts packed [n·d]: the trajectory, packed [steps, n·d]. */
  iterate(x0: Float32Array, steps: number): Float32Array;
}

/** Relative tolerances (each with an absolute floor: scale = max(‖·‖, 1)). */
export interface Tolerances {
  /** Fixed point: ‖x_k − x_{k−1}‖ ≤ step · max(‖x_k‖, 1). */
  step: number;
  /** Cycle: ‖x_j − x_{j−p}‖ ≤ cycle · max(‖x_j‖, 1) for p consecutive j. */
  cycle: number;
  /** Target (and matching a limit to known points): ‖x − t‖ ≤ match · max(‖t‖, 1). */
  match: number;
}

export const DEFAULT_TOLERANCES: Readonly<Tolerances> = { step: 1e-6, cycle: 1e-5, match: 1e-3 };

/** A trajectory whose norm grows past this factor times the largest start (or target, or 1) diverged. */
export const DIVERGENCE_FACTOR = 1e6;

export const DEFAULT_BLOCK = 128;

export interface LimitOptions {
  maxIterations: number;
  /** Longest cycle looked for (≥ 1; 1 looks for fixed points only). */
  maxPeriod: number;
  /** Missing entries take DEFAULT_TOLERANCES. */
  tol?: Partial<Tolerances>;
  /** Iterations per `iterate` call (default 128). */
  block?: number;
  /** Known points (null: no point): a trajectory within tol.match of one at the end of a block is decided. */
  targets?: readonly (Float32Array | null)[];
  /**
   * States a step-cap or diverged limit keeps (default 1): the last `tail` states of the trajectory
   * in iteration order, for callers that classify what an undecided trajectory was doing (shadowing).
   */
  tail?: number;
}

/** A non-empty list of states. */
export type States = [Float32Array, ...Float32Array[]];

/**
 * Where one trajectory ended, by `outcome`. `iterations` is the step k at which it was decided.
 * `states` is never empty and its arrays are the caller's own (copies):
 *   fixed-point  [x_k], the fixed point
 *   cycle        [x_{k−p+1}, …, x_k], one period in iteration order
 *   target       [x_k], the state within tolerance of targets[target]
 *   diverged     [x_{k−1}], the last finite state below the bound (the start when k = 1);
 *                k = 0 and [x_0] when the start itself was non-finite or beyond the bound
 *   step-cap     [x_k], the state at the cap
 * With `tail` = m > 1, diverged and step-cap keep up to m states [x_{k−m+1}, …, x_k] (diverged:
 * ending at x_{k−1}), in iteration order; the last one is the state above.
 * `period` is 1 for a fixed point, p for a cycle, 0 otherwise.
 */
export type Limit = FixedPoint | Cycle | TargetReached | Diverged | StepCap;

export interface FixedPoint { outcome: 'fixed-point'; iterations: number; period: 1; states: States }
export interface Cycle { outcome: 'cycle'; iterations: number; period: number; states: States }
export interface TargetReached { outcome: 'target'; iterations: number; period: 0; target: number; states: States }
export interface Diverged { outcome: 'diverged'; iterations: number; period: 0; states: States }
export interface StepCap { outcome: 'step-cap'; iterations: number; period: 0; states: States }

export type Converged = FixedPoint | Cycle;
export type LimitOutcome = Limit['outcome'];

export function isConverged(l: Limit): l is Converged {
  return l.outcome === 'fixed-point' || l.outcome === 'cycle';
}

/** The latest state the search saw of this trajectory (for 'diverged': the last finite one). */
export function lastState(l: Limit): Float32Array {
  return l.states[l.states.length - 1];
}

/** State of a fixed point or cycle at iteration m ≥ iterations − period + 1 (the cycle runs on). */
export function stateAt(l: Converged, m: number): Float32Array {
  const first = l.iterations - l.period + 1;
  if (m < first) throw new RangeError(`iteration ${m} is before the limit was reached (${first})`);
  return l.states[(m - first) % l.period];
}

/** Index of the nearest target within tol·max(‖t‖, 1) of x; −1 when none is (null targets never match). */
export function matchTarget(x: Float32Array, targets: readonly (Float32Array | null)[], tol: number): number {
  let best = -1, bd = Infinity;
  targets.forEach((t, j) => {
    if (!t) return;
    const lim = tol * Math.max(norm(t), 1);
    const d2 = dist2Within(x, t, lim * lim);
    if (d2 <= lim * lim && d2 < bd) [best, bd] = [j, d2];
  });
  return best;
}

/**
 * How a run of states (a limit's period, or the tail of a trajectory that never repeated) shadows
 * stored sequences: each state's nearest frame and the PSNR against it; for each frame the best PSNR
 * at which some state passed it; and whether consecutive close states advance frame i → succ[i].
 */
export interface Shadow {
  /** Per state: global index of the nearest frame (−1 for a non-finite state) and the PSNR against it. */
  nearest: number[];
  psnr: number[];
  /** Per frame: the best PSNR at which a state came to it (−∞ when none was finite) and that state's index. */
  best: number[];
  bestState: number[];
  /** States within minPsnr of their nearest frame. */
  close: number;
  /** Per frame: whether it is the nearest frame of a state within minPsnr (is passed). */
  passed: boolean[];
  /** Frames passed. */
  coverage: number;
  /**
   * Consecutive pairs of close states (with `cyclic`, the last → first pair too); how many advanced
   * i → succ[i]; how many went forward by at most two frames (stayed, advanced, or skipped one).
   */
  pairs: number;
  advanced: number;
  forward: number;
}

/**
 * Shadowing of `states` (in iteration order) against `frames`; succ[i] is the frame that follows
 * frame i in its sequence. PSNR uses `peak` (1 for pixels in [0,1], 2 for audio in [−1,1]).
 */
export function shadow(states: readonly Float32Array[], frames: readonly Float32Array[], succ: readonly number[], o: { minPsnr: number; peak: number; cyclic: boolean }): Shadow {
  const nearestOf: number[] = [], ps: number[] = [];
  const best = frames.map(() => -Infinity), bestState = frames.map(() => -1), passed = frames.map(() => false);
  for (const [s, x] of states.entries()) {
    let j = -1, bp = -Infinity;
    frames.forEach((f, i) => {
      const v = psnr(x, f, o.peak);
      if (!Number.isFinite(v) && v !== Infinity) return; // NaN: a non-finite state passes nothing
      if (v > bp) [j, bp] = [i, v];
      if (v > best[i]) [best[i], bestState[i]] = [v, s];
    });
    // a state passes its nearest frame only: one blurred or quiet state within the threshold of
    // many frames (near-silence is within 20 dB of every second of quiet speech) passes one of them
    if (j >= 0 && bp >= o.minPsnr) passed[j] = true;
    nearestOf.push(j);
    ps.push(bp);
  }
  const isClose = (s: number) => nearestOf[s] >= 0 && ps[s] >= o.minPsnr;
  let pairs = 0, advanced = 0, forward = 0;
  const last = o.cyclic ? states.length : states.length - 1;
  for (let s = 0; s < last; s++) {
    const t = (s + 1) % states.length;
    if (!isClose(s) || !isClose(t)) continue;
    pairs++;
    const [i, j] = [nearestOf[s], nearestOf[t]];
    if (succ[i] === j) advanced++;
    if (i === j || succ[i] === j || succ[succ[i]] === j) forward++;
  }
  return {
    nearest: nearestOf, psnr: ps, best, bestState, pairs, advanced, forward,
    close: states.filter((_, s) => isClose(s)).length,
    passed, coverage: passed.filter(Boolean).length,
  };
}

export class LimitSearchCancelled extends Error {
  constructor(readonly iterations: number) {
    super(`limit search cancelled after ${iterations} iterations`);
    this.name = 'LimitSearchCancelled';
  }
}

/** Find the limit of every start; yields to the event loop between blocks. */
export async function findLimits(
  map: IteratedMap, starts: readonly Float32Array[], o: LimitOptions, cancelled: () => boolean = () => false, progress?: (iterations: number) => void,
): Promise<Limit[]> {
  const search = new LimitSearch(map, starts, o);
  while (!search.done) {
    if (cancelled()) throw new LimitSearchCancelled(search.iterations);
    search.advance();
    progress?.(search.iterations);
    if (!search.done) await new Promise<void>((r) => setImmediate(r));
  }
  return search.limits();
}

/** findLimits without yielding (and without cancellation). */
export function findLimitsSync(map: IteratedMap, starts: readonly Float32Array[], o: LimitOptions): Limit[] {
  const search = new LimitSearch(map, starts, o);
  while (!search.done) search.advance();
  return search.limits();
}

/** One undecided trajectory: its index, the last maxPeriod+1 states, and the repeat streak per period. */
interface Track {
  index: number;
  /** The last max(maxPeriod + 1, tail) states. */
  hist: Float32Array[];
  streak: Int32Array;
}

/** The search, one block at a time: `advance()` until `done`, then `limits()`. */
export class LimitSearch {
  private readonly d: number;
  private readonly tol: Tolerances;
  private readonly block: number;
  private readonly bound: number;
  private readonly keep: number;
  private readonly tail: number;
  private readonly out: (Limit | undefined)[];
  private active: Track[] = [];
  private k = 0;

  constructor(private readonly map: IteratedMap, starts: readonly Float32Array[], private readonly o: LimitOptions) {
    const d = (this.d = map.spec.dim);
    if (!(o.maxIterations >= 0) || !(o.maxPeriod >= 1)) throw new RangeError(`need maxIterations ≥ 0 and maxPeriod ≥ 1 (got ${o.maxIterations}, ${o.maxPeriod})`);
    starts.forEach((s, i) => {
      if (s.length !== d) throw new RangeError(`start ${i} has ${s.length} values; the map has d = ${d}`);
    });
    this.tol = { ...DEFAULT_TOLERANCES, ...o.tol };
    this.block = Math.max(1, Math.floor(o.block ?? DEFAULT_BLOCK));
    const norms = [...starts, ...(o.targets ?? [])].map((x) => (x ? norm(x) : 0)).filter(Number.isFinite);
    this.bound = DIVERGENCE_FACTOR * Math.max(1, ...norms);
    this.tail = Math.max(1, Math.floor(o.tail ?? 1));
    this.keep = Math.max(o.maxPeriod + 1, this.tail);
    this.out = starts.map(() => undefined);
    starts.forEach((s, i) => {
      const x0 = s.slice();
      if (!(norm(x0) <= this.bound)) this.out[i] = { outcome: 'diverged', iterations: 0, period: 0, states: [x0] };
      else if (o.maxIterations === 0) this.out[i] = { outcome: 'step-cap', iterations: 0, period: 0, states: [x0] };
      else this.active.push({ index: i, hist: [x0], streak: new Int32Array(o.maxPeriod + 1) });
    });
  }

  get done(): boolean {
    return this.active.length === 0;
  }

  /** Iterations the batch has gone through so far. */
  get iterations(): number {
    return this.k;
  }

  /** Trajectories not decided yet. */
  get undecided(): number {
    return this.active.length;
  }

  /** One `iterate` call of up to `block` steps for every undecided trajectory. */
  advance(): void {
    if (this.done) return;
    const { d, o } = this;
    const n = this.active.length;
    const steps = Math.min(this.block, o.maxIterations - this.k);
    const packed = new Float32Array(n * d);
    this.active.forEach((t, r) => packed.set(t.hist[t.hist.length - 1], r * d));
    const traj = this.map.iterate(packed, steps);
    if (traj.length < steps * n * d) throw new RangeError(`iterate returned ${traj.length} values for ${steps} steps of ${n} starts of d = ${d}`);
    const end = this.k + steps;
    const still: Track[] = [];
    this.active.forEach((t, r) => {
      let decided = false;
      for (let s = 0; s < steps && !decided; s++) decided = this.step(t, traj.subarray((s * n + r) * d, (s * n + r + 1) * d), this.k + s + 1);
      if (!decided && o.targets) {
        const x = t.hist[t.hist.length - 1];
        const j = matchTarget(x, o.targets, this.tol.match);
        if (j >= 0) decided = this.finish(t, { outcome: 'target', iterations: end, period: 0, target: j, states: [x.slice()] });
      }
      if (!decided && end >= o.maxIterations) decided = this.finish(t, { outcome: 'step-cap', iterations: end, period: 0, states: this.tailOf(t.hist) });
      if (!decided) still.push(t);
    });
    this.k = end;
    this.active = still;
  }

  /** Every start's limit, in the order of the starts (once `done`). */
  limits(): Limit[] {
    if (!this.done) throw new Error(`limits() before the search is done (${this.active.length} undecided)`);
    return this.out as Limit[];
  }

  /** Take state x = x_k of trajectory t; true when that decides it. */
  private step(t: Track, x: Float32Array, k: number): boolean {
    const { hist, streak } = t;
    const nx = norm(x);
    if (!(nx <= this.bound)) return this.finish(t, { outcome: 'diverged', iterations: k, period: 0, states: this.tailOf(hist) });
    hist.push(x);
    if (hist.length > this.keep) hist.shift();
    const scale = Math.max(nx, 1), h = hist.length;
    for (let p = 1; p <= this.o.maxPeriod && p < h; p++) {
      const lim = (p === 1 ? this.tol.step : this.tol.cycle) * scale;
      streak[p] = dist2Within(x, hist[h - 1 - p], lim * lim) <= lim * lim ? streak[p] + 1 : 0;
      if (streak[p] < p) continue;
      if (p === 1) return this.finish(t, { outcome: 'fixed-point', iterations: k, period: 1, states: [x.slice()] });
      const states = hist.slice(h - p);
      const cl = this.tol.cycle * scale;
      if (states.every((y, j) => j === 0 || dist2Within(y, states[j - 1], cl * cl) <= cl * cl)) continue;
      return this.finish(t, { outcome: 'cycle', iterations: k, period: p, states: states.map((y) => y.slice()) as States });
    }
    return false;
  }

  /** Copies of the last `tail` states of a history, in iteration order. */
  private tailOf(hist: Float32Array[]): States {
    return hist.slice(-this.tail).map((y) => y.slice()) as States;
  }

  private finish(t: Track, l: Limit): true {
    this.out[t.index] = l;
    return true;
  }
}

/** ‖a − b‖², or some value > limit2 as soon as the partial sum passes it (NaN stays NaN). */
function dist2Within(a: Float32Array, b: Float32Array, limit2: number): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const e = a[i] - b[i];
    s += e * e;
    if (s > limit2) return s;
  }
  return s;
}
