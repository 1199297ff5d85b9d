import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withNative } from '../native.ts';
import { tf } from '../../engine/tf.ts';
import { selectBackend } from '../../engine/backend.ts';
import { nativeAdamStep } from '../../engine/native-blas.ts';
import { createOptimizer, withDefaults, type OptimizerName, type OptimizerSpec } from '../../engine/optimizers.ts';

// Float32-exact starting points, so the float64 reference starts from the very same numbers.
const P0 = Float32Array.from([0.5, -1.25, 2.0, 0.03125, -0.7, 1.5]);
const G1 = Float32Array.from([0.1, -0.4, 0.25, 3.0, -0.05, 0]);
const G2 = Float32Array.from([-0.3, 0.2, 0.25, -1.0, 0.6, 0.125]);
const Q0 = Float32Array.from([1, -2, 0.25, 4]); // a second parameter, shaped [2, 2]
const H1 = Float32Array.from([0.5, 0.5, -0.125, 2]);
const H2 = Float32Array.from([-1, 0.25, 0.75, -0.5]);

interface State { p: number[]; a: number[]; b: number[]; t: number }

/** One float64 update of the rule, PyTorch conventions (buf = g on the first momentum step). */
function refStep(spec: Required<OptimizerSpec>, st: State, gIn: Float32Array): State {
  const t = st.t + 1;
  const p = st.p.slice(), a = st.a.slice(), b = st.b.slice();
  for (let i = 0; i < p.length; i++) {
    const g = gIn[i] + spec.weightDecay * p[i];
    switch (spec.name) {
      case 'gd':
        p[i] -= spec.lr * g;
        break;
      case 'momentum':
      case 'momentum-wd':
        a[i] = t === 1 ? g : spec.momentum * a[i] + g;
        p[i] -= spec.lr * a[i];
        break;
      case 'rmsprop':
        a[i] = spec.rho * a[i] + (1 - spec.rho) * g * g;
        p[i] -= (spec.lr * g) / (Math.sqrt(a[i]) + spec.eps);
        break;
      case 'adam': {
        a[i] = spec.beta1 * a[i] + (1 - spec.beta1) * g;
        b[i] = spec.beta2 * b[i] + (1 - spec.beta2) * g * g;
        const mh = a[i] / (1 - spec.beta1 ** t), vh = b[i] / (1 - spec.beta2 ** t);
        p[i] -= (spec.lr * mh) / (Math.sqrt(vh) + spec.eps);
        break;
      }
    }
  }
  return { p, a, b, t };
}

const init = (p: Float32Array): State => ({ p: Array.from(p), a: new Array(p.length).fill(0), b: new Array(p.length).fill(0), t: 0 });

