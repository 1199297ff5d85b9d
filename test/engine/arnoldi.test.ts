import { beforeAll, describe, expect, it } from 'vitest';
import { arnoldiTopK, jacobianOperators, type LinearOperators } from '../../engine/arnoldi.ts';
import { selectBackend } from '../../engine/backend.ts';
import { certifyByArnoldi, certifyCycle, chooseEigMethod } from '../../engine/certify.ts';
import { eigenvalues, spectralRadius, topByModulus } from '../../engine/eigen.ts';
import { fcJacobianFactors, fcReducedOperators, fullJacobian, matmul64, reducedJacobian } from '../../engine/jacobian.ts';
import { createFcModel, type Model } from '../../engine/model.ts';
import { Rng } from '../../engine/random.ts';
import { tf } from '../../engine/tf.ts';

beforeAll(async () => {
  await selectBackend();
});

type C = { re: number; im: number; abs: number };

/** Each of `got` is within tol of a distinct one of `want` (complex values, greedy matching). */
function expectSameValues(got: C[], want: C[], tol: number) {
  const left = [...want];
  for (const g of got) {
    let best = 0, bd = Infinity;
    left.forEach((w, j) => {
      const d = Math.hypot(g.re - w.re, g.im - w.im);
      if (d < bd) [best, bd] = [j, d];
    });
    expect(bd).toBeLessThan(tol);
    left.splice(best, 1);
  }
}

/** A dense matrix as an operator (row vectors: v ↦ Kᵀv has K's eigenvalues). */
function denseOperator(k: Float64Array, n: number): LinearOperators {
  return { d: n, count: 1, apply: (_which, v) => matmul64(Float64Array.from(v), k, 1, n, n) };
}

/** H·B·H with a Householder reflector H (H⁻¹ = H): B's eigenvalues, but no visible structure. */
function hiddenBlocks(n: number, blocks: (number | [number, number])[], seed: number): Float64Array {
  const b = new Float64Array(n * n);
  let at = 0;
  for (const blk of blocks) {
    if (typeof blk === 'number') {
      b[at * n + at] = blk;
      at++;
    } else {
      const [r, t] = blk; // r·rotation(t): eigenvalues r·e^{±it}
      b[at * n + at] = r * Math.cos(t);
      b[at * n + at + 1] = -r * Math.sin(t);
      b[(at + 1) * n + at] = r * Math.sin(t);
      b[(at + 1) * n + at + 1] = r * Math.cos(t);
      at += 2;
    }
  }
  const u = Float64Array.from(new Rng(seed).normalArray(n, 0, 1));
  const norm = Math.hypot(...u);
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] = (i === j ? 1 : 0) - (2 * u[i] * u[j]) / (norm * norm);
  return matmul64(matmul64(h, b, n, n, n), h, n, n, n);
}

/** A linear network f(x) = x·W0·W1 (pow:1, no bias) with W0 = Kᵀ, W1 = I, so J_f = K exactly. */
function linearNet(k: Float64Array, n: number): Model {
  const model = createFcModel({ kind: 'fc', dim: n, width: n, depth: 1, activation: 'pow:1', bias: false, init: 'torch', seed: 1 });
  const kt = new Float32Array(n * n), eye = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    eye[i * n + i] = 1;
    for (let j = 0; j < n; j++) kt[i * n + j] = k[j * n + i];
  }
  model.setWeights([{ name: 'W0', data: kt }, { name: 'W1', data: eye }]);
  return model;
}

function smallNet(activation: string, d: number, w: number, depth: number, seed = 1): Model {
  return createFcModel({ kind: 'fc', dim: d, width: w, depth, activation, bias: true, init: 'uniform:0.6', seed });
}

