/**
 * The margins plot of an assoc run (docs/math.md §8), from its events: min and median margin and a few
 * tokens' margins against the step on a log axis (top), and L and the 0-1 loss (bottom).
 */
import type { EngramEvent, MarginsEvent } from '../../events.ts';
import type { PlotSpec } from '../plot.ts';

/** Tokens drawn individually: the most and least frequent few that every event lists. */
export function plotTokens(events: MarginsEvent[], count = 6): number[] {
  const listed = events.map((e) => new Set(e.tokens.map((t) => t.token)));
  const always = events[0].tokens.filter((t) => listed.every((s) => s.has(t.token))).sort((a, b) => b.p - a.p || a.token - b.token);
  if (always.length <= count) return always.map((t) => t.token);
  const head = Math.ceil(count / 2);
  return [...always.slice(0, head), ...always.slice(always.length - (count - head))].map((t) => t.token);
}

export function marginsPlot(all: EngramEvent[]): PlotSpec | null {
  const events = all.filter((e): e is MarginsEvent => e.kind === 'margins' && e.step >= 1);
  if (events.length < 2) return null;
  const tokens = new Set(plotTokens(events));
  const rows: { step: number; series: string; margin: number; width: number }[] = [];
  const losses: { step: number; series: string; value: number }[] = [];
  for (const e of events) {
    rows.push({ step: e.step, series: 'min', margin: e.min, width: 2.5 }, { step: e.step, series: 'median', margin: e.median, width: 2.5 });
    for (const t of e.tokens) if (tokens.has(t.token)) rows.push({ step: e.step, series: `token ${t.token} (p=${t.p.toPrecision(2)})`, margin: t.margin, width: 1 });
    losses.push({ step: e.step, series: 'L (cross-entropy)', value: e.loss }, { step: e.step, series: 'L01 (0-1 loss)', value: e.loss01 });
  }
  const x = { field: 'step', type: 'quantitative', scale: { type: 'log', nice: false }, title: 'step (log)' } as const;
  return {
    title: `margins m_x = s(x, f*(x)) − max_{y≠f*(x)} s(x, y) (N=${events[0].n}, M=${events[0].m})`,
    resolve: { scale: { color: 'independent' } },
    vconcat: [
      {
        width: 560, height: 260,
        data: { values: rows },
        mark: { type: 'line', clip: true },
        encoding: {
          x,
          y: { field: 'margin', type: 'quantitative', title: 'margin' },
          color: { field: 'series', type: 'nominal', title: null },
          strokeWidth: { field: 'width', type: 'quantitative', scale: null, legend: null },
        },
      },
      {
        width: 560, height: 140,
        data: { values: losses },
        mark: { type: 'line', clip: true },
        encoding: { x, y: { field: 'value', type: 'quantitative', title: 'loss' }, color: { field: 'series', type: 'nominal', title: null } },
      },
    ],
  } as PlotSpec;
}
