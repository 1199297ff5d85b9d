/** The activations of docs/math.md §2, as tfjs ops (so gradients come from autodiff). */
import { tf } from './tf.ts';

export const ACTIVATION_NAMES = [
  'relu', 'leaky_relu', 'selu', 'swish', 'cosid', 'sinusoidal', 'sigmoid', 'tanh', 'exp2', 'pow:m',
] as const;

export interface Activation {
  name: string;
  apply(x: tf.Tensor): tf.Tensor;
  /** The tfjs fused-matmul activation equal to this one, when there is one (inference fast path). */
  fused?: { activation: 'relu' | 'leakyrelu' | 'sigmoid'; leakyreluAlpha?: number };
}

const LEAKY_SLOPE = 0.01;

/** Parse an activation name; `pow:3` is x^3 (theory runs). Throws with the list of valid names. */
export function activation(name: string): Activation {
  const pow = /^pow:(\d+)$/.exec(name);
  if (pow) {
    const m = Number(pow[1]);
    return { name, apply: (x) => tf.pow(x, tf.scalar(m, 'float32')) };
  }
  switch (name) {
    case 'relu':
      return { name, apply: (x) => tf.relu(x), fused: { activation: 'relu' } };
    case 'leaky_relu':
      return {
        name, apply: (x) => tf.leakyRelu(x, LEAKY_SLOPE),
        fused: { activation: 'leakyrelu', leakyreluAlpha: LEAKY_SLOPE },
      };
    case 'selu':
      return { name, apply: (x) => tf.selu(x) };
    case 'swish':
      return { name, apply: (x) => tf.mul(x, tf.sigmoid(x)) };
    case 'cosid':
      return { name, apply: (x) => tf.sub(tf.cos(x), x) };
    case 'sinusoidal':
      return { name, apply: (x) => tf.add(x, tf.div(tf.sin(tf.mul(x, 10)), 5)) };
    case 'sigmoid':
      return { name, apply: (x) => tf.sigmoid(x), fused: { activation: 'sigmoid' } };
    case 'tanh':
      return { name, apply: (x) => tf.tanh(x) };
    case 'exp2':
      return { name, apply: (x) => tf.exp(tf.mul(x, 2)) };
    default:
      throw new Error(`unknown activation '${name}'; choose one of: ${ACTIVATION_NAMES.join(', ')}`);
  }
}
