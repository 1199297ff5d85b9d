/**
 * Identity heatmap (docs/math.md §9): one row per (arch, depth), one column per ρ, coloured by
 * corrI − corrC: blue where the trained map follows its input (identity, +(1−ρ) for the exact
 * identity), red where it returns the training example (constant, −(1−ρ)). Row names carry the label.
 */
import type { EngramEvent, IdentityEvent } from '../../events.ts';
import type { PlotSpec } from '../plot.ts';
import type { PlotBuilder } from './index.ts';

export function identityHeatmap(events: EngramEvent[]): PlotSpec | null {
  // the newest event per (arch, depth) wins: a re-run into the same directory replaces rows
  const latest = new Map<string, IdentityEvent>();
  for (const e of events) if (e.kind === 'identity') latest.set(`${e.arch}:${e.depth}`, e);
  if (latest.size === 0) return null;
  const probes = [...latest.values()].sort((a, b) => a.arch.localeCompare(b.arch) || a.depth - b.depth);
  const rowName = (e: IdentityEvent) => `${e.arch} depth ${e.depth}: ${e.label}`;
  const values = probes.flatMap((e) => e.rows.map((r) => ({
    row: rowName(e), rho: r.rho.toFixed(2), diff: r.corrI - r.corrC, corrI: r.corrI, corrC: r.corrC,
  })));
  const nRho = new Set(values.map((v) => v.rho)).size;
  return {
    title: { text: 'Identity probe: corrI − corrC', subtitle: 'blue: follows its input (identity) · red: returns x̂ (constant)' },
    width: Math.max(200, 36 * nRho),
    height: Math.max(60, 26 * probes.length),
    data: { values },
    encoding: {
      x: { field: 'rho', type: 'ordinal', title: 'ρ = corr(x_ρ, x̂)', axis: { labelAngle: 0 } },
      y: { field: 'row', type: 'ordinal', sort: probes.map(rowName), title: null },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: { field: 'diff', type: 'quantitative', title: 'corrI − corrC', scale: { scheme: 'redblue', domain: [-1, 1] } },
        },
      },
      { mark: { type: 'text', fontSize: 9 }, encoding: { text: { field: 'diff', type: 'quantitative', format: '.2f' } } },
    ],
  } as PlotSpec;
}

export const identityPlot: PlotBuilder = { name: 'identity', file: 'identity.png', build: identityHeatmap };
