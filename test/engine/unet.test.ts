import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withNative } from '../native.ts';
import { tf } from '../../engine/tf.ts';
import { selectBackend } from '../../engine/backend.ts';
import { loadCheckpoint, modelFromCheckpoint } from '../../engine/checkpoint.ts';
import { fcModel, validateSpec, type UnetSpec } from '../../engine/model.ts';
import { makeDataset } from '../../engine/objectives.ts';
import { Rng } from '../../engine/random.ts';
import { createTrainer } from '../../engine/trainer.ts';
import { conv3x3, createUnetModel, unetFullDepth, unetReceptiveField } from '../../engine/unet.ts';
import { saveCheckpoint } from '../../sinks/checkpoints.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-unet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (over: Partial<UnetSpec> = {}): UnetSpec => {
  const image = over.image ?? { height: 8, width: 8, channels: 1 };
  return {
    kind: 'unet', dim: image.height * image.width * image.channels, image, channels: 8, depth: 3,
    activation: 'leaky_relu', bias: true, init: 'torch', seed: 2, ...over,
  };
};

describe('U-Net spec', () => {
  it('checks the image shape against d, the depth against the image, and the initializer', () => {
    expect(() => validateSpec(spec())).not.toThrow();
    expect(() => validateSpec({ ...spec(), dim: 65 })).toThrow(/8x8x1 image has 64 values, not 65/);
    expect(() => validateSpec(spec({ depth: 4 }))).toThrow(/at most 3/);
    expect(() => validateSpec(spec({ init: 'rank1:1,1' }))).toThrow(/rank1 initializer is for FC/);
    expect(() => validateSpec(spec({ channels: 0 }))).toThrow(/--channels/);
    expect(unetFullDepth(8, 8)).toBe(3);
    expect(unetFullDepth(5, 3)).toBe(3);
    // at full depth every output pixel sees every input pixel
    expect(unetReceptiveField(unetFullDepth(16, 16))).toBeGreaterThanOrEqual(2 * 16 - 1);
  });
});

describe('conv3x3', () => {
  it("has tfjs's own conv2d gradients (cpu backend, which has Conv2DBackpropFilter), stride 1 and 2, even and odd sizes", async () => {
    await selectBackend('cpu');
    const rng = new Rng(1);
    for (const [h, w, s] of [[8, 8, 1], [8, 8, 2], [7, 5, 2], [7, 5, 1]] as const) {
      const x0 = tf.tensor4d(rng.normalArray(2 * h * w * 3, 0, 1), [2, h, w, 3]), k0 = tf.tensor4d(rng.normalArray(9 * 3 * 4, 0, 1), [3, 3, 3, 4]);
      const x = tf.variable(x0), k = tf.variable(k0);
      tf.dispose([x0, k0]);
      const ref = tf.variableGrads(() => tf.sum(tf.square(tf.conv2d(x, k, s, 1))) as tf.Scalar, [x, k]);
      const ours = tf.variableGrads(() => tf.sum(tf.square(conv3x3(x, k, s))) as tf.Scalar, [x, k]);
      expect(ours.value.dataSync()[0]).toBeCloseTo(ref.value.dataSync()[0], 2);
      for (const v of [x, k]) {
        const a = ref.grads[v.name].dataSync(), b = ours.grads[v.name].dataSync();
        const scale = Math.max(...Array.from(a, Math.abs));
        expect(Math.max(...Array.from(a, (q, i) => Math.abs(q - b[i]))) / scale, `${h}x${w}/${s}`).toBeLessThan(1e-5);
      }
      tf.dispose([x, k, ref.value, ours.value, ...Object.values(ref.grads), ...Object.values(ours.grads)]);
    }
    expect(tf.memory().numTensors).toBe(0);
  });
});

for (const backend of withNative(['wasm'] as const)) {
  describe(`U-Net on ${backend}`, () => {
    it('maps [n, H·W·C] to the same shape, also for odd sizes and RGB', async () => {
      await selectBackend(backend);
      for (const image of [{ height: 8, width: 8, channels: 1 }, { height: 7, width: 5, channels: 3 }]) {
        const m = createUnetModel(spec({ image, depth: 2 }));
        const d = image.height * image.width * image.channels;
        const y = m.apply(new Rng(1).uniformArray(3 * d, 0, 1));
        expect(y.length).toBe(3 * d);
        expect(y.every(Number.isFinite)).toBe(true);
        expect(m.iterate(new Rng(2).uniformArray(d, 0, 1), 4).length).toBe(4 * d);
        m.dispose();
      }
      expect(tf.memory().numTensors).toBe(0);
    });

    it('code that works on FC nets only refuses a U-Net with a clear error', async () => {
      await selectBackend(backend);
      const m = createUnetModel(spec());
      try {
        expect(() => fcModel(m)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining("holds a 'unet'") }));
      } finally {
        m.dispose();
      }
    });

    it('gradients reach every parameter', async () => {
      await selectBackend(backend);
      const m = createUnetModel(spec());
      const x = tf.tensor2d(new Rng(3).uniformArray(2 * 64, 0, 1), [2, 64]);
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(m.forward(x), x))) as tf.Scalar, m.params.map((p) => p.variable));
      for (const p of m.params) {
        const g = grads[p.variable.name];
        expect(g.shape, p.name).toEqual(p.variable.shape);
        expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]), p.name).toBeGreaterThan(0);
      }
      tf.dispose([value, x, ...Object.values(grads)]);
      m.dispose();
      expect(tf.memory().numTensors).toBe(0);
    });

    it('a tiny U-Net memorizes one image to low loss, with flat tensor counts', async () => {
      await selectBackend(backend);
      const m = createUnetModel(spec());
      const img = new Float32Array(64).map((_, i) => ((i % 8) + Math.floor(i / 8)) / 14);
      const t = createTrainer(m, makeDataset('autoencode', [[img]]), { name: 'adam', lr: 3e-3 });
      const first = t.step().loss;
      const n = tf.memory().numTensors;
      for (let i = 0; i < 400; i++) t.step();
      expect(tf.memory().numTensors).toBe(n);
      const last = t.loss();
      expect(last).toBeLessThan(1e-4);
      expect(last).toBeLessThan(first / 100);
      t.dispose();
      m.dispose();
      expect(tf.memory().numTensors).toBe(0);
    });

    it('round-trips through a checkpoint: same spec, same outputs bit for bit', async () => {
      await selectBackend(backend);
      const a = createUnetModel(spec({ image: { height: 6, width: 6, channels: 3 }, depth: 2, activation: 'cosid', seed: 9 }));
      const path = join(dir, `${backend}.ckpt`);
      saveCheckpoint(path, { spec: a.spec, step: 3, weights: a.weights() });
      const c = loadCheckpoint(path);
      expect(c.spec).toEqual(a.spec);
      const b = modelFromCheckpoint(path, c);
      expect(b.spec.kind).toBe('unet');
      expect(b.paramCount).toBe(a.paramCount);
      const x = new Rng(4).uniformArray(2 * 108, 0, 1);
      expect(Array.from(b.apply(x))).toEqual(Array.from(a.apply(x)));
      a.dispose();
      b.dispose();
      expect(tf.memory().numTensors).toBe(0);
    });
  });
}
