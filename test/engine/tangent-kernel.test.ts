/**
 * λ_max of the tangent kernel K = J_θ J_θᵀ, matrix-free (Lanczos on K·v = J(Jᵀv)), against closed
 * forms and against a dense K built from the full parameter Jacobian.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import { createFcModel, type Model, type ModelSpec } from '../../engine/model.ts';
import { Rng } from '../../engine/random.ts';
import { kernelTimes, lanczosMax, meanMseNormalization, tangentKernelLambdaMax, vjp } from '../../engine/tangent-kernel.ts';
import { tf } from '../../engine/tf.ts';

beforeAll(async () => {
  await selectBackend();
});

const fc = (over: Partial<ModelSpec>): Model =>
  createFcModel({ kind: 'fc', dim: 3, width: 8, depth: 1, activation: 'pow:1', bias: false, init: 'torch', seed: 3, ...over });

/** Largest eigenvalue of a small symmetric matrix (dense reference). */
const denseMax = (m: Matrix) => Math.max(...new EigenvalueDecomposition(m, { assumeSymmetric: true }).realEigenvalues);

/** The full (n·d)×P Jacobian, one VJP per output with a one-hot cotangent. */
function denseJacobian(model: Model, xs: Float32Array): Matrix {
  const d = model.spec.dim, n = xs.length / d;
  const X = tf.tensor2d(xs, [n, d]);
  const rows: number[][] = [];
  for (let r = 0; r < n * d; r++) {
    const e = tf.tensor2d(Float32Array.from({ length: n * d }, (_, i) => (i === r ? 1 : 0)), [n, d]);
    const g = vjp(model, X, e);
    rows.push(g.flatMap((t) => Array.from(t.dataSync())));
    tf.dispose([e, ...g]);
  }
  X.dispose();
  return new Matrix(rows);
}

