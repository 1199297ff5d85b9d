/**
 * basins.png: for 2-D data, the plane coloured by the training point (or cycle phase) each cell's
 * limit reaches ("none" for another limit or not settled, "diverged"), the vector field f(x) − x as
 * short segments from dots, and the training points as stars. Built from the run's last `basins`
 * event, so it can be redrawn from events.jsonl.
 */
import type { BasinsEvent, EngramEvent } from '../../events.ts';
import type { PlotSpec } from '../plot.ts';

const STAR = 'M0,-1L0.2245,-0.309L0.9511,-0.309L0.3633,0.118L0.5878,0.809L0,0.382L-0.5878,0.809L-0.3633,0.118L-0.9511,-0.309L-0.2245,-0.309Z';

export function basinsPlotSpec(events: EngramEvent[]): PlotSpec | null {
  const e = [...events].reverse().find((x): x is BasinsEvent => x.kind === 'basins');
  if (!e) return null;
  const { size, x0, x1, y0, y1 } = e.grid;
  const cw = (x1 - x0) / size, ch = (y1 - y0) / size;
  // several cycles: a cell is coloured by the cycle it reaches; one cycle: by the phase (the point reached)
  const seqOf = (l: number) => {
    let s = 0;
    for (let at = 0; s < (e.sequences?.length ?? 0) && l >= at + e.sequences![s]; s++) at += e.sequences![s];
    return s;
  };
  const several = e.objective === 'cycle' && (e.sequences?.length ?? 1) > 1;
  const name = (l: number) => (l === -2 ? 'diverged' : l === -1 ? 'none' : several ? `cycle ${seqOf(l)}` : e.objective === 'cycle' ? `phase of point ${l}` : `point ${l}`);
  const cells = e.labels.map((l, q) => {
    const r = Math.floor(q / size), c = q % size;
    return { x: x0 + c * cw, x2: x0 + (c + 1) * cw, y: y0 + r * ch, y2: y0 + (r + 1) * ch, basin: name(l) };
  });
  // segments scaled so the longest is about one coarse cell
  const fieldStep = (x1 - x0) / Math.max(Math.sqrt(e.field.length), 1);
  const longest = Math.max(1e-12, ...e.field.map(([, , dx, dy]) => Math.hypot(dx, dy)).filter(Number.isFinite));
  const k = (0.9 * fieldStep) / longest;
  const arrows = e.field.filter((f) => f.every(Number.isFinite)).map(([x, y, dx, dy]) => ({ x, y, x2: x + k * dx, y2: y + k * dy }));
  const labels = [...new Set(e.labels)].sort((a, b) => a - b);
  const palette = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
  const colour = (l: number) => (l === -2 ? '#222222' : l === -1 ? '#dddddd' : palette[(several ? seqOf(l) : l) % palette.length]);
  const named = new Map(labels.map((l) => [name(l), colour(l)]));
  const domain = [...named.keys()], range = [...named.values()];
  const xs = { field: 'x', type: 'quantitative' as const, scale: { domain: [x0, x1], nice: false, zero: false }, title: 'x₁' };
  const ys = { field: 'y', type: 'quantitative' as const, scale: { domain: [y0, y1], nice: false, zero: false }, title: 'x₂' };
  return {
    title: `basins of attraction (${e.objective}, ${e.steps} iterations per point)`,
    width: 420, height: 420,
    layer: [
      {
        data: { values: cells }, mark: { type: 'rect', opacity: 0.8 },
        encoding: { x: xs, x2: { field: 'x2' }, y: ys, y2: { field: 'y2' }, color: { field: 'basin', type: 'nominal', scale: { domain, range }, title: 'limit reached' } },
      },
      { data: { values: arrows }, mark: { type: 'rule', color: '#333333', strokeWidth: 1 }, encoding: { x: xs, y: ys, x2: { field: 'x2' }, y2: { field: 'y2' } } },
      { data: { values: arrows }, mark: { type: 'point', filled: true, size: 6, color: '#333333' }, encoding: { x: xs, y: ys } },
      ...(e.spurious?.limits.length ? [{
        data: { values: e.spurious.limits.map(([x, y], i) => ({ x, y, period: e.spurious!.periods[i] })) },
        mark: { type: 'point', shape: 'cross', filled: true, size: 160, color: '#d62728', stroke: '#000000', strokeWidth: 0.5 },
        encoding: { x: xs, y: ys },
      }] : []),
      {
        data: { values: e.points.map(([x, y], i) => ({ x, y, point: `point ${i}` })) },
        mark: { type: 'point', shape: STAR, filled: true, size: 220, color: '#ffd700', stroke: '#000000', strokeWidth: 1 },
        encoding: { x: xs, y: ys },
      },
    ],
  } as PlotSpec;
}
