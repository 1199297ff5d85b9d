/**
 * The stability monitor: the operator on a stubbed probe (marble tests), then the closed-form
 * catapult of the uv model trained by the production Trainer, with λ_max from engine/tangent-kernel,
 * r from operators/stability and spikes from operators/spikes.
 */
import { Subject, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import { createFcModel } from '../../engine/model.ts';
import type { Dataset } from '../../engine/objectives.ts';
import type { OptimizerSpec } from '../../engine/optimizers.ts';
import { meanMseNormalization, tangentKernelLambdaMax } from '../../engine/tangent-kernel.ts';
import { tf } from '../../engine/tf.ts';
import { createTrainer } from '../../engine/trainer.ts';
import type { SpikeEvent, StabilityEvent, TrainStepEvent } from '../../events.ts';
import { spikes } from '../../operators/spikes.ts';
import { stability, stabilityRatio } from '../../operators/stability.ts';

const step = (s: number, loss = 1): TrainStepEvent => ({ kind: 'train-step', runId: 'r', step: s, time: 0, loss, lr: 0.1, gradNorm: 1, stepMs: 1, samplesPerSec: 1 });
const spike = (s: number, phase: SpikeEvent['phase']): SpikeEvent => ({ kind: 'spike', runId: 'r', step: s, time: 0, phase, onsetStep: s, preLoss: 1, peakLoss: 9, peakStep: s, height: 9 });
const scheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

/** A probe whose λ_max is 10 × the number of calls so far (1-based), counting calls. */
function probe() {
  const calls = { n: 0 };
  return { calls, fn: () => ({ lambdaMax: 10 * ++calls.n, iterations: 3, converged: true, jvp: 'forward' as const, ms: 1 }) };
}

const op = (over: Partial<Parameters<typeof stability>[0]> & { optimizer?: OptimizerSpec } = {}) => {
  const p = probe();
  return { p, op: stability({ runId: 'r', every: 4, optimizer: { name: 'gd', lr: 0.1 }, a: 0.5, startStep: 0, probe: p.fn, ...over }) };
};

describe('stability operator', () => {
  it('measures at the start, every N steps and around spikes, at most once per step', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { op: o } = op();
      // steps 1..8; a spike onset at step 6 and its end at step 8, already measured as a cadence step
      const values = { a: step(1), b: step(2), c: step(3), d: step(4), e: step(5), f: step(6), o: spike(6, 'onset'), g: step(7), h: step(8), x: spike(8, 'end') };
      const src = cold('abcdefogh(x|)', values);
      expectObservable(src.pipe(o, map((e) => `${e.trigger}@${e.step}:${e.lambdaMax}`))).toBe('s--c--o-h|', {
        s: 'start@0:10', c: 'cadence@4:20', o: 'spike-onset@6:30', h: 'cadence@8:40',
      });
    });
  });

  it('reports r = a·η·λ_max/2 for gd, with the inputs it used', () => {
    const { op: o } = op({ a: 0.5, optimizer: { name: 'gd', lr: 0.2 } });
    const seen: StabilityEvent[] = [];
    new Subject<TrainStepEvent>().pipe(o).subscribe((e) => seen.push(e));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'stability', trigger: 'start', step: 0, lambdaMax: 10, lr: 0.2, a: 0.5, applicable: true, optimizer: 'gd', momentum: 0 });
    expect(seen[0].ratio).toBeCloseTo((0.5 * 0.2 * 10) / 2, 12);
  });

  it('momentum: r = η(a·λ + ω)/(2(1 + μ)); adam and rmsprop: not applicable, one start event only', () => {
    expect(stabilityRatio({ name: 'momentum', lr: 0.1 }, 0.5, 10).ratio).toBeCloseTo((0.1 * 5) / (2 * 1.9), 12);
    expect(stabilityRatio({ name: 'momentum-wd', lr: 0.1 }, 0.5, 10).ratio).toBeCloseTo((0.1 * (5 + 5e-4)) / (2 * 1.9), 12);
    for (const name of ['adam', 'rmsprop'] as const) {
      const r = stabilityRatio({ name, lr: 1e-4 }, 0.5, 10);
      expect(r).toMatchObject({ ratio: null, applicable: false });
      expect(r.reason).toMatch(name);
      scheduler().run(({ cold, expectObservable }) => {
        const { op: o } = op({ optimizer: { name, lr: 1e-4 } });
        expectObservable(cold('abcdo|', { a: step(1), b: step(2), c: step(3), d: step(4), o: spike(4, 'onset') }).pipe(o, map((e) => `${e.trigger}:${e.applicable}`)))
          .toBe('s----|', { s: 'start:false' });
      });
    }
  });

  it('every = 0: only the start and spikes; a non-finite step or spike is not measured', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { op: o, p } = op({ every: 0 });
      const values = { a: step(4), b: step(8, Number.NaN), n: spike(8, 'nonfinite') };
      expectObservable(cold('abn|', values).pipe(o, map((e) => e.trigger))).toBe('s--|', { s: 'start' });
      expect(p.calls.n).toBe(0); // nothing ran before the scheduler flushed
    });
  });

  it('passes errors through, reports a failing probe as an error, and stops on unsubscribe', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { op: o } = op();
      expectObservable(cold('a#', { a: step(1) }).pipe(o, map(() => 's'))).toBe('s#');
    });
    const failing = stability({ runId: 'r', every: 1, optimizer: { name: 'gd', lr: 1 }, a: 1, startStep: 0, probe: () => { throw new Error('probe broke'); } });
    let err: unknown;
    new Subject<TrainStepEvent>().pipe(failing).subscribe({ error: (e) => (err = e) });
    expect(String(err)).toMatch('probe broke');
    const { op: o, p } = op({ every: 1 });
    const src = new Subject<TrainStepEvent>();
    const sub = src.pipe(o).subscribe();
    src.next(step(1));
    sub.unsubscribe();
    src.next(step(2));
    expect(p.calls.n).toBe(2);
    expect(src.observed).toBe(false);
  });
});

