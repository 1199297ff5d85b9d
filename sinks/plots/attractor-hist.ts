/**
 * Histograms of the attractor monitor (docs/math.md §5) from the newest `attractor-monitor` event: ρ per
 * example/cycle (the attractor threshold ρ = 1 drawn as a rule) and the pooled top 1% of |λ|.
 */
import type { AttractorMonitorEvent, EngramEvent, Histogram } from '../../events.ts';
import type { PlotSpec } from '../plot.ts';

const newest = (events: EngramEvent[]): AttractorMonitorEvent | null =>
  (events.filter((e) => e.kind === 'attractor-monitor') as AttractorMonitorEvent[]).at(-1) ?? null;

function histSpec(h: Histogram, title: string, subtitle: string, x: string): PlotSpec {
  const values = h.counts.map((count, i) => ({ lo: h.edges[i], hi: h.edges[i + 1], count }));
  return {
    width: 420, height: 220, title: { text: title, subtitle },
    layer: [
      {
        data: { values },
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          x: { field: 'lo', type: 'quantitative', bin: { binned: true }, title: x },
          x2: { field: 'hi' },
          y: { field: 'count', type: 'quantitative', title: 'count' },
        },
      },
      { data: { values: [{ one: 1 }] }, mark: { type: 'rule', color: '#e45756', strokeDash: [4, 3] }, encoding: { x: { field: 'one', type: 'quantitative' } } },
    ],
  } as PlotSpec;
}

const where = (e: AttractorMonitorEvent) =>
  `${e.phase === 'inspect' ? 'checkpoint' : 'training'} step ${e.step}, ${e.method}`;

/** ρ over the certified examples (or cycles); null without a monitor event. */
export function rhoHistSpec(events: EngramEvent[]): PlotSpec | null {
  const e = newest(events);
  return e && histSpec(e.rhoHist, `spectral radius ρ: ${e.attractors}/${e.n} attractors`, where(e), 'ρ (attractor when < 1)');
}

/** The pooled top 1% of |λ|; null without a monitor event. */
export function topEigHistSpec(events: EngramEvent[]): PlotSpec | null {
  const e = newest(events);
  return e && histSpec(e.topEigHist, 'largest |λ|, pooled', `${e.pooled}; ${where(e)}`, '|λ|');
}