describe('Arnoldi (top-k eigenvalues)', () => {
  it('finds a complex dominant pair that power iteration cannot (dense operator)', () => {
    const n = 60;
    // dominant: 0.95·e^{±0.8i}; then 0.9 and a second pair, the rest within 0.5
    const blocks: (number | [number, number])[] = [[0.95, 0.8], 0.9, [0.85, 2.0]];
    const rng = new Rng(7);
    while (blocks.reduce<number>((a, b) => a + (typeof b === 'number' ? 1 : 2), 0) < n) blocks.push(rng.next() - 0.5);
    const k = hiddenBlocks(n, blocks, 3);
    const [r] = arnoldiTopK(denseOperator(k, n), { k: 5 });
    expect(r.converged).toBe(true);
    expect(r.krylovDim).toBeLessThan(n);
    const want: C[] = [
      { re: 0.95 * Math.cos(0.8), im: 0.95 * Math.sin(0.8), abs: 0.95 }, { re: 0.95 * Math.cos(0.8), im: -0.95 * Math.sin(0.8), abs: 0.95 },
      { re: 0.9, im: 0, abs: 0.9 },
      { re: 0.85 * Math.cos(2), im: 0.85 * Math.sin(2), abs: 0.85 }, { re: 0.85 * Math.cos(2), im: -0.85 * Math.sin(2), abs: 0.85 },
    ];
    expectSameValues(r.top, want, 1e-8);
    expect(r.rho).toBeCloseTo(0.95, 10);
  });

  it('a hand-built linear network has exactly its Jacobian K: complex pair found through VJPs', () => {
    const n = 24;
    const k = hiddenBlocks(n, [[1.2, 0.5], 0.7, -0.6, ...Array.from({ length: n - 4 }, (_, i) => 0.4 * Math.sin(i + 1))], 5);
    const model = linearNet(k, n);
    // the network's Jacobian is K at any point
    const J = fullJacobian(fcJacobianFactors(model, new Rng(1).uniformArray(n, -1, 1)));
    J.forEach((v, i) => expect(v).toBeCloseTo(k[i], 5));
    for (const operator of ['vjp', 'factored'] as const) {
      const [c] = certifyByArnoldi(model, [[new Rng(2).uniformArray(n, 0, 1)]], 3, { operator });
      expect(c.operator).toBe(operator);
      expect(c.rho).toBeCloseTo(1.2, 5);
      expect(c.attractor).toBe(false);
      expectSameValues(c.top, [{ re: 1.2 * Math.cos(0.5), im: 1.2 * Math.sin(0.5), abs: 1.2 }, { re: 1.2 * Math.cos(0.5), im: -1.2 * Math.sin(0.5), abs: 1.2 }, { re: 0.7, im: 0, abs: 0.7 }], 1e-5);
    }
    model.dispose();
  });

  for (const [act, d, w] of [['tanh', 30, 40], ['swish', 40, 16], ['relu', 50, 24]] as const) {
    it(`agrees with the dense solver on a random ${act} net (d = ${d}, W = ${w}), both operators, batched`, () => {
      const model = smallNet(act, d, w, 2, 3);
      const pts = [0, 1, 2].map((s) => new Rng(40 + s).uniformArray(d, 0, 1));
      const dense = pts.map((x) => certifyCycle(model, [x], 4, 'full'));
      for (const operator of ['vjp', 'factored'] as const) {
        const arn = certifyByArnoldi(model, pts.map((x) => [x]), 4, { operator });
        arn.forEach((a, i) => {
          expect(a.converged).toBe(true);
          expect(Math.abs(a.rho - dense[i].rho)).toBeLessThan(1e-4 * dense[i].rho);
          expectSameValues(a.top.slice(0, 3), dense[i].top, 2e-4 * dense[i].rho);
        });
      }
      model.dispose();
    });
  }

  it("a cycle's ρ does not depend on the starting point, with every method", () => {
    const model = smallNet('tanh', 14, 6, 2, 5);
    const pts = [0, 1, 2, 3].map((s) => new Rng(20 + s).uniformArray(14, 0, 1));
    const rotations = [0, 1, 2, 3].map((r) => [...pts.slice(r), ...pts.slice(0, r)]);
    const dense = certifyCycle(model, pts, 3, 'full').rho;
    for (const method of ['full', 'reduced', 'arnoldi'] as const) {
      const rhos = rotations.map((c) => certifyCycle(model, c, 3, method).rho);
      for (const r of rhos) expect(Math.abs(r - dense)).toBeLessThan(1e-4 * dense);
    }
    // Arnoldi on VJPs too, all four rotations in one batch
    const vjp = certifyByArnoldi(model, rotations, 3, { operator: 'vjp' });
    for (const c of vjp) expect(Math.abs(c.rho - dense)).toBeLessThan(1e-4 * dense);
    model.dispose();
  });

  it('the W×W reduction is the non-zero spectrum of the full Jacobian, also around a cycle', () => {
    const model = smallNet('sinusoidal', 16, 6, 2, 9);
    const pts = [0, 1].map((s) => new Rng(60 + s).uniformArray(16, 0, 1));
    const f = pts.map((x) => fcJacobianFactors(model, x));
    const fullProd = matmul64(fullJacobian(f[1]), fullJacobian(f[0]), 16, 16, 16);
    const redProd = matmul64(reducedJacobian(f[1]), reducedJacobian(f[0]), 6, 6, 6);
    const full = topByModulus(eigenvalues(fullProd, 16), 16).filter((e) => e.abs > 1e-9);
    const red = topByModulus(eigenvalues(redProd, 6), 6);
    expect(full.length).toBe(6);
    expectSameValues(full, red, 1e-9);
    expect(spectralRadius(eigenvalues(redProd, 6))).toBeCloseTo(full[0].abs, 10);
    model.dispose();
  });

  it('stops exactly on an invariant subspace and reports unconverged at mMax', () => {
    const n = 30;
    const k = new Float64Array(n * n);
    k[0] = 0.5; // rank one: the Krylov space is invariant after one step
    const [r] = arnoldiTopK(denseOperator(k, n), { k: 2 });
    expect(r.converged).toBe(true);
    expect(r.rho).toBeCloseTo(0.5, 12);
    const rng = new Rng(3);
    const dense = Float64Array.from(rng.normalArray(n * n, 0, 1));
    const [capped] = arnoldiTopK(denseOperator(dense, n), { k: 5, m0: 6, mMax: 8 });
    expect(capped.krylovDim).toBe(8);
    expect(capped.converged).toBe(false);
  });

  it('auto picks reduced for W < d, full for small d, arnoldi above the dense limit', () => {
    const spec = (dim: number, width: number) => ({ spec: { kind: 'fc', dim, width, depth: 2 } }) as unknown as Model;
    expect(chooseEigMethod(spec(784, 512), 'auto', true)).toBe('reduced');
    expect(chooseEigMethod(spec(64, 512), 'auto', true)).toBe('full');
    expect(chooseEigMethod(spec(16384, 4096), 'auto', true)).toBe('arnoldi');
    expect(chooseEigMethod(spec(784, 512), 'auto', false)).toBe('arnoldi');
    expect(chooseEigMethod(spec(784, 512), 'full', false)).toBe('full');
  });

  it('leaks no tensors', () => {
    const model = smallNet('relu', 12, 8, 2);
    const x = [new Rng(1).uniformArray(12, 0, 1)];
    certifyByArnoldi(model, [x], 2, { operator: 'vjp' });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      certifyByArnoldi(model, [x], 2, { operator: 'vjp' });
      certifyByArnoldi(model, [x], 2, { operator: 'factored' });
      jacobianOperators(model, [x]).apply([0], x[0]);
      fcReducedOperators(model, [x]).apply([0], new Float64Array(8).fill(1));
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
