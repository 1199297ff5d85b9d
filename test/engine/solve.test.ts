import { describe, expect, it } from 'vitest';
import { of, lastValueFrom, toArray } from 'rxjs';
import { withNative } from '../native.ts';
import { selectBackend } from '../../engine/backend.ts';
import { certifyCycle } from '../../engine/certify.ts';
import { eigenvalues, spectralRadius, topByModulus } from '../../engine/eigen.ts';
import { fcJacobianFactors, fullJacobian, matmul64, spdSolve, transpose64 } from '../../engine/jacobian.ts';
import { createFcModel, type Model, type ModelSpec } from '../../engine/model.ts';
import { makeDataset, type Dataset } from '../../engine/objectives.ts';
import { Rng } from '../../engine/random.ts';
import { jacobianGram, replayCount, sampleFirstLayer, solveBlocker, solveFit, solveTrainer } from '../../engine/solve.ts';
import { train } from '../../operators/train.ts';
import { netTrainer } from '../../engine/trainer.ts';

/** A smooth closed curve of n points in [0,1]^d (like a camera circling): neighbours are close, the loop closes. */
function loop(n: number, d: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const a = Array.from({ length: 4 }, () => rng.uniformArray(d, -0.2, 0.2));
  const c = rng.uniformArray(d, 0.3, 0.7);
  return Array.from({ length: n }, (_, i) => {
    const t = (2 * Math.PI * i) / n;
    return c.map((v, k) => v + a[0][k] * Math.cos(t) + a[1][k] * Math.sin(t) + a[2][k] * Math.cos(2 * t) + a[3][k] * Math.sin(3 * t));
  });
}

const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({
  kind: 'fc', dim: 64, width: 96, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 2, ...over,
});

function mse(model: Model, data: Dataset): number {
  const y = model.apply(data.inputs);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] - data.targets[i]) ** 2;
  return s / y.length;
}

/** Σ_i M_i M_iᵀ from the dense factors of engine/jacobian.ts. */
function denseGram(model: Model, data: Dataset): Float64Array {
  const w = model.spec.width;
  const c = new Float64Array(w * w);
  for (let i = 0; i < data.n; i++) {
    const f = fcJacobianFactors(model, data.inputs.subarray(i * data.dim, (i + 1) * data.dim));
    const q = matmul64(f.m, transpose64(f.m, w, f.d), w, f.d, w);
    for (let t = 0; t < w * w; t++) c[t] += q[t];
  }
  return c;
}

function maxRelDiff(a: Float64Array, b: Float64Array): number {
  let m = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return m / s;
}

