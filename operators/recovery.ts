/**
 * recovery: probe the memory around what recall stored (docs/math.md §6). Corrupt training samples
 * (additive uniform noise, coloured squares, masked elements) at several levels, iterate each
 * corrupted sample to its limit and count how often it is the right stored pattern, next to the 1-NN
 * baseline (is the nearest training sample the right one?) on exactly the same corrupted inputs.
 * Pure U[0,1] and N(0, σ²) probes are counted too. Every converged limit that matches no stored
 * pattern is a spurious memory: they are deduplicated and certified with the eigen test.
 *
 *   recalled:  --I|           (I = { map, sequences, stored patterns, … })
 *   recovery:  -----O|        (O = { recovery event, spurious event, spurious limits })
 *
 * All probes go through the map as one batch (`settle`, on engine/limits.ts), `block` steps per
 * `iterate` call; probes leave the batch as soon as they are decided, so the cost is bounded by
 * trials × levels × cap.
 *
 * @example
 *   of({ map: model, sequences, objective: 'autoencode', stored: out.stored }).pipe(recovery({ runId }))
 */
import { cancellable } from './cancellable.ts';
import { type OperatorFunction, mergeMap } from 'rxjs';
import type { RecoveryConfig, RecoveryEvent, RecoveryLevel, RecoveryNoise, SpuriousEvent, SpuriousItem } from '../events.ts';
import { DEFAULT_TOLERANCES, findLimits, lastState, matchTarget, type IteratedMap } from '../engine/limits.ts';
import { Rng } from '../engine/random.ts';
import { dist, nearest, norm } from '../engine/vectors.ts';

export type Corruption = 'noise' | 'squares' | 'mask';

/** Layout of a sample as an image (audio: width = samples, height = channels = 1). */
export interface FrameShape {
  width: number;
  height: number;
  channels: number;
}

/** The eigen test of a fixed point (one point) or a cycle (its points in iteration order). */
export type Certify = (points: Float32Array[]) => { rho: number; attractor: boolean };

export interface RecoveryInput {
  map: IteratedMap;
  sequences: Float32Array[][];
  objective: 'autoencode' | 'cycle' | 'multi-cycle';
  /** Stored pattern x*_i of every sample (recall's output); null where none stands for x_i. */
  stored: (Float32Array | null)[];
  /** How to lay a sample out for the squares corruption (default: one row of d values). */
  frame?: FrameShape;
  certify?: Certify;
  /** Held-out inputs to probe for spurious attractors, if any. */
  heldOut?: Float32Array[];
}

/** The sweep's settings (events.ts: what run-start records of them) and where its events belong. */
export type RecoveryOptions = RecoveryConfig & { runId: string; step?: number };

export interface RecoveryOutput {
  recovery: RecoveryEvent;
  spurious: SpuriousEvent;
  /** The states of each spurious limit, in the order of `spurious.items`. */
  spuriousLimits: Float32Array[][];
}

// ---------------------------------------------------------------- corruptions

/** x + U[−level, level] elementwise. */
export function addUniformNoise(x: Float32Array, level: number, rng: Rng): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + level * (2 * rng.next() - 1);
  return out;
}