/**
 * The uv model through the production Trainer: FC with dim 1, one hidden layer of width m, identity
 * activation (pow:1), no bias, so f(x) = x·s with s = u·v (u = W0, v = W1). Inputs x_1…x_n, all
 * targets 0. The trainer's loss is tfjs mean MSE over n·d = n elements:
 *   L = (1/n)·Σ_i (s·x_i)² = (a/2)·Σ_i (f(x_i) − y_i)²,  a = 2/n.
 * Tangent kernel: ∂f(x_i)/∂u = x_i v, ∂f(x_i)/∂v = x_i u, so K = q·x xᵀ with q = ‖u‖² + ‖v‖² and
 * λ_max(K) = ‖x‖²·q; r = a·η·λ_max/2 = η‖x‖²q/n.
 * Full-batch GD, with c = a‖x‖² (so L = (c/2)s² and r = ηcq/2):
 *   u' = u − ηc·s·v,  v' = v − ηc·s·u  ⇒
 *   s' = s·(1 − ηcq + η²c²s²) = s·(1 − 2r + η²c²s²),
 *   q' = q − 4ηc·s² + η²c²s²·q = q − ηc·s²·(4 − 2r).
 * Hence (Lewkowycz et al. 2020, the uv model; exact here for any width since y = 0):
 *   r < 1:      |1 − 2r| < 1, the loss falls monotonically near the start (lazy) — no spike;
 *   1 < r < 2:  |1 − 2r| > 1, the loss grows while q (so λ_max and r) falls, until r < 1, then the
 *               loss converges: a spike that returns below its pre-spike level (the catapult);
 *   r > 2:      q grows with s², r grows, the loss diverges to Inf/NaN.
 * To make the onset clear for r just above 1, v is set so that s₀ = 0.01 (the loss starts small).
 */
