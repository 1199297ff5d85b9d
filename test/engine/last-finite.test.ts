/**
 * The trainer's last finite state (keepLastFinite) and the checkpoint store's guard against NaN/Inf
 * weights, with real tensors.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import type { CheckpointContents } from '../../engine/checkpoint.ts';
import { createFcModel } from '../../engine/model.ts';
import { makeDataset } from '../../engine/objectives.ts';
import type { OptimizerName } from '../../engine/optimizers.ts';
import { Rng } from '../../engine/random.ts';
import { tf } from '../../engine/tf.ts';
import { createTrainer } from '../../engine/trainer.ts';
import { checkpointStore } from '../../sinks/checkpoints.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-last-finite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
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

describe('checkpoint store and non-finite weights', () => {
  const contents = (step: number, fill: number): CheckpointContents => ({
    spec: { kind: 'fc', dim: 2, width: 2, depth: 1, activation: 'relu', bias: false, init: 'torch', seed: 1 },
    step, weights: [{ name: 'W0', shape: [2, 2], data: new Float32Array(4).fill(fill) }, { name: 'W1', shape: [2, 2], data: new Float32Array(4).fill(1) }],
  });

  it('refuses to write NaN/Inf weights, naming the file', () => {
    const store = checkpointStore(join(dir, 'guard'));
    expect(() => store.save(contents(5, Number.NaN))).toThrow(/step-000000005\.ckpt: weight W0 holds NaN or Inf/);
    expect(() => store.saveFinal(contents(5, Infinity))).toThrow(/model\.ckpt/);
    expect(() => store.saveLastFinite(contents(5, Number.NaN))).toThrow(/last-finite\.ckpt/);
    expect(store.newest()).toBeNull();
  });

  it('last-finite.ckpt drops the later interval checkpoints and is what a resume picks', () => {
    const run = join(dir, 'run');
    const store = checkpointStore(run);
    for (const s of [2, 4, 6]) store.save(contents(s, s));
    const path = store.saveLastFinite(contents(5, 5));
    expect(path).toBe(join(run, 'checkpoints', 'last-finite.ckpt'));
    expect(readdirSync(join(run, 'checkpoints')).sort()).toEqual(['last-finite.ckpt', 'step-000000002.ckpt', 'step-000000004.ckpt']);
    const newest = store.newest()!;
    expect(newest.path).toBe(path);
    expect(newest.contents.step).toBe(5);
    // a resumed run that goes further saves interval checkpoints that win again
    store.save(contents(8, 8));
    expect(store.newest()!.contents.step).toBe(8);
  });
});
