/**
 * stability: the tangent-kernel stability ratio of docs/math.md §7 on a cadence. For full-batch GD on
 * L = (a/2)·Σ‖f − y‖² the loss is stable near a minimum iff η·a·λ_max(K) < 2, so it reports
 * r = a·η·λ_max(K)/2 (engram's loss is tfjs mean MSE over n·d elements: a = 2/(n·d)).
 * It measures once when subscribed (before the first step: trigger 'start'), then every `every`
 * steps and at each spike onset and end (when λ_max(K) should have dropped: a catapult), at most
 * once per step. The tensor work is the injected `probe`, so this operator is plain RxJS.
 *
 * Momentum μ (PyTorch heavy ball, p −= η·buf, buf = μ·buf + g) is stable on a quadratic of
 * curvature h iff η·h < 2(1 + μ), and weight decay ω adds ω to every curvature, so the ratio
 * generalizes to r = η·(a·λ_max + ω)/(2(1 + μ)). Adam and RMSprop rescale each coordinate by its
 * gradient history: r is reported as not applicable, λ_max once at the start, and nothing after.
 *
 *   steps:     -s-s-s-s-o-s-e-s-|     (s = train-step, o/e = spike onset/end; every = 4)
 *   stability: x------c-o---e---|     (x = start, c = cadence at step 4, o/e = around the spike)
 *
 * @example
 *   merge(steps$, spikes$).pipe(stability({ runId, every: 1000, optimizer, a, startStep: 0, probe }))
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { JvpMethod, SpikeEvent, StabilityEvent, TrainStepEvent } from '../events.ts';
import type { OptimizerSpec } from '../engine/optimizers.ts';

export interface StabilityProbe {
  /** λ_max of the tangent kernel with the model's current weights. */
  (): { lambdaMax: number; iterations: number; converged: boolean; jvp: JvpMethod; ms: number };
}

export interface StabilityOptions {
  runId: string;
  /** Measure every this many steps (0: only at the start and around spikes). */
  every: number;
  optimizer: OptimizerSpec;
  /** Loss normalization a of L = (a/2)·Σ‖f − y‖². */
  a: number;
  /** Step of the weights when subscribed (0, or the step a resumed run starts from). */
  startStep: number;
  probe: StabilityProbe;
  /** Also measure at spike onsets and ends (default true). */
  aroundSpikes?: boolean;
}

/** r for this optimizer, or why it does not apply. */
export function stabilityRatio(spec: OptimizerSpec, a: number, lambdaMax: number): {
  ratio: number | null; applicable: boolean; momentum: number; weightDecay: number; reason?: string;
} {
  const adaptive = spec.name === 'adam' || spec.name === 'rmsprop';
  const momentum = spec.name === 'momentum' || spec.name === 'momentum-wd' ? (spec.momentum ?? 0.9) : 0;
  const weightDecay = spec.weightDecay ?? (spec.name === 'momentum-wd' ? 5e-4 : 0);
  if (adaptive) {
    return {
      ratio: null, applicable: false, momentum, weightDecay,
      reason: `${spec.name} scales each parameter's step by its gradient history, so the GD threshold η·a·λ_max(K) < 2 does not apply`,
    };
  }
  return { ratio: (spec.lr * (a * lambdaMax + weightDecay)) / (2 * (1 + momentum)), applicable: true, momentum, weightDecay };
}

export function stability(opts: StabilityOptions): OperatorFunction<TrainStepEvent | SpikeEvent, StabilityEvent> {
  const aroundSpikes = opts.aroundSpikes ?? true;
  const applies = stabilityRatio(opts.optimizer, opts.a, 1).applicable;
  return (source) =>
    new Observable<StabilityEvent>((sub) => {
      let lastStep = Number.NaN;
      const measure = (step: number, trigger: StabilityEvent['trigger']) => {
        if (step === lastStep) return;
        lastStep = step;
        const p = opts.probe();
        const r = stabilityRatio(opts.optimizer, opts.a, p.lambdaMax);
        sub.next({
          kind: 'stability', runId: opts.runId, step, time: Date.now(), trigger, lambdaMax: p.lambdaMax,
          lr: opts.optimizer.lr, a: opts.a, ratio: r.ratio, optimizer: opts.optimizer.name, momentum: r.momentum,
          weightDecay: r.weightDecay, applicable: r.applicable, ...(r.reason ? { reason: r.reason } : {}),
          method: `lanczos, jvp ${p.jvp}`, iterations: p.iterations, converged: p.converged, ms: p.ms,
        });
      };
      try {
        measure(opts.startStep, 'start');
      } catch (e) {
        sub.error(e);
        return;
      }
      return source.subscribe({
        next: (e) => {
          if (!applies) return;
          try {
            if (e.kind === 'spike') {
              if (aroundSpikes && e.phase !== 'nonfinite') measure(e.step, e.phase === 'onset' ? 'spike-onset' : 'spike-end');
            } else if (opts.every > 0 && e.step % opts.every === 0 && Number.isFinite(e.loss)) {
              measure(e.step, 'cadence');
            }
          } catch (err) {
            sub.error(err);
          }
        },
        error: (err) => sub.error(err),
        complete: () => sub.complete(),
      });
    });
}