for (const backend of withNative(['wasm'] as const)) {
  describe(`solver on ${backend}`, () => {
    it('spdSolve solves a positive definite system and refuses an indefinite one', async () => {
      await selectBackend(backend);
      const rng = new Rng(1);
      const m = 7, k = 3;
      const r = Float64Array.from({ length: m * m }, () => rng.normal());
      const a = matmul64(r, transpose64(r, m, m), m, m, m);
      for (let i = 0; i < m; i++) a[i * m + i] += 0.1;
      const b = Float64Array.from({ length: m * k }, () => rng.normal());
      const x = spdSolve(a, m, b, k)!;
      expect(maxRelDiff(matmul64(a, x, m, m, k), b)).toBeLessThan(1e-10);
      expect(spdSolve(Float64Array.of(1, 2, 2, 1), 2, Float64Array.of(1, 1), 1)).toBeNull();
    });

    it('the Jacobian Gram matches the dense factors on all three paths (points’ span, d ≤ n, a first layer off the span), in one chunk of points or several', async () => {
      await selectBackend(backend);
      const cases: [string, ModelSpec, number, boolean][] = [
        ['span (d > n, sampled)', spec(), 24, true],
        ['d ≤ n', spec({ dim: 16, width: 40 }), 24, true],
        ['off the span (torch first layer)', spec(), 24, false],
        ['depth 3', spec({ depth: 3 }), 24, true],
        ['points in several chunks', spec({ width: 40 }), 80, true],
      ];
      for (const [what, s, n, sampled] of cases) {
        const model = createFcModel(s);
        const data = makeDataset('cycle', [loop(n, s.dim, 5)]);
        if (sampled) sampleFirstLayer(model, data, { seed: 3 });
        const fast = await jacobianGram(model, data);
        // the dense factors are computed in float32 (tfjs), and W_0 is stored in float32: agreement to ~1e-7
        expect(maxRelDiff(fast, denseGram(model, data)), what).toBeLessThan(1e-6);
        model.dispose();
      }
    });

    it('fits a cycle to float32 rounding, stores it as an attractor (ρ from a dense solver < 1) and noise replays it', async () => {
      await selectBackend(backend);
      const model = createFcModel(spec());
      const frames = loop(24, 64, 7);
      const data = makeDataset('cycle', [frames]);
      const r = await solveFit(model, data, { seed: 1 });
      expect(r.mse).toBeLessThan(1e-12);
      expect(mse(model, data)).toBeCloseTo(r.mse, 15);
      // ρ of J(x_n)⋯J(x_1) from the d×d Jacobians and LAPACK/ml-matrix eigenvalues
      const d = 64;
      const prod = frames.map((f) => fullJacobian(fcJacobianFactors(model, f))).reduce((acc, j) => matmul64(j, acc, d, d, d));
      const dense = eigenvalues(prod, d);
      const rho = spectralRadius(dense);
      expect(rho).toBeLessThan(1);
      // the low-rank certificate (r×r, r ≤ n: the first layer is sampled from the n points) has the same top of the spectrum
      const cert = certifyCycle(model, frames, 3, 'auto');
      expect(cert.method).toBe('reduced');
      expect(cert.moduli!.length).toBeLessThanOrEqual(24);
      const rel = (a: number, b: number) => Math.abs(a - b) / b;
      expect(rel(cert.rho, rho), `ρ ${cert.rho} vs dense ${rho}`).toBeLessThan(1e-4);
      topByModulus(dense, 3).forEach((t, i) => expect(rel(cert.top[i].abs, t.abs), `|λ${i}|`).toBeLessThan(1e-3));
      expect(replayCount(model, data, { seed: 9, peak: 1 })).toBe(8);
      model.dispose();
    });

    it('an unfitted net replays nothing; a net too narrow for the data is refused with the fix', async () => {
      await selectBackend(backend);
      const model = createFcModel(spec());
      const data = makeDataset('cycle', [loop(24, 64, 7)]);
      expect(replayCount(model, data, { seed: 9, peak: 1, burnIn: 200 })).toBe(0);
      expect(solveBlocker(spec({ width: 8 }), 24)).toMatch(/--width ≥ 23/);
      await expect(solveFit(createFcModel(spec({ width: 8 })), data, { seed: 1 })).rejects.toThrow(/--width ≥ 23/);
      model.dispose();
    });

    it('autoencoding: every point becomes a fixed point that noise reaches', async () => {
      await selectBackend(backend);
      const model = createFcModel(spec());
      const data = makeDataset('autoencode', [loop(12, 64, 3)]);
      const r = await solveFit(model, data, { seed: 2 });
      expect(r.mse).toBeLessThan(1e-12);
      expect(replayCount(model, data, { seed: 4, peak: 1 })).toBeGreaterThan(0);
      model.dispose();
    });

    it('as a trainer: a failed recall check asks for another attempt; the last attempt keeps the best and training ends at the target', async () => {
      await selectBackend(backend);
      const model = createFcModel(spec());
      const data = makeDataset('cycle', [loop(24, 64, 7)]);
      // 400 dB cannot be met in float32: every attempt fails its check
      const events = await lastValueFrom(of(data).pipe(
        train({ runId: 't', trainer: solveTrainer(model, { seed: 1, tries: 2, check: { peak: 1, minPsnr: 400 } }), maxSteps: 2 }),
        toArray(),
      ));
      const steps = events.filter((e) => e.kind === 'train-step');
      const logs = events.filter((e) => e.kind === 'log').map((e) => (e.kind === 'log' ? e.message : ''));
      const end = events.find((e) => e.kind === 'train-end');
      expect(steps).toHaveLength(2);
      expect(logs.some((m) => /8 of 8 noise starts did not replay the data; trying again/.test(m))).toBe(true);
      expect(logs.some((m) => /solve 2\/2 \(first layer seed 2\)/.test(m))).toBe(true);
      expect(end?.kind === 'train-end' && end.reason).toBe('loss-target');
      expect(mse(model, data)).toBeLessThan(1e-12);
      model.dispose();
    });

    it('with a fallback: when no attempt replays, fresh weights and gradient steps follow, the step count going on', async () => {
      await selectBackend(backend);
      const model = createFcModel(spec());
      const data = makeDataset('cycle', [loop(24, 64, 7)]);
      let reinits = 0;
      const trainer = solveTrainer(model, {
        seed: 1, tries: 2, check: { peak: 1, minPsnr: 400 },
        fallback: { gradient: netTrainer(model, { name: 'adam', lr: 1e-3 }), reinit: () => { reinits++; model.setWeights(createFcModel(spec()).weights()); } },
      });
      const events = await lastValueFrom(of(data).pipe(train({ runId: 't', trainer, maxSteps: 5 }), toArray()));
      const steps = events.flatMap((e) => (e.kind === 'train-step' ? [e] : []));
      expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
      expect(steps.map((e) => e.lr)).toEqual([0, 0, 1e-3, 1e-3, 1e-3]);
      expect(steps[2].loss).toBeGreaterThan(1e-4); // fresh weights, not the solved ones
      expect(reinits).toBe(1);
      expect(events.some((e) => e.kind === 'log' && /no noise start replayed the data in 2 solve attempts; training by gradient/.test(e.message))).toBe(true);
      const end = events.find((e) => e.kind === 'train-end');
      expect(end?.kind === 'train-end' && end.reason).toBe('step-cap');
      // the state after the fallback is the optimizer's, and a restore continues the gradient phase
      const t2 = solveTrainer(model, { seed: 1, tries: 2, check: { peak: 1 }, fallback: { gradient: netTrainer(model, { name: 'adam', lr: 1e-3 }), reinit: () => {} } })(data, { keepLastFinite: false });
      t2.restore({ step: 5, optimizer: [{ name: 'step', data: Float32Array.of(3) }], rng: [1, 2, 3, 4] });
      const r = await t2.step();
      expect(r.lr).toBe(1e-3);
      expect(t2.state().step).toBe(6);
      t2.dispose();
      model.dispose();
    });
  });
}
