/**
 * The loss curve with its spikes marked, as a Vega-Lite spec built from a run's events (so
 * `engram plot <run-dir>` can rebuild it from events.jsonl and render it with sinks/plot.ts):
 * log-scale loss per step from the train-step events, spike onsets (▲) and peaks (●) from the spike
 * events, a vertical rule at each NaN/Inf, and the stability ratio r in the tooltip of a marker at
 * each stability event when there are any.
 *
 * @example
 *   const spec = lossPlotSpec(events);
 *   if (spec) await writePlot(join(runDir, 'loss.png'), spec);
 */
import type { EngramEvent, SpikeEvent, StabilityEvent, TrainStepEvent } from '../../events.ts';
import type { PlotSpec } from '../plot.ts';

export interface LossPlotOptions {
  /** Plot at most this many loss points (evenly strided; spike steps always kept). Default 4000. */
  maxPoints?: number;
  width?: number;
  height?: number;
  title?: string;
}

/** null when the events hold no finite, positive training loss to plot. */
export function lossPlotSpec(events: readonly EngramEvent[], opts: LossPlotOptions = {}): PlotSpec | null {
  const maxPoints = opts.maxPoints ?? 4000;
  const steps = events.filter((e): e is TrainStepEvent => e.kind === 'train-step' && Number.isFinite(e.loss) && e.loss > 0);
  if (steps.length === 0) return null;
  const spikes = events.filter((e): e is SpikeEvent => e.kind === 'spike');
  const stab = events.filter((e): e is StabilityEvent => e.kind === 'stability');
  const keep = new Set(spikes.flatMap((s) => [s.onsetStep, s.peakStep, s.step]));
  const stride = Math.max(1, Math.ceil(steps.length / maxPoints));
  const loss = steps.filter((e, i) => i % stride === 0 || i === steps.length - 1 || keep.has(e.step)).map((e) => ({ step: e.step, loss: e.loss }));
  const lossAt = new Map(steps.map((e) => [e.step, e.loss]));
  const marks = spikes.flatMap((s) => {
    if (s.phase === 'onset') {
      const l = lossAt.get(s.onsetStep);
      return l ? [{ step: s.onsetStep, loss: l, what: 'spike onset', height: s.height }] : [];
    }
    if (s.phase === 'end' && Number.isFinite(s.peakLoss) && s.peakLoss > 0) {
      return [{ step: s.peakStep, loss: s.peakLoss, what: 'spike peak', height: s.height }];
    }
    return [];
  });
  const nonfinite = spikes.filter((s) => s.phase === 'nonfinite').map((s) => ({ step: s.step, what: 'NaN/Inf' }));
  const ratios = stab.flatMap((s) => {
    const l = lossAt.get(s.step) ?? lossAt.get(s.step + 1);
    return l ? [{ step: s.step, loss: l, r: s.ratio ?? 'n/a', lambdaMax: s.lambdaMax, trigger: s.trigger }] : [];
  });

  const x = { field: 'step', type: 'quantitative', title: 'step' } as const;
  const y = { field: 'loss', type: 'quantitative', title: 'loss (MSE, log scale)', scale: { type: 'log' } } as const;
  const layers: object[] = [
    { data: { values: loss }, mark: { type: 'line', color: '#1f77b4', strokeWidth: 1 }, encoding: { x, y } },
  ];
  if (marks.length) {
    layers.push({
      data: { values: marks },
      mark: { type: 'point', filled: true, size: 70 },
      encoding: {
        x, y,
        shape: { field: 'what', type: 'nominal', scale: { domain: ['spike onset', 'spike peak'], range: ['triangle-up', 'circle'] }, title: null },
        color: { field: 'what', type: 'nominal', scale: { domain: ['spike onset', 'spike peak'], range: ['#d62728', '#ff7f0e'] }, title: null },
        tooltip: [{ field: 'what' }, { field: 'step' }, { field: 'loss' }, { field: 'height', title: 'peak / pre-spike' }],
      },
    });
  }
  if (nonfinite.length) {
    layers.push({
      data: { values: nonfinite },
      mark: { type: 'rule', color: '#9467bd', strokeDash: [4, 3], strokeWidth: 2 },
      encoding: { x, tooltip: [{ field: 'what' }, { field: 'step' }] },
    });
  }
  if (ratios.length) {
    layers.push({
      data: { values: ratios },
      mark: { type: 'tick', color: '#2ca02c', thickness: 2 },
      encoding: { x, y, tooltip: [{ field: 'trigger' }, { field: 'step' }, { field: 'r', title: 'r = a·η·λ_max/2' }, { field: 'lambdaMax', title: 'λ_max(K)' }] },
    });
  }
  const n = spikes.filter((s) => s.phase === 'onset').length;
  return {
    title: opts.title ?? `training loss — ${n} spike${n === 1 ? '' : 's'}${nonfinite.length ? ', stopped at NaN/Inf' : ''}`,
    width: opts.width ?? 640,
    height: opts.height ?? 320,
    layer: layers,
  } as PlotSpec;
}
