/**
 * The closed forms of one example memorized from the rank-one start (docs/math.md §5.6):
 * the fixed-point solver against a direct float64 integration of the 2-D gradient flow, the
 * eigenvalue z·φ′/φ, the 2-D GD against engram's own trainer and certificate on the full net.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import { certifyCycle } from '../../engine/certify.ts';
import { createFcModel } from '../../engine/model.ts';
import { makeDataset } from '../../engine/objectives.ts';
import { Rng } from '../../engine/random.ts';
import {
  fixedPointEigenvalue, rank1Curvature, rank1Eigenvalue, rank1FixedPoint, rank1Gd, rank1Invariant, rank1PathCurvature, scalarActivation,
  type ScalarActivation,
} from '../../engine/single-example.ts';
import { createTrainer } from '../../engine/trainer.ts';

/**
 * The flow u̇ = −(2/d)·e·φ(z), v̇ = −(2/d)·e·u·c·φ′(z) integrated by classical RK4 in float64, with a
 * step of 0.005/h (h the local curvature of e) until the loss is below 1e-26: the reference the
 * closed form is checked against, written independently of the code under test.
 */
function integrateFlow(act: ScalarActivation, c: number, w: number, d: number, u0: number, v0: number) {
  const rhs = (u: number, v: number): [number, number] => {
    const z = c * v, e = w * u * act.phi(z) - c;
    return [-(2 / d) * e * act.phi(z), -(2 / d) * e * u * c * act.dphi(z)];
  };
  let u = u0, v = v0, qDrift = 0;
  const q0 = act.G(c * v0) - (c * u0) ** 2 / 2;
  for (let k = 0; k < 2_000_000; k++) {
    const z = c * v, e = w * u * act.phi(z) - c;
    if ((e * e) / d < 1e-26) break;
    const h = ((2 * w) / d) * (act.phi(z) ** 2 + (c * u * act.dphi(z)) ** 2);
    const dt = 0.005 / h;
    const [a1, b1] = rhs(u, v);
    const [a2, b2] = rhs(u + (dt / 2) * a1, v + (dt / 2) * b1);
    const [a3, b3] = rhs(u + (dt / 2) * a2, v + (dt / 2) * b2);
    const [a4, b4] = rhs(u + dt * a3, v + dt * b3);
    u += (dt / 6) * (a1 + 2 * a2 + 2 * a3 + a4);
    v += (dt / 6) * (b1 + 2 * b2 + 2 * b3 + b4);
    qDrift = Math.max(qDrift, Math.abs(act.G(c * v) - (c * u) ** 2 / 2 - q0));
  }
  return { u, v, z: c * v, qDrift };
}

const sigma = (z: number) => 1 / (1 + Math.exp(-z));

