/**
 * The one import of TensorFlow.js in engram. `@tensorflow/tfjs` registers every gradient (the bare
 * core does not); the wasm backend registers itself on import. Everything else imports `tf` from here.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };
export type Tensor = tf.Tensor;
export type Tensor2D = tf.Tensor2D;
export type Variable = tf.Variable;

// engram reports its backend itself; tfjs's "install tfjs-node" banner on the cpu backend is noise.
tf.env().set('PROD', true);
