/**
 * Optimizers of docs/math.md §3.3 as explicit update rules (PyTorch conventions), so one step can be checked
 * by hand. Adam on the wasm-blas backend runs as one native pass per parameter.
 */
import type { OptimizerConfig } from '../events.ts';
import { tf } from './tf.ts';
import { nativeAdamStep } from './native-blas.ts';

export const OPTIMIZER_NAMES = ['gd', 'momentum', 'momentum-wd', 'rmsprop', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** An optimizer as configured; the one definition is the run config's (events.ts), which run-start records. */
export type OptimizerSpec = OptimizerConfig;

export interface Optimizer {
  readonly spec: Readonly<Required<OptimizerSpec>>;
  /** Use this learning rate from the next update on (a schedule's value; ≥ 0). */
  setLr(lr: number): void;
  /** Apply one update with these gradients (same order as `params`). */
  apply(grads: tf.Tensor[]): void;
  /** Slot tensors by parameter name (for checkpoints). */
  state(): { name: string; data: Float32Array }[];
  setState(s: { name: string; data: Float32Array }[]): void;
  readonly step: number;
  /** The slot variables (momentum buffers, Adam moments), flat: for an in-memory snapshot of the state. */
  readonly slotVariables: tf.Variable[];
  dispose(): void;
}

export function isOptimizerName(s: string): s is OptimizerName {
  return (OPTIMIZER_NAMES as readonly string[]).includes(s);
}

export function withDefaults(spec: OptimizerSpec): Required<OptimizerSpec> {
  if (!isOptimizerName(spec.name)) {
    throw new Error(`unknown optimizer '${spec.name}'; choose one of: ${OPTIMIZER_NAMES.join(', ')}`);
  }
  if (!(spec.lr > 0)) throw new Error(`learning rate must be > 0 (got ${spec.lr})`);
  return {
    name: spec.name,
    lr: spec.lr,
    momentum: spec.momentum ?? 0.9,
    weightDecay: spec.weightDecay ?? (spec.name === 'momentum-wd' ? 5e-4 : 0),
    beta1: spec.beta1 ?? 0.9,
    beta2: spec.beta2 ?? 0.999,
    rho: spec.rho ?? 0.99,
    eps: spec.eps ?? 1e-8,
  };
}

export function createOptimizer(specIn: OptimizerSpec, params: { name: string; variable: tf.Variable }[]): Optimizer {
  const spec = withDefaults(specIn);
  const slotNames = spec.name === 'adam' ? ['m', 'v'] : spec.name === 'gd' ? [] : spec.name === 'rmsprop' ? ['s'] : ['buf'];
  const slots = params.map((p) =>
    slotNames.map((s) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false, `${p.variable.name}/${s}`))),
  );
  let t = 0;
  return {
    spec,
    setLr(lr) {
      if (!(lr >= 0)) throw new Error(`learning rate must be ≥ 0 (got ${lr})`);
      spec.lr = lr;
    },
    get step() {
      return t;
    },
    slotVariables: slots.flat(),
    apply(grads) {
      t++;
      params.forEach((p, i) => {
        const v = p.variable, g = grads[i], sl = slots[i];
        if (spec.name === 'adam' && nativeAdamStep(v, g, sl[0], sl[1], { ...spec, t })) return;
        tf.tidy(() => {
          const gw = spec.weightDecay ? tf.add(g, tf.mul(v, spec.weightDecay)) : g;
          switch (spec.name) {
            case 'gd':
              v.assign(tf.sub(v, tf.mul(gw, spec.lr)));
              break;
            case 'momentum':
            case 'momentum-wd': {
              // PyTorch SGD: buf = μ·buf + g (buf = g on the first step); p -= lr·buf
              const buf = t === 1 ? gw : tf.add(tf.mul(sl[0], spec.momentum), gw);
              sl[0].assign(buf);
              v.assign(tf.sub(v, tf.mul(buf, spec.lr)));
              break;
            }
            case 'rmsprop': {
              const s = tf.add(tf.mul(sl[0], spec.rho), tf.mul(tf.square(gw), 1 - spec.rho));
              sl[0].assign(s);
              v.assign(tf.sub(v, tf.div(tf.mul(gw, spec.lr), tf.add(tf.sqrt(s), spec.eps))));
              break;
            }
            case 'adam': {
              const m = tf.add(tf.mul(sl[0], spec.beta1), tf.mul(gw, 1 - spec.beta1));
              const s = tf.add(tf.mul(sl[1], spec.beta2), tf.mul(tf.square(gw), 1 - spec.beta2));
              sl[0].assign(m);
              sl[1].assign(s);
              const c1 = 1 - Math.pow(spec.beta1, t), c2 = 1 - Math.pow(spec.beta2, t);
              const denom = tf.add(tf.sqrt(tf.div(s, c2)), spec.eps);
              v.assign(tf.sub(v, tf.div(tf.mul(m, spec.lr / c1), denom)));
              break;
            }
          }
        });
      });
    },
    state() {
      return params.flatMap((p, i) =>
        slots[i].map((s, j) => ({ name: `${p.name}/${slotNames[j]}`, data: s.dataSync().slice() as Float32Array })),
      ).concat([{ name: 'step', data: Float32Array.of(t) }]);
    },
    setState(st) {
      for (const e of st) {
        if (e.name === 'step') {
          t = e.data[0];
          continue;
        }
        const [pn, sn] = e.name.split('/');
        const i = params.findIndex((p) => p.name === pn), j = slotNames.indexOf(sn);
        if (i < 0 || j < 0) throw new Error(`optimizer state '${e.name}' does not fit a ${spec.name} optimizer of this model`);
        tf.tidy(() => slots[i][j].assign(tf.tensor(e.data, slots[i][j].shape)));
      }
    },
    dispose() {
      slots.flat().forEach((s) => s.dispose());
    },
  };
}