describe('tangent kernel λ_max', () => {
  it('uv model f(x) = x·Σ_k u_k v_k: λ_max(K) = ‖x‖²(‖u‖² + ‖v‖²) (K = (‖u‖² + ‖v‖²)·x xᵀ, rank one)', () => {
    // ∂f(x_i)/∂u_k = x_i v_k and ∂f(x_i)/∂v_k = x_i u_k, so K_ij = x_i x_j (‖u‖² + ‖v‖²)
    const model = fc({ dim: 1, width: 16 });
    const xs = Float32Array.of(1, 0.5, -0.5, 0.8, 2);
    const [u, v] = model.weights().map((w) => w.data);
    const sq = (a: Float32Array) => a.reduce((s, x) => s + x * x, 0);
    const expected = sq(xs) * (sq(u) + sq(v));
    const r = tangentKernelLambdaMax(model, xs);
    expect(r.converged).toBe(true);
    expect(r.iterations).toBeLessThanOrEqual(2); // rank one: Lanczos breaks down after one step
    expect(Math.abs(r.lambdaMax - expected) / expected).toBeLessThan(1e-6);
    model.dispose();
  });

  it('deep linear f(x) = x A B on orthonormal inputs: λ_max(K) = σ_max(XA)² + σ_max(B)²', () => {
    // K = (X A Aᵀ Xᵀ) ⊗ I_d + (X Xᵀ) ⊗ (BᵀB); with X Xᵀ = I the two terms commute, so the top
    // eigenvalue is the sum of the top eigenvalues of X A Aᵀ Xᵀ and BᵀB.
    const d = 6, n = 3, w = 10;
    const model = fc({ dim: d, width: w, seed: 11 });
    const rng = new Rng(4);
    // n orthonormal rows in R^d by Gram–Schmidt
    const rows: number[][] = [];
    while (rows.length < n) {
      const r = Array.from(rng.normalArray(d, 0, 1));
      for (const q of rows) {
        const p = r.reduce((s, x, i) => s + x * q[i], 0);
        q.forEach((x, i) => (r[i] -= p * x));
      }
      const nr = Math.hypot(...r);
      rows.push(r.map((x) => x / nr));
    }
    const X = new Matrix(rows);
    const [Aw, Bw] = model.weights();
    const A = new Matrix(Array.from({ length: d }, (_, i) => Array.from(Aw.data.subarray(i * w, (i + 1) * w))));
    const B = new Matrix(Array.from({ length: w }, (_, i) => Array.from(Bw.data.subarray(i * d, (i + 1) * d))));
    const XA = X.mmul(A);
    const expected = denseMax(XA.mmul(XA.transpose())) + denseMax(B.transpose().mmul(B));
    const r = tangentKernelLambdaMax(model, Float32Array.from(rows.flat()));
    expect(r.converged).toBe(true);
    expect(Math.abs(r.lambdaMax - expected) / expected).toBeLessThan(1e-5);
    model.dispose();
  });

  it('a tiny tanh net with biases: K·v and λ_max match the dense K = J Jᵀ; the FD JVP is close', () => {
    const model = fc({ dim: 4, width: 12, depth: 2, activation: 'tanh', bias: true, seed: 5 });
    const rng = new Rng(6);
    const xs = rng.uniformArray(3 * 4, -1, 1);
    const J = denseJacobian(model, xs);
    const K = J.mmul(J.transpose());
    const expected = denseMax(K);
    // one product against the dense one
    const v = Float64Array.from(rng.normalArray(12, 0, 1));
    const X = tf.tensor2d(xs, [3, 4]);
    const kv = kernelTimes(model, X, v);
    const ref = K.mmul(Matrix.columnVector(Array.from(v))).to1DArray();
    const err = Math.hypot(...ref.map((x, i) => x - kv[i])) / Math.hypot(...ref);
    expect(err).toBeLessThan(1e-5);
    const kvFd = kernelTimes(model, X, v, 'fd');
    const errFd = Math.hypot(...ref.map((x, i) => x - kvFd[i])) / Math.hypot(...ref);
    expect(errFd).toBeLessThan(1e-3);
    X.dispose();

    const fwd = tangentKernelLambdaMax(model, xs);
    expect(fwd.converged).toBe(true);
    expect(Math.abs(fwd.lambdaMax - expected) / expected).toBeLessThan(1e-5);
    const fd = tangentKernelLambdaMax(model, xs, { jvp: 'fd' });
    expect(Math.abs(fd.lambdaMax - expected) / expected).toBeLessThan(1e-3);
    model.dispose();
  });

  it('a ReLU net: the exact JVP matches the dense K; the FD one leaves the weights exactly as they were', () => {
    const model = fc({ dim: 5, width: 16, depth: 2, activation: 'relu', bias: true, seed: 8 });
    const xs = new Rng(9).uniformArray(4 * 5, 0, 1);
    const expected = denseMax(((J) => J.mmul(J.transpose()))(denseJacobian(model, xs)));
    const before = model.weights();
    expect(Math.abs(tangentKernelLambdaMax(model, xs).lambdaMax - expected) / expected).toBeLessThan(1e-5);
    tangentKernelLambdaMax(model, xs, { jvp: 'fd' });
    model.weights().forEach((w, i) => expect(w.data).toEqual(before[i].data));
    model.dispose();
  });

  it('keeps the tensor count flat', () => {
    const model = fc({ dim: 4, width: 8, depth: 2, activation: 'relu', bias: true });
    const xs = new Rng(1).uniformArray(8, 0, 1);
    tangentKernelLambdaMax(model, xs);
    const n = tf.memory().numTensors;
    tangentKernelLambdaMax(model, xs);
    tangentKernelLambdaMax(model, xs, { jvp: 'fd' });
    expect(tf.memory().numTensors).toBe(n);
    model.dispose();
  });

  it('Lanczos finds the top of a crowded spectrum that power iteration would take long to separate', () => {
    // diag(1, 0.99, 0.98, …): power iteration converges like 0.99^k; Lanczos in a few dozen steps
    const N = 200;
    const diag = Float64Array.from({ length: N }, (_, i) => 1 - i / N);
    const r = lanczosMax((v) => v.map((x, i) => x * diag[i]), N, { maxIterations: 60, tol: 1e-4 });
    expect(r.converged).toBe(true);
    expect(r.lambdaMax).toBeCloseTo(1, 6);
  });

  it('states the loss normalization of the trainer: tfjs mean MSE over n·d elements has a = 2/(n·d)', () => {
    // mean MSE = (1/(n·d))·Σ‖f − y‖² = (a/2)·Σ‖f − y‖² with a = 2/(n·d)
    expect(meanMseNormalization(4, 1)).toBe(0.5);
    expect(meanMseNormalization(48, 1024)).toBeCloseTo(2 / 49152, 15);
  });
});
