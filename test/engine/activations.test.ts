import { beforeAll, describe, expect, it } from 'vitest';
import { withNative } from '../native.ts';
import { tf } from '../../engine/tf.ts';
import { selectBackend } from '../../engine/backend.ts';
import { ACTIVATION_NAMES, activation } from '../../engine/activations.ts';

const LAMBDA = 1.0507009873554805;
const ALPHA = 1.6732632423543772;
const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** Plain float64 value and derivative of every activation (pow:m tested as pow:3). */
const REF: Record<string, { f: (x: number) => number; df: (x: number) => number }> = {
  relu: { f: (x) => Math.max(0, x), df: (x) => (x > 0 ? 1 : 0) },
  leaky_relu: { f: (x) => (x > 0 ? x : 0.01 * x), df: (x) => (x > 0 ? 1 : 0.01) },
  selu: {
    f: (x) => (x > 0 ? LAMBDA * x : LAMBDA * ALPHA * (Math.exp(x) - 1)),
    df: (x) => (x > 0 ? LAMBDA : LAMBDA * ALPHA * Math.exp(x)),
  },
  swish: { f: (x) => x * sig(x), df: (x) => sig(x) + x * sig(x) * (1 - sig(x)) },
  cosid: { f: (x) => Math.cos(x) - x, df: (x) => -Math.sin(x) - 1 },
  sinusoidal: { f: (x) => x + Math.sin(10 * x) / 5, df: (x) => 1 + 2 * Math.cos(10 * x) },
  sigmoid: { f: sig, df: (x) => sig(x) * (1 - sig(x)) },
  tanh: { f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2 },
  exp2: { f: (x) => Math.exp(2 * x), df: (x) => 2 * Math.exp(2 * x) },
  'pow:3': { f: (x) => x ** 3, df: (x) => 3 * x * x },
};

// A grid avoiding 0 (the relu-type kinks), covering both signs and several magnitudes.
const GRID = [-3, -2.2, -1.5, -1, -0.7, -0.31, -0.1, -0.013, 0.017, 0.09, 0.33, 0.5, 0.77, 1, 1.4, 2.1, 3];

/** |a − b| ≤ rel·max(|b|, 1e-2) plus a float32 absolute floor. */
function expectClose(actual: ArrayLike<number>, expected: number[], rel = 1e-5, abs = 1e-6) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = rel * Math.max(Math.abs(expected[i]), 1e-2) + abs;
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`index ${i} (x=${GRID[i]}): got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

const names = ACTIVATION_NAMES.map((n) => (n === 'pow:m' ? 'pow:3' : n));

for (const backend of withNative(['wasm', 'cpu'] as const)) {
  describe(`activations on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend(backend);
      expect(tf.getBackend()).toBe(backend);
    });

    it('covers every name in ACTIVATION_NAMES', () => {
      for (const n of names) expect(REF[n], n).toBeDefined();
      expect(names).toHaveLength(10);
    });

    for (const name of names) {
      it(`${name}: values match the float64 reference`, () => {
        const act = activation(name);
        expect(act.name).toBe(name);
        const y = tf.tidy(() => act.apply(tf.tensor1d(GRID)).dataSync());
        expectClose(y, GRID.map(REF[name].f));
      });

      it(`${name}: tf.grad matches the analytic derivative`, () => {
        const act = activation(name);
        const g = tf.tidy(() => tf.grad((x: tf.Tensor) => act.apply(x))(tf.tensor1d(GRID)).dataSync());
        expectClose(g, GRID.map(REF[name].df), 1e-5, 2e-6);
      });
    }

    it('fused hints agree with apply (relu, leaky_relu, sigmoid)', () => {
      for (const name of names) {
        const act = activation(name);
        if (!act.fused) continue;
        const [a, b] = tf.tidy(() => {
          const x = tf.tensor2d(GRID, [1, GRID.length]);
          const eye = tf.eye(GRID.length);
          return [act.apply(x).dataSync(), tf.fused.matMul({ a: x, b: eye, ...act.fused }).dataSync()];
        });
        expectClose(b, Array.from(a));
      }
      expect(names.filter((n) => activation(n).fused).sort()).toEqual(['leaky_relu', 'relu', 'sigmoid']);
    });

    it('does not leak tensors', () => {
      const before = tf.memory().numTensors;
      for (const name of names) tf.tidy(() => {
        activation(name).apply(tf.tensor1d(GRID));
      });
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('activation names', () => {
  it('pow:m parses other exponents', () => {
    const y = tf.tidy(() => activation('pow:2').apply(tf.tensor1d([-1.5, 2])).dataSync());
    expect(y[0]).toBeCloseTo(2.25, 6);
    expect(y[1]).toBeCloseTo(4, 6);
  });

  it('unknown names throw with the list of valid names', () => {
    for (const bad of ['gelu', 'pow:', 'pow:x', 'RELU', '']) {
      let msg = '';
      try {
        activation(bad);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg, bad).toContain(`'${bad}'`);
      for (const n of ACTIVATION_NAMES) expect(msg).toContain(n);
    }
  });
});
