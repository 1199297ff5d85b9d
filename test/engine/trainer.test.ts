import { describe, expect, it } from 'vitest';
import { withNative } from '../native.ts';
import { tf } from '../../engine/tf.ts';
import { selectBackend } from '../../engine/backend.ts';
import { createFcModel, type ModelSpec } from '../../engine/model.ts';
import { makeDataset, type Dataset } from '../../engine/objectives.ts';
import type { OptimizerName } from '../../engine/optimizers.ts';
import { Rng } from '../../engine/random.ts';
import { createTrainer } from '../../engine/trainer.ts';

function cycleData(n: number, dim: number, seed: number): Dataset {
  const rng = new Rng(seed);
  return makeDataset('cycle', [Array.from({ length: n }, () => rng.uniformArray(dim, 0, 1))]);
}

const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({
  kind: 'fc', dim: 16, width: 64, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 3, ...over,
});

for (const backend of withNative(['wasm'] as const)) {
  describe(`trainer on ${backend}`, () => {
    it('tensor count and bytes are flat from step 5 to step 200 (adam, full batch and minibatch)', async () => {
      expect((await selectBackend(backend)).name).toBe(backend);
      for (const batchSize of [undefined, 3]) {
        const model = createFcModel(spec());
        const trainer = createTrainer(model, cycleData(8, 16, 1), { name: 'adam', lr: 1e-3 }, { batchSize, seed: 4 });
        for (let i = 0; i < 5; i++) trainer.step();
        const after5 = tf.memory();
        let last = 0;
        for (let i = 5; i < 200; i++) last = trainer.step().loss;
        const after200 = tf.memory();
        expect(after200.numTensors, `batch ${batchSize}`).toBe(after5.numTensors);
        expect(after200.numBytes, `batch ${batchSize}`).toBe(after5.numBytes);
        expect(after200.numDataBuffers, `batch ${batchSize}`).toBe(after5.numDataBuffers);
        expect(Number.isFinite(last)).toBe(true);
        trainer.dispose();
        model.dispose();
      }
      expect(tf.memory().numTensors).toBe(0);
    });

    it('no leaks with the other optimizers either', async () => {
      await selectBackend(backend);
      for (const name of ['gd', 'momentum', 'momentum-wd', 'rmsprop'] as OptimizerName[]) {
        const model = createFcModel(spec({ width: 32, activation: 'cosid' }));
        const trainer = createTrainer(model, cycleData(5, 16, 2), { name, lr: 1e-3 });
        for (let i = 0; i < 3; i++) trainer.step();
        const n = tf.memory().numTensors;
        for (let i = 0; i < 30; i++) trainer.step();
        trainer.loss();
        expect(tf.memory().numTensors, name).toBe(n);
        trainer.dispose();
        model.dispose();
      }
      expect(tf.memory().numTensors).toBe(0);
    });

    it('the loss falls on a tiny cycle over 300 adam steps', async () => {
      await selectBackend(backend);
      const model = createFcModel(spec({ dim: 8, width: 64, depth: 2, activation: 'leaky_relu', seed: 5 }));
      const trainer = createTrainer(model, cycleData(4, 8, 6), { name: 'adam', lr: 3e-3 });
      const first = trainer.loss();
      const losses: number[] = [];
      for (let i = 0; i < 300; i++) {
        const r = trainer.step();
        expect(Number.isFinite(r.gradNorm) && r.gradNorm >= 0).toBe(true);
        expect(r.lr).toBe(3e-3);
        expect(r.batchSize).toBe(4);
        losses.push(r.loss);
      }
      expect(losses[0]).toBeCloseTo(first, 6); // the first step reports the loss before its update
      const final = trainer.loss();
      expect(final).toBeLessThan(first / 20);
      // decreasing on the whole, not just at the end
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      expect(mean(losses.slice(200))).toBeLessThan(mean(losses.slice(100, 200)));
      expect(mean(losses.slice(100, 200))).toBeLessThan(mean(losses.slice(0, 100)));
      trainer.dispose();
      model.dispose();
    });

    it('one gd step equals a manual tf.variableGrads update and a float64 backprop', async () => {
      await selectBackend(backend);
      const s = spec({ dim: 3, width: 5, depth: 1, activation: 'tanh', seed: 11 });
      const data = cycleData(4, 3, 12);
      const lr = 0.1;
      const a = createFcModel(s), b = createFcModel(s);
      const w0 = a.weights();
      expect(b.weights().map((w) => Array.from(w.data))).toEqual(w0.map((w) => Array.from(w.data)));

      // trainer step on a
      const trainer = createTrainer(a, data, { name: 'gd', lr });
      const r = trainer.step();

      // manual step on b
      const X = tf.tensor2d(data.inputs, [data.n, data.dim]), Y = tf.tensor2d(data.targets, [data.n, data.dim]);
      const vars = b.params.map((p) => p.variable);
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(b.forward(X), Y)) as tf.Scalar, vars);
      const manualLoss = value.dataSync()[0];
      let g2 = 0;
      for (const v of vars) {
        const g = grads[v.name];
        g2 += tf.tidy(() => g.square().sum().dataSync()[0]);
        tf.tidy(() => v.assign(tf.sub(v, tf.mul(g, lr))));
      }
      tf.dispose([value, X, Y, ...Object.values(grads)]);

      expect(r.loss).toBeCloseTo(manualLoss, 6);
      expect(r.gradNorm).toBeCloseTo(Math.sqrt(g2), 5);
      const wa = a.weights(), wb = b.weights();
      wa.forEach((w, i) => w.data.forEach((v, j) => expect(Math.abs(v - wb[i].data[j]), `${w.name}[${j}]`).toBeLessThan(1e-6)));

      // float64 reference: f(x) = tanh(x W0 + b0) W1 + b1, L = mean (f − y)²
      const [W0, b0, W1, b1] = w0.map((w) => Array.from(w.data));
      const d = 3, H = 5, n = data.n;
      const dW0 = new Array(d * H).fill(0), db0 = new Array(H).fill(0), dW1 = new Array(H * d).fill(0), db1 = new Array(d).fill(0);
      let loss = 0;
      for (let r0 = 0; r0 < n; r0++) {
        const x = Array.from(data.inputs.subarray(r0 * d, r0 * d + d)), y = Array.from(data.targets.subarray(r0 * d, r0 * d + d));
        const h = Array.from({ length: H }, (_, j) => Math.tanh(b0[j] + x.reduce((acc, xi, i) => acc + xi * W0[i * H + j], 0)));
        const f = Array.from({ length: d }, (_, k) => b1[k] + h.reduce((acc, hj, j) => acc + hj * W1[j * d + k], 0));
        const delta = f.map((fk, k) => (2 * (fk - y[k])) / (n * d));
        loss += f.reduce((acc, fk, k) => acc + (fk - y[k]) ** 2, 0) / (n * d);
        delta.forEach((dk, k) => {
          db1[k] += dk;
          h.forEach((hj, j) => (dW1[j * d + k] += hj * dk));
        });
        const dh = h.map((hj, j) => delta.reduce((acc, dk, k) => acc + dk * W1[j * d + k], 0) * (1 - hj * hj));
        dh.forEach((v, j) => {
          db0[j] += v;
          x.forEach((xi, i) => (dW0[i * H + j] += xi * v));
        });
      }
      expect(r.loss).toBeCloseTo(loss, 6);
      const ref = [W0.map((v, i) => v - lr * dW0[i]), b0.map((v, i) => v - lr * db0[i]), W1.map((v, i) => v - lr * dW1[i]), b1.map((v, i) => v - lr * db1[i])];
      const gn = Math.sqrt([dW0, db0, dW1, db1].flat().reduce((acc, v) => acc + v * v, 0));
      expect(r.gradNorm / gn).toBeCloseTo(1, 5);
      wa.forEach((w, i) => w.data.forEach((v, j) => expect(Math.abs(v - ref[i][j]), `${w.name}[${j}] vs float64`).toBeLessThan(1e-6)));

      trainer.dispose();
      a.dispose();
      b.dispose();
      expect(tf.memory().numTensors).toBe(0);
    });
  });
}