describe('catapult of the uv model (closed-form thresholds r = 1 and r = 2)', () => {
  beforeAll(async () => {
    await selectBackend();
  });
  const xs = Float32Array.of(1, 0.5, -0.5, 0.8);
  const n = xs.length;
  const data: Dataset = { objective: 'autoencode', dim: 1, n, inputs: xs, targets: new Float32Array(n), sequenceLengths: [n] };

  function train(r0: number) {
    const model = createFcModel({ kind: 'fc', dim: 1, width: 32, depth: 1, activation: 'pow:1', bias: false, init: 'torch', seed: 7 });
    const [u, v] = model.weights().map((w) => Float64Array.from(w.data));
    const uu = u.reduce((s, x) => s + x * x, 0), uv = u.reduce((s, x, i) => s + x * v[i], 0);
    const v0 = v.map((x, i) => x - ((uv - 0.01) / uu) * u[i]); // u·v0 = 0.01
    model.setWeights([{ name: 'W1', data: Float32Array.from(v0) }, { name: 'W0', data: Float32Array.from(u) }]);
    const q0 = uu + v0.reduce((s, x) => s + x * x, 0);
    const a = meanMseNormalization(n, 1);
    const lam0 = tangentKernelLambdaMax(model, xs);
    const xx = xs.reduce((s, x) => s + x * x, 0);
    expect(Math.abs(lam0.lambdaMax - xx * q0) / (xx * q0), 'λ_max(K) = ‖x‖²(‖u‖² + ‖v‖²)').toBeLessThan(1e-5);
    const optimizer: OptimizerSpec = { name: 'gd', lr: (2 * r0) / (a * lam0.lambdaMax) };
    const ratio0 = stabilityRatio(optimizer, a, lam0.lambdaMax).ratio!;
    expect(ratio0).toBeCloseTo(r0, 10);

    const trainer = createTrainer(model, data, optimizer);
    const steps$ = new Subject<TrainStepEvent>();
    const seen: SpikeEvent[] = [];
    steps$.pipe(spikes({ runId: 'uv' })).subscribe((e) => seen.push(e));
    const losses: number[] = [];
    for (let k = 1; k <= 3000; k++) {
      const s = trainer.step();
      losses.push(s.loss);
      steps$.next({ kind: 'train-step', runId: 'uv', step: k, time: 0, loss: s.loss, lr: s.lr, gradNorm: s.gradNorm, stepMs: 1, samplesPerSec: 1 });
      // stop well above float32's floor for s = u·v (~1e-8 ⇒ loss ~1e-16), where rounding noise could look like spikes
      if (!Number.isFinite(s.loss) || !Number.isFinite(s.gradNorm) || s.loss < 1e-12) break;
    }
    const finite = losses.every(Number.isFinite);
    const rEnd = finite ? stabilityRatio(optimizer, a, tangentKernelLambdaMax(model, xs).lambdaMax).ratio! : Number.NaN;
    trainer.dispose();
    model.dispose();
    return { seen, losses, rEnd, ratio0 };
  }

  it.each([0.5, 0.9])('r = %s < 1: no spike, the loss falls to zero', (r0) => {
    const { seen, losses, rEnd } = train(r0);
    expect(seen).toEqual([]);
    expect(losses.at(-1)!).toBeLessThan(1e-12);
    expect(rEnd).toBeLessThan(1);
  });

  it.each([1.2, 1.5, 1.8])('1 < r = %s < 2: a spike that returns below its pre-spike level while λ_max(K) drops to r < 1', (r0) => {
    const { seen, losses, rEnd } = train(r0);
    expect(seen.map((e) => e.phase)).toEqual(['onset', 'end']);
    const [onset, end] = seen;
    expect(end.height).toBeGreaterThan(100);
    expect(losses.at(-1)!).toBeLessThan(onset.preLoss);
    expect(rEnd).toBeLessThan(1);
    expect(end.step).toBeGreaterThan(onset.step);
  });

  it.each([3, 6])('r = %s ≫ 2: divergence, reported as a non-finite spike', (r0) => {
    const { seen, losses } = train(r0);
    expect(seen.map((e) => e.phase)).toContain('nonfinite');
    expect(seen.some((e) => e.phase === 'end')).toBe(false);
    expect(losses.length).toBeLessThan(100);
  });

  it('the tensor count stays flat across a run', () => {
    train(1.5);
    const count = tf.memory().numTensors;
    train(1.5);
    expect(tf.memory().numTensors).toBe(count);
  });
});
