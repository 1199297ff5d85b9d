import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import { certifyCycle } from '../../engine/certify.ts';
import { eigenvalues, spectralRadius, topByModulus } from '../../engine/eigen.ts';
import { fcJacobianFactors, fullJacobian, matmul64, reducedCycleProduct, reducedJacobian } from '../../engine/jacobian.ts';
import { createFcModel, type Model } from '../../engine/model.ts';
import { Rng } from '../../engine/random.ts';
import { tf } from '../../engine/tf.ts';

beforeAll(async () => {
  await selectBackend();
});

const sorted = (re: Float64Array, im: Float64Array) =>
  Array.from(re, (r, i) => [r, im[i]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);

/** Eigenvalues from ml-matrix (a JS dense solver) as the reference. */
function reference(a: Float64Array, n: number) {
  const e = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)))));
  return sorted(Float64Array.from(e.realEigenvalues), Float64Array.from(e.imaginaryEigenvalues));
}

function expectSameSpectrum(x: number[][], y: number[][], tol: number) {
  expect(x.length).toBe(y.length);
  // match greedily: sorting complex numbers is fragile when real parts tie
  const left = [...y];
  for (const [re, im] of x) {
    let best = 0, bd = Infinity;
    left.forEach(([r2, i2], j) => {
      const d = Math.hypot(re - r2, im - i2);
      if (d < bd) [best, bd] = [j, d];
    });
    expect(bd).toBeLessThan(tol);
    left.splice(best, 1);
  }
}

describe('eigenvalues', () => {
  it('finds a complex dominant pair (a rotation-scaling block)', () => {
    // [[0.9 cos t, −0.9 sin t], [0.9 sin t, 0.9 cos t]] ⊕ 0.5: |λ| = 0.9 twice, complex
    const t = 0.7, c = 0.9 * Math.cos(t), s = 0.9 * Math.sin(t);
    const a = Float64Array.of(c, -s, 0, s, c, 0, 0, 0, 0.5);
    const ev = eigenvalues(a, 3);
    expectSameSpectrum(sorted(ev.re, ev.im), [[0.5, 0], [c, -s], [c, s]], 1e-12);
    expect(spectralRadius(ev)).toBeCloseTo(0.9, 12);
    expect(topByModulus(ev, 2).map((e) => Math.abs(e.im))).toEqual([s, s].map((v) => expect.closeTo(v, 12)));
  });

  it('agrees with a dense JS solver on random non-symmetric matrices', () => {
    const rng = new Rng(4);
    for (const n of [2, 7, 40]) {
      const a = Float64Array.from(rng.normalArray(n * n, 0, 1));
      const ev = eigenvalues(a, n);
      expectSameSpectrum(sorted(ev.re, ev.im), reference(a, n), 1e-8 * n);
    }
  });
});

function smallNet(activation: string, d: number, w: number, depth: number, seed = 1): Model {
  return createFcModel({ kind: 'fc', dim: d, width: w, depth, activation, bias: true, init: 'uniform:0.6', seed });
}

/** Jacobian of f at x by central differences in float64 (f evaluated in float32). */
function finiteDifference(model: Model, x: Float32Array): Float64Array {
  const d = x.length, h = 3e-3, J = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const xp = x.slice(), xm = x.slice();
    xp[j] += h;
    xm[j] -= h;
    const fp = model.apply(xp), fm = model.apply(xm);
    for (let i = 0; i < d; i++) J[i * d + j] = (fp[i] - fm[i]) / (2 * h);
  }
  return J;
}