describe('trainer arguments', () => {
  it('rejects a dataset of another dimension and clamps the batch size', async () => {
    await selectBackend('cpu');
    const model = createFcModel(spec({ dim: 4, width: 8, depth: 1 }));
    expect(() => createTrainer(model, cycleData(3, 5, 1), { name: 'gd', lr: 0.1 })).toThrow(/5 values but the model expects 4/);
    const t = createTrainer(model, cycleData(3, 4, 1), { name: 'gd', lr: 0.1 }, { batchSize: 50 });
    expect(t.step().batchSize).toBe(3);
    t.dispose();
    model.dispose();
  });
});

describe('trainer as the train operator drives it', () => {
  it('setData: the next step trains on the new data (same weights and optimizer), checked against a fresh trainer on it', async () => {
    await selectBackend('cpu');
    const s = spec({ dim: 4, width: 8, depth: 1, seed: 5 });
    const a = createFcModel(s), b = createFcModel(s);
    const first = cycleData(3, 4, 1), second = cycleData(5, 4, 2);
    const ta = createTrainer(a, first, { name: 'gd', lr: 0.1 });
    ta.step();
    ta.setData(second);
    const ra = ta.step();
    // b: the same first step, then a trainer built on the second dataset from b's weights
    const tb1 = createTrainer(b, first, { name: 'gd', lr: 0.1 });
    tb1.step();
    tb1.dispose();
    const tb2 = createTrainer(b, second, { name: 'gd', lr: 0.1 });
    const rb = tb2.step();
    expect(ra.loss).toBe(rb.loss);
    expect(ra.batchSize).toBe(5);
    expect(a.weights().map((w) => Array.from(w.data))).toEqual(b.weights().map((w) => Array.from(w.data)));
    expect(ta.loss()).toBe(tb2.loss());
    expect(() => ta.setData(cycleData(3, 5, 1))).toThrow(/5 values but the model expects 4/);
    expect(ta.state().step).toBe(2);
    [ta, tb2, a, b].forEach((x) => x.dispose());
    expect(tf.memory().numTensors).toBe(0);
  });

  it('setLr changes the size of the next gd update; state/restore carries the step count, optimizer slots and sampler', async () => {
    await selectBackend('cpu');
    const s = spec({ dim: 4, width: 8, depth: 1, seed: 6 });
    const data = cycleData(6, 4, 3);
    const a = createFcModel(s), b = createFcModel(s);
    const ta = createTrainer(a, data, { name: 'gd', lr: 0.1 });
    const tb = createTrainer(b, data, { name: 'gd', lr: 0.1 });
    const w0 = a.weights().map((w) => Float32Array.from(w.data));
    ta.setLr(0.2);
    expect(ta.step().lr).toBe(0.2);
    tb.step();
    // gd: Δw is proportional to lr
    a.weights().forEach((w, i) => w.data.forEach((v, j) => {
      const db = b.weights()[i].data[j] - w0[i][j];
      expect(v - w0[i][j]).toBeCloseTo(2 * db, 5);
    }));
    [ta, tb, a, b].forEach((x) => x.dispose());

    // restore: a fresh trainer on the same weights continues exactly (Adam moments, minibatch sampler, step count)
    const m = createFcModel(s);
    const t1 = createTrainer(m, data, { name: 'adam', lr: 1e-3 }, { batchSize: 2, seed: 9 });
    for (let i = 0; i < 4; i++) t1.step();
    const st = t1.state();
    const w4 = m.weights();
    expect(st.step).toBe(4);
    const r5 = t1.step();
    const m2 = createFcModel(s);
    m2.setWeights(w4);
    const t2 = createTrainer(m2, data, { name: 'adam', lr: 1e-3 }, { batchSize: 2, seed: 1 });
    t2.restore(st);
    expect(t2.state().step).toBe(4);
    expect(t2.step().loss).toBe(r5.loss);
    expect(t2.state().step).toBe(5);
    expect(m2.weights().map((w) => Array.from(w.data))).toEqual(m.weights().map((w) => Array.from(w.data)));
    [t1, t2, m, m2].forEach((x) => x.dispose());
    expect(tf.memory().numTensors).toBe(0);
  });
});