describe('single example from the rank-one start: closed forms', () => {
  it('the eigenvalue z·φ′(z)/φ(z): m for z^m, 2z for e^{2z}, z(1 − σ(z)) for sigmoid', () => {
    for (const z of [-2, -0.3, 0.4, 1.7]) {
      for (const m of [1, 2, 3, 5]) expect(rank1Eigenvalue(scalarActivation(`pow:${m}`), z)).toBeCloseTo(m, 12);
      expect(rank1Eigenvalue(scalarActivation('exp2'), z)).toBeCloseTo(2 * z, 12);
      expect(rank1Eigenvalue(scalarActivation('sigmoid'), z)).toBeCloseTo(z * (1 - sigma(z)), 12);
    }
    // G is an antiderivative of φ/φ′ (central differences)
    for (const name of ['sigmoid', 'exp2', 'pow:2', 'pow:3']) {
      const a = scalarActivation(name);
      for (const z of [-1.3, 0.7, 2.1]) {
        const h = 1e-5;
        expect((a.G(z + h) - a.G(z - h)) / (2 * h), `${name} at ${z}`).toBeCloseTo(a.phi(z) / a.dphi(z), 6);
      }
    }
  });

  const cases: [string, number, number][] = [
    ['sigmoid', 0, 0.1], ['sigmoid', 1, 0.1], ['sigmoid', -3, 0.01], ['sigmoid', 2, 0.5],
    ['exp2', -0.5, 0.1], ['exp2', 0, 0.1], ['exp2', 0.75, 0.1], ['exp2', 0.3, 1.2],
    ['pow:1', 0.5, 0.1], ['pow:2', 1, 0.1], ['pow:3', 0.5, 0.1], ['pow:2', -0.8, 0.2], ['pow:3', -0.6, 0.1],
  ];
  for (const [c, w, d] of [[11.09, 256, 784], [5.14, 64, 196]]) {
    it(`the fixed point z* from the invariant equals the end of the integrated flow (‖x‖ = ${c}, W = ${w}, d = ${d})`, () => {
      for (const [name, z0, s0] of cases) {
        const act = scalarActivation(name);
        const u0 = s0 / c, v0 = z0 / c;
        const fp = rank1FixedPoint(act, { c, width: w, u0, v0 });
        const flow = integrateFlow(act, c, w, d, u0, v0);
        const what = `${name} from z0 = ${z0}, s0 = ${s0}`;
        // RK4 keeps the invariant to ~1e-9 and reaches the fit; the two roads to z* meet
        expect(flow.qDrift, what).toBeLessThan(1e-7);
        expect(Math.abs(flow.z - fp.z), what).toBeLessThan(1e-6 * Math.max(1, Math.abs(fp.z)));
        expect(Math.abs(flow.u - fp.u), what).toBeLessThan(1e-6 * Math.abs(fp.u));
        // at the fit W·u·φ(z) = c, the invariant is the start's, and λ is z·φ′/φ
        expect(w * fp.u * act.phi(fp.z)).toBeCloseTo(c, 9);
        expect(rank1Invariant(act, c, fp.u, fp.v)).toBeCloseTo(rank1Invariant(act, c, u0, v0), 9);
        expect(fp.lambda).toBeCloseTo(rank1Eigenvalue(act, fp.z), 12);
        expect(fixedPointEigenvalue(act, w, fp.u, fp.v, c)).toBeCloseTo(fp.lambda, 9);
      }
    });
  }

  it('GD on the two scalars approaches the flow as the step shrinks (first order in η)', () => {
    const act = scalarActivation('exp2'), c = 11.09, w = 256, d = 784;
    const p = { c, width: w, u0: 0.1 / c, v0: 0.5 / c };
    const fp = rank1FixedPoint(act, p);
    const hMax = rank1PathCurvature(act, { ...p, d, lossTarget: 1e-16 });
    expect(hMax).toBeGreaterThanOrEqual(rank1Curvature(act, c, w, d, p.u0, p.v0));
    const err = [0.1, 0.05, 0.025].map((g) => {
      const gd = rank1Gd(act, { ...p, d, lr: g / hMax, lossTarget: 1e-20, maxSteps: 1e6 });
      expect(gd.reached).toBe(true);
      return Math.abs(gd.lambda - fp.lambda);
    });
    expect(err[0]).toBeGreaterThan(1e-4);
    // halving the step halves the error (first order), to within 20%
    expect(err[1] / err[0]).toBeGreaterThan(0.4);
    expect(err[1] / err[0]).toBeLessThan(0.6);
    expect(err[2] / err[1]).toBeGreaterThan(0.4);
    expect(err[2] / err[1]).toBeLessThan(0.6);
  });
});

describe('the 2-D reduction is what engram trains', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('the real trainer (GD, mean MSE, rank1 init, no bias) follows the two scalars, and the certificate is the closed form', () => {
    const d = 24, w = 8;
    const x = new Rng(5).uniformArray(d, 0, 1);
    const c = Math.hypot(...x);
    const xh = Float32Array.from(x, (v) => v / c);
    for (const [name, z0, s0] of [['sigmoid', 1, 0.1], ['exp2', 0.75, 0.1], ['pow:2', 1, 0.1]] as const) {
      const act = scalarActivation(name);
      const u0 = s0 / c, v0 = z0 / c;
      const lr = 0.05 / rank1PathCurvature(act, { c, width: w, u0, v0, d, lossTarget: 1e-10 });
      const model = createFcModel({ kind: 'fc', dim: d, width: w, depth: 1, activation: name, bias: false, init: `rank1:${u0},${v0}`, seed: 1 }, xh);
      const trainer = createTrainer(model, makeDataset('autoencode', [[x]]), { name: 'gd', lr });
      const steps = 300;
      for (let k = 0; k < steps; k++) trainer.step();
      const ref = rank1Gd(act, { c, width: w, d, u0, v0, lr, lossTarget: 0, maxSteps: steps });
      const w0 = model.weights().find((p) => p.name === 'W0')!.data;
      let v = 0;
      for (let i = 0; i < d; i++) v += w0[i * w] * xh[i];
      expect(Math.abs(v - ref.v), name).toBeLessThan(1e-4 * Math.abs(ref.v));
      const cert = certifyCycle(model, [x], 2, 'full');
      const closed = rank1FixedPoint(act, { c, width: w, u0, v0 });
      expect(Math.abs(cert.rho - Math.abs(ref.lambda)), name).toBeLessThan(1e-3 * Math.abs(ref.lambda));
      expect(Math.abs(cert.rho - closed.rho), name).toBeLessThan(0.02 * closed.rho);
      expect(cert.attractor, name).toBe(closed.rho < 1);
      expect(cert.top[1].abs, `${name}: rank one`).toBeLessThan(1e-5);
      trainer.dispose();
      model.dispose();
    }
  });
});