describe('FC Jacobian', () => {
  for (const act of ['tanh', 'cosid', 'sinusoidal', 'swish']) {
    it(`A·M equals the finite-difference Jacobian (${act})`, () => {
      const model = smallNet(act, 5, 7, 2);
      const x = new Rng(3).uniformArray(5, 0, 1);
      const J = fullJacobian(fcJacobianFactors(model, x));
      const fd = finiteDifference(model, x);
      J.forEach((v, i) => expect(Math.abs(v - fd[i])).toBeLessThan(3e-3 * Math.max(1, Math.abs(fd[i]))));
      model.dispose();
    });
  }

  it('a linear network (pow:1) has the Jacobian (W0·W1)ᵀ exactly', () => {
    const model = smallNet('pow:1', 4, 6, 1);
    const [w0, w1] = ['W0', 'W1'].map((n) => Float64Array.from(model.params.find((p) => p.name === n)!.variable.dataSync()));
    const expected = matmul64(w0, w1, 4, 6, 4); // (xW0)W1 → J = (W0W1)ᵀ
    const J = fullJacobian(fcJacobianFactors(model, Float32Array.of(0.3, -0.2, 0.9, 0.1)));
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(J[i * 4 + j]).toBeCloseTo(expected[j * 4 + i], 5);
    model.dispose();
  });

  it('the W×W reduction has the non-zero spectrum of the full d×d Jacobian', () => {
    const model = smallNet('tanh', 12, 5, 2); // rank ≤ 5: seven zero eigenvalues
    const f = fcJacobianFactors(model, new Rng(8).uniformArray(12, 0, 1));
    const full = eigenvalues(fullJacobian(f), 12), red = eigenvalues(reducedJacobian(f), 5);
    const nonzero = sorted(full.re, full.im).filter(([re, im]) => Math.hypot(re, im) > 1e-9);
    expectSameSpectrum(nonzero, sorted(red.re, red.im), 1e-9);
    expect(spectralRadius(red)).toBeCloseTo(spectralRadius(full), 10);
    model.dispose();
  });

  it("a cycle's spectral radius does not depend on the starting point, and matches the full product", () => {
    const model = smallNet('tanh', 6, 4, 2, 5);
    const pts = [0, 1, 2].map((s) => new Rng(20 + s).uniformArray(6, 0, 1));
    const factors = pts.map((x) => fcJacobianFactors(model, x));
    const rhos = [0, 1, 2].map((r) => spectralRadius(eigenvalues(reducedCycleProduct([...factors.slice(r), ...factors.slice(0, r)]), 4)));
    expect(rhos[1]).toBeCloseTo(rhos[0], 10);
    expect(rhos[2]).toBeCloseTo(rhos[0], 10);
    const [j1, j2, j3] = factors.map(fullJacobian);
    const full = matmul64(j3, matmul64(j2, j1, 6, 6, 6), 6, 6, 6); // J(x3)·J(x2)·J(x1)
    expect(spectralRadius(eigenvalues(full, 6))).toBeCloseTo(rhos[0], 9);
    model.dispose();
  });

  it('leaks no tensors', () => {
    const model = smallNet('relu', 8, 16, 3);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) fcJacobianFactors(model, new Rng(i).uniformArray(8, 0, 1));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('certificates', () => {
  it('a linear map is certified by the eigenvalues of its matrix, with either method', () => {
    const model = smallNet('pow:1', 6, 3, 1, 4); // f(x) = x·W0·W1 + b: J = (W0·W1)ᵀ, rank 3
    const [w0, w1] = ['W0', 'W1'].map((n) => Float64Array.from(model.params.find((p) => p.name === n)!.variable.dataSync()));
    const rho = spectralRadius(eigenvalues(matmul64(w0, w1, 6, 3, 6), 6));
    const x = Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6);
    const reduced = certifyCycle(model, [x], 3, 'reduced'), full = certifyCycle(model, [x], 3, 'full');
    expect(reduced.method).toBe('reduced');
    expect(full.method).toBe('full');
    expect(reduced.rho).toBeCloseTo(rho, 5);
    expect(full.rho).toBeCloseTo(rho, 5);
    expect(reduced.attractor).toBe(rho < 1);
    model.dispose();
  });
});
