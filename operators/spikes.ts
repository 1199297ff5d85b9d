/**
 * spikes: the online loss-spike detector of docs/math.md §7. The baseline is the minimum loss over the last
 * `window` steps; a spike starts when the loss reaches κ·baseline, its peak is tracked, and it ends
 * when the loss is back within (1+δ) of the pre-spike baseline. A NaN or Inf loss (or gradient norm)
 * is reported at once. A loss of exactly 0 is never an onset (κ·0 would make every loss one).
 *
 *   steps:  -1-1-1-5-9-4-1-|        (losses; κ = 2, δ = 0.1)
 *   spikes: -------o-----e-|        (o = onset at 5, e = end at 1: peak 9, height 9)
 *
 * @example
 *   trainSteps$.pipe(spikes({ runId, window: 50, kappa: 5, delta: 0.1 }))
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { SpikeEvent, TrainStepEvent } from '../events.ts';

export interface SpikeOptions {
  runId: string;
  /** Steps in the running-minimum baseline (default 50). */
  window?: number;
  /** Onset when loss ≥ kappa·baseline (default 5: Adam’s step-to-step noise near 1e-8 stays below). */
  kappa?: number;
  /** End when loss ≤ (1 + delta)·pre-spike baseline (default 0.1). */
  delta?: number;
}

export function spikes(opts: SpikeOptions): OperatorFunction<TrainStepEvent, SpikeEvent> {
  const window = opts.window ?? 50, kappa = opts.kappa ?? 5, delta = opts.delta ?? 0.1;
  return (source) =>
    new Observable<SpikeEvent>((sub) => {
      const recent: number[] = [];
      let open: { onsetStep: number; preLoss: number; peakLoss: number; peakStep: number } | null = null;
      const emit = (e: TrainStepEvent, phase: SpikeEvent['phase'], s: NonNullable<typeof open>, extra: Partial<SpikeEvent> = {}) =>
        sub.next({
          kind: 'spike', runId: opts.runId, step: e.step, time: e.time, phase, ...s,
          height: s.preLoss > 0 ? s.peakLoss / s.preLoss : Infinity, ...extra,
        });
      return source.subscribe({
        next: (e) => {
          const loss = e.loss;
          if (!Number.isFinite(loss) || !Number.isFinite(e.gradNorm)) {
            emit(e, 'nonfinite', { onsetStep: open?.onsetStep ?? e.step, preLoss: open?.preLoss ?? Math.min(...recent, Infinity), peakLoss: loss, peakStep: e.step });
            return;
          }
          if (open) {
            if (loss > open.peakLoss) [open.peakLoss, open.peakStep] = [loss, e.step];
            if (loss <= (1 + delta) * open.preLoss) {
              emit(e, 'end', open, { duration: e.step - open.onsetStep });
              open = null;
              recent.length = 0; // a fresh baseline after the spike
              recent.push(loss);
            }
            return;
          }
          const baseline = recent.length ? Math.min(...recent) : Infinity;
          if (loss > 0 && loss >= kappa * baseline) {
            open = { onsetStep: e.step, preLoss: baseline, peakLoss: loss, peakStep: e.step };
            emit(e, 'onset', open);
            return;
          }
          recent.push(loss);
          if (recent.length > window) recent.shift();
        },
        error: (err) => sub.error(err),
        complete: () => sub.complete(),
      });
    });
}
