/**
 * recovery.png: recovery rate against corruption level, one panel per corruption (uniform noise,
 * coloured squares, masked fraction), the network's rate next to the 1-NN baseline on the same
 * corrupted inputs (and, for cycles, the rate at the right phase). Built from the run's last
 * `recovery` event, so `engram plot <run-dir>` can redraw it from events.jsonl.
 */
import type { EngramEvent, RecoveryEvent } from '../../events.ts';
import type { PlotSpec } from '../plot.ts';

const METHODS = ['1-NN baseline', 'network (recall)', 'network, right phase', 'network + undecided heading right'];
const TITLES: Record<string, string> = { noise: 'uniform noise ±level', squares: 'coloured squares (count)', mask: 'masked fraction' };

export function recoveryPlotSpec(events: EngramEvent[]): PlotSpec | null {
  const e = [...events].reverse().find((x): x is RecoveryEvent => x.kind === 'recovery');
  if (!e || e.levels.length === 0) return null;
  // probes still undecided at the step cap: also show where they were heading
  const undecided = e.levels.some((l) => l.unresolved > 0);
  const rows = e.levels.flatMap((l) => [
    { corruption: TITLES[l.corruption] ?? l.corruption, level: l.level, rate: l.model, method: 'network (recall)' },
    { corruption: TITLES[l.corruption] ?? l.corruption, level: l.level, rate: l.nn, method: '1-NN baseline' },
    ...(l.phase === null ? [] : [{ corruption: TITLES[l.corruption] ?? l.corruption, level: l.level, rate: l.phase, method: 'network, right phase' }]),
    ...(undecided ? [{ corruption: TITLES[l.corruption] ?? l.corruption, level: l.level, rate: l.heading ?? l.model, method: METHODS[3] }] : []),
  ]);
  const methods = [METHODS[0], METHODS[1], ...(e.levels.some((l) => l.phase !== null) ? [METHODS[2]] : []), ...(undecided ? [METHODS[3]] : [])];
  const colours: Record<string, string> = { [METHODS[0]]: '#888888', [METHODS[1]]: '#e45756', [METHODS[2]]: '#4c78a8', [METHODS[3]]: '#f2b447' };
  return {
    title: `recovery from corrupted samples (${e.objective}, ${e.trials} trials per level)`,
    data: { values: rows },
    facet: { column: { field: 'corruption', type: 'nominal', title: null, sort: Object.values(TITLES) } },
    spec: {
      width: 180, height: 160,
      encoding: {
        x: { field: 'level', type: 'quantitative', title: 'level' },
        y: { field: 'rate', type: 'quantitative', title: 'recovery rate', scale: { domain: [-0.02, 1.02] } },
        color: { field: 'method', type: 'nominal', title: null, scale: { domain: methods, range: methods.map((m) => colours[m]) }, legend: { labelLimit: 300 } },
      },
      // the baseline (and the undecided-heading line) underneath, dashed, so the network's line stays visible where they coincide
      layer: [
        { transform: [{ filter: `datum.method === '${METHODS[0]}' || datum.method === '${METHODS[3]}'` }], mark: { type: 'line', point: true, strokeDash: [5, 3], strokeWidth: 3 } },
        { transform: [{ filter: `datum.method !== '${METHODS[0]}' && datum.method !== '${METHODS[3]}'` }], mark: { type: 'line', point: true, strokeWidth: 2 } },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  } as PlotSpec;
}