function expectClose(actual: ArrayLike<number>, expected: number[], what: string, rel = 1e-6) {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = rel * Math.max(Math.abs(expected[i]), 1) ;
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (diff ${Math.abs(actual[i] - expected[i])}, tol ${tol})`);
    }
  }
}

const CASES: { name: OptimizerName; spec: OptimizerSpec }[] = [
  { name: 'gd', spec: { name: 'gd', lr: 0.1 } },
  { name: 'gd', spec: { name: 'gd', lr: 0.05, weightDecay: 0.2 } },
  { name: 'momentum', spec: { name: 'momentum', lr: 0.1 } },
  { name: 'momentum', spec: { name: 'momentum', lr: 0.02, momentum: 0.5 } },
  { name: 'momentum-wd', spec: { name: 'momentum-wd', lr: 0.1 } },
  { name: 'momentum-wd', spec: { name: 'momentum-wd', lr: 0.1, weightDecay: 0.3 } },
  { name: 'rmsprop', spec: { name: 'rmsprop', lr: 0.01 } },
  { name: 'rmsprop', spec: { name: 'rmsprop', lr: 0.001, rho: 0.9, weightDecay: 0.05 } },
  { name: 'adam', spec: { name: 'adam', lr: 1e-2 } },
  { name: 'adam', spec: { name: 'adam', lr: 3e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 } },
];

let made: tf.Tensor[] = [];
afterEach(() => {
  tf.dispose(made);
  made = [];
});

let nextId = 0;
function makeParams(): { name: string; variable: tf.Variable }[] {
  const pt = tf.tensor1d(P0), qt = tf.tensor2d(Q0, [2, 2]);
  const id = nextId++;
  const params: { name: string; variable: tf.Variable }[] = [
    { name: 'p', variable: tf.variable(pt, true, `p_${id}`) },
    { name: 'q', variable: tf.variable(qt, true, `q_${id}`) },
  ];
  tf.dispose([pt, qt]); // the variables now own their buffers alone
  made.push(...params.map((p) => p.variable));
  return params;
}

const grad = (data: Float32Array, shape: number[]) => {
  const t = tf.tensor(data, shape);
  made.push(t);
  return t;
};

for (const backend of withNative(['wasm'] as const)) {
  describe(`optimizers on ${backend}`, () => {
    beforeAll(async () => {
      const info = await selectBackend(backend);
      expect(info.name).toBe(backend);
      expect(tf.getBackend()).toBe(backend);
    });

    for (const { name, spec } of CASES) {
      it(`${name} ${JSON.stringify(spec)}: two steps match the float64 rule`, () => {
        const full = withDefaults(spec);
        const params = makeParams();
        const opt = createOptimizer(spec, params);
        try {
          let sp = init(P0), sq = init(Q0);
          for (const [g, h] of [[G1, H1], [G2, H2]] as const) {
            const idsBefore = params.map((p) => p.variable.dataId);
            opt.apply([grad(g, [6]), grad(h, [2, 2])]);
            sp = refStep(full, sp, g);
            sq = refStep(full, sq, h);
            expectClose(params[0].variable.dataSync(), sp.p, `p after step ${sp.t}`);
            expectClose(params[1].variable.dataSync(), sq.p, `q after step ${sq.t}`);
            expect(params[1].variable.shape).toEqual([2, 2]);
            expect(opt.step).toBe(sp.t);
            // Adam on wasm-blas updates the buffers in place (native path); everything else assigns new ones.
            const inPlace = backend === 'wasm-blas' && name === 'adam';
            params.forEach((p, i) => expect(p.variable.dataId === idsBefore[i], `in-place ${p.name}`).toBe(inPlace));
          }
          // slot state holds the same numbers as the reference
          const st = opt.state();
          if (name === 'adam') {
            expectClose(st.find((s) => s.name === 'p/m')!.data, sp.a, 'p/m');
            expectClose(st.find((s) => s.name === 'p/v')!.data, sp.b, 'p/v');
            expectClose(st.find((s) => s.name === 'q/v')!.data, sq.b, 'q/v');
          } else if (name !== 'gd') {
            const slot = name === 'rmsprop' ? 's' : 'buf';
            expectClose(st.find((s) => s.name === `p/${slot}`)!.data, sp.a, `p/${slot}`);
            expectClose(st.find((s) => s.name === `q/${slot}`)!.data, sq.a, `q/${slot}`);
          }
          expect(Array.from(st.find((s) => s.name === 'step')!.data)).toEqual([2]);
        } finally {
          opt.dispose();
        }
      });
    }

    it('setState resumes exactly where the state was taken (adam, momentum)', () => {
      for (const name of ['adam', 'momentum'] as const) {
        const spec = { name, lr: 0.01 };
        const a = makeParams(), b = makeParams();
        const oa = createOptimizer(spec, a), ob = createOptimizer(spec, b);
        oa.apply([grad(G1, [6]), grad(H1, [2, 2])]);
        oa.apply([grad(G2, [6]), grad(H2, [2, 2])]);
        // b gets a's weights and optimizer state, then both take the same third step
        tf.tidy(() => b.forEach((p, i) => p.variable.assign(a[i].variable.clone())));
        ob.setState(oa.state());
        expect(ob.step).toBe(2);
        oa.apply([grad(G2, [6]), grad(H1, [2, 2])]);
        ob.apply([grad(G2, [6]), grad(H1, [2, 2])]);
        a.forEach((p, i) => expect(Array.from(b[i].variable.dataSync()), name).toEqual(Array.from(p.variable.dataSync())));
        oa.dispose();
        ob.dispose();
      }
    });

    it('a variable that shares its buffer with a live tensor is never updated in place', () => {
      const spec = withDefaults({ name: 'adam', lr: 0.01 });
      const shared = tf.tensor1d(P0);
      const v = tf.variable(shared, true, `shared_${backend}`); // `shared` is still alive
      made.push(shared, v);
      const opt = createOptimizer(spec, [{ name: 'p', variable: v }]);
      const hp = { ...spec, t: 1 };
      const m = tf.tidy(() => tf.variable(tf.zerosLike(v))), s = tf.tidy(() => tf.variable(tf.zerosLike(v)));
      made.push(m, s);
      expect(nativeAdamStep(v, grad(G1, [6]), m, s, hp)).toBe(false);
      expect(Array.from(m.dataSync())).toEqual(new Array(6).fill(0));

      opt.apply([grad(G1, [6])]);
      expect(Array.from(shared.dataSync())).toEqual(Array.from(P0)); // the other tensor is unchanged
      expectClose(v.dataSync(), refStep(spec, init(P0), G1).p, 'v');
      opt.dispose();
    });

    it('a variable viewed by a reshape is not updated in place either', () => {
      const spec = withDefaults({ name: 'adam', lr: 0.01 });
      const [p] = makeParams();
      const view = p.variable.reshape([2, 3]);
      made.push(view);
      const opt = createOptimizer(spec, [p]);
      opt.apply([grad(G1, [6])]);
      expect(Array.from(view.dataSync())).toEqual(Array.from(P0));
      expectClose(p.variable.dataSync(), refStep(spec, init(P0), G1).p, 'p');
      opt.dispose();
    });

    if (backend === 'wasm-blas') {
      it('nativeAdamStep takes the native path for freshly created variables and matches the rule', () => {
        const spec = withDefaults({ name: 'adam', lr: 0.01, weightDecay: 0.1 });
        const [p] = makeParams();
        // created the way the optimizer creates its slots (the zeros tensor released by tidy)
        const m2 = tf.tidy(() => tf.variable(tf.zerosLike(p.variable)));
        const s2 = tf.tidy(() => tf.variable(tf.zerosLike(p.variable)));
        made.push(m2, s2);
        const id = p.variable.dataId;
        expect(nativeAdamStep(p.variable, grad(G1, [6]), m2, s2, { ...spec, t: 1 })).toBe(true);
        expect(p.variable.dataId).toBe(id);
        const ref = refStep(spec, init(P0), G1);
        expectClose(p.variable.dataSync(), ref.p, 'p');
        expectClose(m2.dataSync(), ref.a, 'm');
        expectClose(s2.dataSync(), ref.b, 'v');
        expect(nativeAdamStep(p.variable, grad(G2, [6]), m2, s2, { ...spec, t: 2 })).toBe(true);
        expectClose(p.variable.dataSync(), refStep(spec, ref, G2).p, 'p step 2');
      });
    } else {
      it('nativeAdamStep declines off wasm-blas', () => {
        const spec = withDefaults({ name: 'adam', lr: 0.01 });
        const [p] = makeParams();
        const m = tf.tidy(() => tf.variable(tf.zerosLike(p.variable)));
        const s = tf.tidy(() => tf.variable(tf.zerosLike(p.variable)));
        made.push(m, s);
        expect(nativeAdamStep(p.variable, grad(G1, [6]), m, s, { ...spec, t: 1 })).toBe(false);
        expect(Array.from(p.variable.dataSync())).toEqual(Array.from(P0));
      });
    }

    it('does not leak tensors across steps', () => {
      for (const { spec } of CASES) {
        const params = makeParams();
        const opt = createOptimizer(spec, params);
        const g = grad(G1, [6]), h = grad(H1, [2, 2]);
        opt.apply([g, h]);
        const n = tf.memory().numTensors;
        for (let i = 0; i < 5; i++) opt.apply([g, h]);
        expect(tf.memory().numTensors, spec.name).toBe(n);
        opt.dispose();
      }
    });
  });
}

describe('optimizer specs', () => {
  it('fills the documented defaults', () => {
    expect(withDefaults({ name: 'momentum-wd', lr: 0.1 })).toMatchObject({ momentum: 0.9, weightDecay: 5e-4 });
    expect(withDefaults({ name: 'adam', lr: 1e-4 })).toMatchObject({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    expect(withDefaults({ name: 'rmsprop', lr: 1e-4 })).toMatchObject({ rho: 0.99, weightDecay: 0 });
  });

  it('rejects unknown names and non-positive learning rates', () => {
    expect(() => withDefaults({ name: 'sgd' as OptimizerName, lr: 0.1 })).toThrow(/gd, momentum, momentum-wd, rmsprop, adam/);
    expect(() => withDefaults({ name: 'adam', lr: 0 })).toThrow(/learning rate/);
    expect(() => withDefaults({ name: 'adam', lr: NaN })).toThrow(/learning rate/);
  });
});
