/** The trainer's last finite state (keepLastFinite), with real tensors. */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import { createFcModel } from '../../engine/model.ts';
import { makeDataset } from '../../engine/objectives.ts';
import type { OptimizerName } from '../../engine/optimizers.ts';
import { Rng } from '../../engine/random.ts';
import { tf } from '../../engine/tf.ts';
import { createTrainer } from '../../engine/trainer.ts';

beforeAll(async () => {
  await selectBackend();
});

const rng = new Rng(3);
const data = makeDataset('cycle', [Array.from({ length: 6 }, () => rng.uniformArray(8, 0, 1))]);

describe('trainer keepLastFinite', () => {
  for (const name of ['gd', 'momentum', 'adam'] as OptimizerName[]) {
    it(`${name}: a huge lr diverges; the rollback restores weights, optimizer state and sampler of the last finite step`, () => {
      const model = createFcModel({ kind: 'fc', dim: 8, width: 32, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 2 });
      const trainer = createTrainer(model, data, { name, lr: name === 'adam' ? 1e6 : 1e4 }, { keepLastFinite: true, batchSize: 4, seed: 5 });
      const before: { w: Float32Array[]; opt: Float32Array[]; rng: number[] }[] = [];
      let k = 0, bad = false;
      for (; k < 200 && !bad; k++) {
        before.push({ w: model.weights().map((w) => w.data), opt: trainer.optimizer.state().map((s) => s.data), rng: trainer.state().rng });
        const r = trainer.step();
        bad = !Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm);
      }
      expect(bad, 'the run diverged').toBe(true);
      const stepsTaken = k;
      const back = trainer.rollback();
      expect(back).not.toBeNull();
      const lastFinite = stepsTaken - back!; // steps before the state we are back at
      expect(lastFinite).toBeGreaterThanOrEqual(0);
      expect(lastFinite).toBeLessThan(stepsTaken);
      expect(trainer.state().step).toBe(lastFinite);
      const ref = before[lastFinite];
      model.weights().forEach((w, i) => expect(w.data, w.name).toEqual(ref.w[i]));
      trainer.optimizer.state().forEach((s, i) => expect(s.data, s.name).toEqual(ref.opt[i]));
      expect(trainer.state().rng).toEqual(ref.rng);
      expect(trainer.weightsFinite!()).toBe(true);
      expect(Number.isFinite(trainer.loss())).toBe(true);
      // the same step again reproduces the step that followed the last finite state
      const again = trainer.step();
      expect(Number.isFinite(again.loss)).toBe(true);
      trainer.dispose();
      model.dispose();
    });
  }

  it('keeps the tensor count flat, and weightsFinite sees a NaN weight', () => {
    const model = createFcModel({ kind: 'fc', dim: 8, width: 16, depth: 1, activation: 'tanh', bias: true, init: 'torch', seed: 1 });
    const trainer = createTrainer(model, data, { name: 'adam', lr: 1e-3 }, { keepLastFinite: true });
    for (let i = 0; i < 3; i++) trainer.step();
    const n = tf.memory().numTensors;
    for (let i = 0; i < 30; i++) trainer.step();
    trainer.rollback();
    trainer.step();
    expect(tf.memory().numTensors).toBe(n);
    expect(trainer.weightsFinite!()).toBe(true);
    const ws = model.weights();
    ws[0].data[3] = Number.NaN;
    model.setWeights(ws);
    expect(trainer.weightsFinite!()).toBe(false);
    trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });

  it('without keepLastFinite there is nothing to roll back to', () => {
    const model = createFcModel({ kind: 'fc', dim: 8, width: 16, depth: 1, activation: 'tanh', bias: true, init: 'torch', seed: 1 });
    const trainer = createTrainer(model, data, { name: 'gd', lr: 1e-3 });
    trainer.step();
    expect(trainer.rollback()).toBeNull();
    trainer.dispose();
    model.dispose();
  });
});
