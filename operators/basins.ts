/**
 * basins: for 2-D data, where does every point of the plane go? A size×size grid around the
 * training points is iterated as one batch to its limits; each cell is coloured by the training
 * point whose stored pattern its limit reaches (for a cycle: the point reached after a whole number
 * of periods, i.e. the phase), −1 for another limit or none, −2 for diverged. The vector field
 * f(x) − x on a coarser grid comes along for the plot (docs/math.md §6).
 *
 *   points:  --P|            (P = { map, points, objective, stored })
 *   basins:  ----B|          (B = basins event)
 *
 * @example
 *   of({ map: model, points, objective: 'autoencode', stored }).pipe(basins({ runId }))
 */
import { Observable, type OperatorFunction, mergeMap } from 'rxjs';
import type { BasinsEvent } from '../events.ts';
import { LimitSearch, matchTarget, stateAt, type IteratedMap } from '../engine/limits.ts';

export interface BasinsInput {
  map: IteratedMap;
  /** Training points, each of length 2. */
  points: Float32Array[];
  objective: 'autoencode' | 'cycle';
  /** cycle: the points form consecutive sequences of these lengths, each its own cycle (default: one sequence of all). */
  sequences?: number[];
  /** Stored patterns x*_i (the limits from the points themselves); the points when absent or null. */
  stored?: (Float32Array | null)[];
}

export interface BasinsOptions {
  runId: string;
  step?: number;
  /** Cells per side (default 100). */
  size?: number;
  /** Arrows per side of the vector field (default 20). */
  fieldSize?: number;
  /** Iterations per grid point (default 1000; rounded up to a multiple of the cycle length). */
  steps?: number;
  /** The grid spans the points' bounding box widened by this fraction of its extent on each side (default 0.5). */
  margin?: number;
  /** A limit reaches x*_i when within tol·max(‖x*_i‖, 1) (default 1e-2). */
  tolMatch?: number;
}

const BLOCK = 100;

export function basins(opts: BasinsOptions): OperatorFunction<BasinsInput, BasinsEvent> {
  return mergeMap((input) => new Observable<BasinsEvent>((sub) => {
    const t = setImmediate(() => {
      try {
        sub.next(computeBasins(input, opts));
        sub.complete();
      } catch (e) {
        sub.error(e);
      }
    });
    return () => clearImmediate(t);
  }));
}

export function computeBasins(input: BasinsInput, opts: BasinsOptions): BasinsEvent {
  if (input.map.spec.dim !== 2) throw new Error(`basins need 2-D data; this map has d = ${input.map.spec.dim}`);
  const size = opts.size ?? 100, fieldSize = opts.fieldSize ?? 20, margin = opts.margin ?? 0.5, tol = opts.tolMatch ?? 1e-2;
  const n = input.points.length;
  const lengths = input.objective === 'cycle' ? input.sequences ?? [n] : [];
  // every cycle is back at its own phase after the lcm of the lengths
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const period = lengths.reduce((p, l) => (p * l) / gcd(p, l), 1);
  const steps = Math.ceil((opts.steps ?? 1000) / period) * period;
  const xs = input.points.map((p) => p[0]), ys = input.points.map((p) => p[1]);
  const span = (v: number[]) => {
    const lo = Math.min(...v), hi = Math.max(...v), pad = Math.max((hi - lo) * margin, 0.5);
    return [lo - pad, hi + pad];
  };
  const [x0, x1] = span(xs), [y0, y1] = span(ys);
  // cell centres, row-major from (x0, y0)
  const centre = (lo: number, hi: number, m: number, k: number) => lo + ((k + 0.5) * (hi - lo)) / m;
  const grid = new Float32Array(size * size * 2);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      grid[(r * size + c) * 2] = centre(x0, x1, size, c);
      grid[(r * size + c) * 2 + 1] = centre(y0, y1, size, r);
    }
  }
  const targets = input.points.map((p, i) => input.stored?.[i] ?? p);
  // the whole grid is one batch (engine/limits.ts); blocks of steps (a multiple of the period) keep the
  // trajectory buffer small and check the targets in phase, and a cell leaves the batch once it has
  // reached a point, a fixed point or cycle, or diverged
  const search = new LimitSearch(input.map, Array.from({ length: size * size }, (_, q) => grid.subarray(q * 2, q * 2 + 2)), {
    maxIterations: steps, maxPeriod: Math.max(2 * period, 8), block: Math.ceil(BLOCK / period) * period, targets, tol: { match: tol },
  });
  while (!search.done) search.advance();
  const done = search.iterations;
  const limits = search.limits();
  const labels = limits.map((l): number => {
    switch (l.outcome) {
      case 'target':
        return l.target;
      case 'fixed-point':
      case 'cycle':
        // a cycle's state at a whole number of periods of the training cycle: the phase
        return matchTarget(stateAt(l, Math.ceil((l.iterations - l.period + 1) / period) * period), targets, tol);
      case 'step-cap':
        return matchTarget(l.states[0], targets, tol);
      case 'diverged':
        return -2;
    }
  });
  // f(x) − x on a coarse grid
  const coarse = new Float32Array(fieldSize * fieldSize * 2);
  for (let r = 0; r < fieldSize; r++) {
    for (let c = 0; c < fieldSize; c++) {
      coarse[(r * fieldSize + c) * 2] = centre(x0, x1, fieldSize, c);
      coarse[(r * fieldSize + c) * 2 + 1] = centre(y0, y1, fieldSize, r);
    }
  }
  const fx = input.map.iterate(coarse, 1);
  const field: [number, number, number, number][] = [];
  for (let q = 0; q < fieldSize * fieldSize; q++) {
    field.push([coarse[2 * q], coarse[2 * q + 1], fx[2 * q] - coarse[2 * q], fx[2 * q + 1] - coarse[2 * q + 1]]);
  }
  // the settled limits that match no training point, each once (a cycle by the first state that is not yet listed)
  const spurious: { limits: [number, number][]; periods: number[]; cells: number } = { limits: [], periods: [], cells: 0 };
  limits.forEach((l, q) => {
    if (labels[q] !== -1 || (l.outcome !== 'fixed-point' && l.outcome !== 'cycle')) return;
    spurious.cells++;
    const known = l.states.slice(0, l.period).some((x) => matchTarget(x, spurious.limits.map((p) => Float32Array.from(p)), tol) >= 0);
    if (!known) {
      spurious.limits.push([l.states[0][0], l.states[0][1]]);
      spurious.periods.push(l.period);
    }
  });
  const share: Record<string, number> = {};
  for (const l of labels) {
    const key = l === -2 ? 'diverged' : l === -1 ? 'none' : String(l);
    share[key] = (share[key] ?? 0) + 1 / labels.length;
  }
  return {
    kind: 'basins', runId: opts.runId, step: opts.step ?? 0, time: Date.now(), objective: input.objective,
    points: input.points.map((p) => [p[0], p[1]]), grid: { size, x0, x1, y0, y1 }, labels, field, steps: done, share,
    ...(input.sequences && input.objective === 'cycle' ? { sequences: input.sequences } : {}), spurious,
  };
}

/** The grid cell that contains (x, y), as an index into `labels` (−1 outside the grid). */
export function cellOf(g: BasinsEvent['grid'], x: number, y: number): number {
  const c = Math.floor(((x - g.x0) / (g.x1 - g.x0)) * g.size), r = Math.floor(((y - g.y0) / (g.y1 - g.y0)) * g.size);
  return c < 0 || r < 0 || c >= g.size || r >= g.size ? -1 : r * g.size + c;
}