/** Exactly round(fraction·d) elements, chosen without replacement, set to 0 (or U[0,1]). */
export function maskFraction(x: Float32Array, fraction: number, rng: Rng, fill: 'zero' | 'noise' = 'zero'): { x: Float32Array; masked: number[] } {
  const d = x.length, m = Math.round(Math.min(Math.max(fraction, 0), 1) * d);
  const idx = Array.from({ length: d }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    // partial Fisher–Yates: the first m entries are a uniform sample
    const j = i + Math.floor(rng.next() * (d - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const out = x.slice(), masked = idx.slice(0, m).sort((a, b) => a - b);
  for (const i of masked) out[i] = fill === 'zero' ? 0 : rng.next();
  return { x: out, masked };
}

/** k squares of side s (clipped to the image), each filled with one random colour, at random places inside the image. */
export function colouredSquares(x: Float32Array, k: number, side: number, f: FrameShape, rng: Rng): { x: Float32Array; boxes: { x0: number; y0: number; w: number; h: number }[] } {
  const out = x.slice(), boxes: { x0: number; y0: number; w: number; h: number }[] = [];
  const w = Math.min(side, f.width), h = Math.min(side, f.height);
  for (let q = 0; q < k; q++) {
    const x0 = Math.floor(rng.next() * (f.width - w + 1)), y0 = Math.floor(rng.next() * (f.height - h + 1));
    const colour = Array.from({ length: f.channels }, () => rng.next());
    for (let y = y0; y < y0 + h; y++) {
      for (let xx = x0; xx < x0 + w; xx++) {
        for (let c = 0; c < f.channels; c++) out[(y * f.width + xx) * f.channels + c] = colour[c];
      }
    }
    boxes.push({ x0, y0, w, h });
  }
  return { x: out, boxes };
}

export function corrupt(x: Float32Array, kind: Corruption, level: number, rng: Rng, o: { frame?: FrameShape; squareSide?: number; maskFill?: 'zero' | 'noise' } = {}): Float32Array {
  if (kind === 'noise') return addUniformNoise(x, level, rng);
  if (kind === 'mask') return maskFraction(x, level, rng, o.maskFill).x;
  const f = o.frame ?? { width: x.length, height: 1, channels: 1 };
  return colouredSquares(x, level, o.squareSide ?? defaultSquareSide(f), f, rng).x;
}

export function defaultSquareSide(f: FrameShape): number {
  return Math.max(1, Math.round(Math.min(f.width, f.height) / 8));
}

/** The 1-NN baseline: index of the training example nearest to x (argmin_j ‖x − x_j‖). */
export function nearestExample(examples: Float32Array[], x: Float32Array): number {
  return nearest(examples, x).i;
}

// ---------------------------------------------------------------- batched settling

export interface Settled {
  /** stored: reached stored pattern `hit`; limit: converged to something stored matches not. */
  outcome: 'stored' | 'limit' | 'diverged' | 'step-cap';
  /** Index into `stored`: the pattern reached ('stored') or, at the step cap, the nearest one; −1 otherwise. */
  hit: number;
  /** Iterations taken when the outcome was decided. */
  iterations: number;
  /** The converged limit (its period's states in iteration order) for outcome 'limit'. */
  limit?: Float32Array[];
}

export interface SettleOptions {
  maxIterations: number;
  block: number;
  tolStep: number;
  tolCycle: number;
  tolMatch: number;
  maxPeriod: number;
}

/**
 * Iterate every start at once (engine/limits.ts, `block` steps per `iterate` call, decided starts
 * leave the batch) with the stored patterns as targets, then read each limit against them: within
 * tolMatch of a stored pattern (at a block end, or as the fixed point or cycle it reached) → stored;
 * another fixed point or cycle → a limit stored patterns do not explain; non-finite or huge →
 * diverged; otherwise the step cap, with the stored pattern it was nearest to.
 */
export async function settle(map: IteratedMap, starts: Float32Array[], stored: (Float32Array | null)[], o: SettleOptions, cancelled: () => boolean = () => false): Promise<Settled[]> {
  const limits = await findLimits(map, starts, {
    maxIterations: o.maxIterations, maxPeriod: o.maxPeriod, block: o.block, targets: stored,
    tol: { step: o.tolStep, cycle: o.tolCycle, match: o.tolMatch },
  }, cancelled);
  const pats = stored.map((s) => s ?? new Float32Array(map.spec.dim).fill(Number.NaN)); // a NaN distance is never nearest
  return limits.map((l): Settled => {
    const { iterations } = l;
    switch (l.outcome) {
      case 'target':
        return { outcome: 'stored', hit: l.target, iterations };
      case 'fixed-point':
      case 'cycle': {
        // the last state is x_iterations, so a hit here keeps the phase
        const hit = matchTarget(lastState(l), stored, o.tolMatch);
        return hit >= 0 ? { outcome: 'stored', hit, iterations } : { outcome: 'limit', hit: -1, iterations, limit: l.states };
      }
      case 'diverged':
        return { outcome: 'diverged', hit: -1, iterations };
      case 'step-cap':
        // undecided at the cap: the stored pattern it is nearest to, i.e. where it is heading
        return { outcome: 'step-cap', hit: nearest(pats, lastState(l)).i, iterations };
    }
  });
}

// ---------------------------------------------------------------- the monitor

export function recovery(opts: RecoveryOptions): OperatorFunction<RecoveryInput, RecoveryOutput> {
  return mergeMap((input) => cancellable((cancelled) => runRecovery(input, opts, cancelled)));
}

interface Probe {
  x: Float32Array;
  /** Sample corrupted (−1 for pure noise / held-out probes). */
  i: number;
  /** Group: a corruption level, or a noise source. */
  group: number;
  source: string;
}

export async function runRecovery(input: RecoveryInput, opts: RecoveryOptions, cancelled: () => boolean = () => false): Promise<RecoveryOutput> {
  const t0 = performance.now();
  const frames = input.sequences.flat();
  const n = frames.length, d = input.map.spec.dim;
  const trials = opts.trials ?? 4, nProbes = opts.probes ?? 4;
  const rng = new Rng(opts.seed ?? 11);
  const o: SettleOptions = {
    maxIterations: opts.maxIterations ?? 1000, block: opts.block ?? 64,
    tolStep: opts.tolStep ?? DEFAULT_TOLERANCES.step, tolCycle: opts.tolCycle ?? DEFAULT_TOLERANCES.cycle, tolMatch: opts.tolMatch ?? DEFAULT_TOLERANCES.match,
    maxPeriod: opts.maxPeriod ?? Math.max(2 * Math.max(...input.sequences.map((s) => s.length)), 8),
  };
  const autoencode = input.objective === 'autoencode';
  // sequence of each global index: its base and length, for "same cycle" and phase
  const seqOf: { base: number; len: number }[] = [];
  let base = 0;
  for (const s of input.sequences) {
    s.forEach(() => seqOf.push({ base, len: s.length }));
    base += s.length;
  }

  const levels: { corruption: Corruption; level: number }[] = [
    ...(opts.noise ?? [0.1, 0.3, 0.5]).map((level) => ({ corruption: 'noise' as const, level })),
    ...(opts.squares ?? [1, 4, 8]).map((level) => ({ corruption: 'squares' as const, level })),
    ...(opts.mask ?? [0.1, 0.3, 0.5]).map((level) => ({ corruption: 'mask' as const, level })),
  ];
  const probes: Probe[] = [];
  levels.forEach((lv, g) => {
    const offset = Math.floor(rng.next() * n);
    for (let t = 0; t < trials; t++) {
      const i = (offset + t) % n;
      probes.push({ x: corrupt(frames[i], lv.corruption, lv.level, rng, { frame: input.frame, squareSide: opts.squareSide, maskFill: opts.maskFill }), i, group: g, source: lv.corruption });
    }
  });
  const sigma = opts.sigma ?? 1, sigma2 = opts.spuriousSigma ?? 2;
  const noiseSources: { from: 'uniform' | 'gaussian'; sigma: number | null }[] = [
    { from: 'uniform', sigma: null }, { from: 'gaussian', sigma }, ...(sigma2 !== sigma ? [{ from: 'gaussian' as const, sigma: sigma2 }] : []),
  ];
  noiseSources.forEach((s, q) => {
    for (let t = 0; t < nProbes; t++) {
      probes.push({
        x: s.from === 'uniform' ? rng.uniformArray(d, 0, 1) : rng.normalArray(d, 0, s.sigma!),
        i: -1, group: levels.length + q, source: s.from === 'uniform' ? 'U[0,1]' : `N(0,${s.sigma! ** 2})`,
      });
    }
  });
  for (const x of input.heldOut ?? []) probes.push({ x, i: -1, group: -1, source: 'held-out' });

  const settled = await settle(input.map, probes.map((p) => p.x), input.stored, o, cancelled);

  const levelRows: RecoveryLevel[] = levels.map((lv, g) => {
    const mine = probes.map((p, q) => ({ p, s: settled[q] })).filter(({ p }) => p.group === g);
    let right = 0, phase = 0, nn = 0, spurious = 0, diverged = 0, unresolved = 0, heading = 0;
    for (const { p, s } of mine) {
      if (nearestExample(frames, p.x) === p.i) nn++;
      if (s.outcome === 'limit') spurious++;
      if (s.outcome === 'diverged') diverged++;
      const sq = seqOf[p.i];
      const isRight = (j: number) => (autoencode ? j === p.i : j >= sq.base && j < sq.base + sq.len);
      if (s.outcome === 'step-cap') {
        unresolved++;
        if (s.hit >= 0 && isRight(s.hit)) heading++;
      }
      if (s.outcome !== 'stored') continue;
      if (isRight(s.hit)) {
        right++;
        if (!autoencode && s.hit === sq.base + ((p.i - sq.base + s.iterations) % sq.len)) phase++;
      }
    }
    const t = Math.max(mine.length, 1);
    return {
      corruption: lv.corruption, level: lv.level, trials: mine.length, model: right / t, phase: autoencode ? null : phase / t, nn: nn / t,
      wrong: (mine.length - right) / t, spurious, diverged, unresolved, heading: (right + heading) / t,
    };
  });
  const noiseRows: RecoveryNoise[] = noiseSources.map((s, q) => {
    const mine = settled.filter((_, k) => probes[k].group === levels.length + q);
    const count = (w: Settled['outcome']) => mine.filter((m) => m.outcome === w).length;
    return { from: s.from, sigma: s.sigma, probes: mine.length, stored: count('stored') / Math.max(mine.length, 1), spurious: count('limit'), diverged: count('diverged'), unresolved: count('step-cap') };
  });

  // spurious memories: distinct converged limits that no stored pattern explains
  const tolDedupe = opts.tolDedupe ?? 1e-2;
  const found: { states: Float32Array[]; hits: number; from: Set<string> }[] = [];
  settled.forEach((s, k) => {
    if (s.outcome !== 'limit' || !s.limit) return;
    const same = found.find((f) => f.states.length === s.limit!.length &&
      f.states.some((y) => dist(y, s.limit![0]) <= tolDedupe * Math.max(norm(y), 1)));
    if (same) {
      same.hits++;
      same.from.add(probes[k].source);
    } else {
      found.push({ states: s.limit, hits: 1, from: new Set([probes[k].source]) });
    }
  });
  found.sort((a, b) => b.hits - a.hits);
  const maxCertified = opts.maxCertified ?? 4;
  const items: SpuriousItem[] = found.map((f, q) => {
    const near = nearest(frames, f.states[0]);
    const cert = input.certify && q < maxCertified ? input.certify(f.states) : null;
    return {
      period: f.states.length, hits: f.hits, from: [...f.from].sort(), nearest: near.i, l2Nearest: near.dist,
      rho: cert ? cert.rho : null, attractor: cert ? cert.attractor : null,
    };
  });
  const stamp = { runId: opts.runId, step: opts.step ?? 0, time: Date.now() };
  const certified = items.filter((it) => it.attractor !== null);
  return {
    recovery: {
      kind: 'recovery', ...stamp, objective: input.objective, trials, maxIterations: o.maxIterations, levels: levelRows, noise: noiseRows,
      stored: input.stored.filter((s) => s !== null).length, n, ms: performance.now() - t0,
    },
    spurious: {
      kind: 'spurious', ...stamp, probes: probes.length, count: found.length,
      attractors: certified.filter((it) => it.attractor).length, certified: certified.length, items,
    },
    spuriousLimits: found.map((f) => f.states),
  };
}
