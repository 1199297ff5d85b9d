/**
 * The plots `engram plot <run-dir>` can rebuild from a run's events. Each builder is a pure function
 * from the events (and the run directory, for builders that need its files) to a Vega-Lite spec, or
 * null when the run has no events for it. Adding a plot: one import and one entry in PLOT_BUILDERS.
 */
import { join } from 'node:path';
import type { EngramEvent } from '../../events.ts';
import { writePlot, type PlotSpec } from '../plot.ts';
import { rhoHistSpec, topEigHistSpec } from './attractor-hist.ts';
import { basinsPlotSpec } from './basins.ts';
import { identityPlot } from './identity.ts';
import { lossPlotSpec } from './loss.ts';
import { marginsPlot } from './margins.ts';
import { recoveryPlotSpec } from './recovery.ts';

export interface PlotBuilder {
  /** Short name, as listed by `engram plot`. */
  name: string;
  /** File written into the run directory. */
  file: string;
  build(events: EngramEvent[], runDir: string): PlotSpec | null;
}

export const PLOT_BUILDERS: PlotBuilder[] = [
  { name: 'loss', file: 'loss.png', build: (events) => lossPlotSpec(events) },
  { name: 'rho-hist', file: 'rho-hist.png', build: (events) => rhoHistSpec(events) },
  { name: 'top-eig-hist', file: 'top-eig-hist.png', build: (events) => topEigHistSpec(events) },
  { name: 'margins', file: 'margins.png', build: (events) => marginsPlot(events) },
  { name: 'recovery', file: 'recovery.png', build: (events) => recoveryPlotSpec(events) },
  { name: 'basins', file: 'basins.png', build: (events) => basinsPlotSpec(events) },
  identityPlot,
];

/**
 * Write every plot whose events are present into `runDir`: what was written and, per plot that
 * could not be drawn, why (one bad plot does not stop the others).
 */
export async function writePlots(
  events: EngramEvent[], runDir: string, builders: readonly PlotBuilder[] = PLOT_BUILDERS,
): Promise<{ written: { name: string; path: string }[]; failed: { name: string; error: string }[] }> {
  const written: { name: string; path: string }[] = [];
  const failed: { name: string; error: string }[] = [];
  for (const b of builders) {
    try {
      const spec = b.build(events, runDir);
      if (spec) written.push({ name: b.name, path: await writePlot(join(runDir, b.file), spec) });
    } catch (e) {
      failed.push({ name: b.name, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return { written, failed };
}

/** The plots `memorize` draws when a run completes (recovery.png is drawn by its own stage). */
export const MEMORIZE_PLOTS = PLOT_BUILDERS.filter((b) => ['loss', 'rho-hist', 'top-eig-hist'].includes(b.name));
