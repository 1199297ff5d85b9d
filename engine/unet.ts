/**
 * The convolutional U-Net of docs/math.md §2 behind the same `Model` interface as the FC net, on images
 * flattened channel-interleaved (HWC, as sources decode them), d = H·W·C:
 *
 *   x ─ conv3×3 φ ─ e0 ─ conv3×3/2 φ ─ e1 ─ … ─ e_L                      (L = depth down levels)
 *                   │                  │        │
 *   out ◀ conv3×3 ─ u0 ◀ conv3×3 φ ◀ [up(u1), e0] ◀ … ◀ [up(e_L), e_{L-1}]  (bilinear ×2, skip concat)
 *
 * Every level has `channels` feature maps; the output conv is linear. Depth log2(max(H, W))
 * (rounded up) reaches a 1×1 bottleneck, where the receptive field covers the whole image.
 *
 * Convolutions are tf.conv2d with their own gradient: tfjs-wasm has no Conv2DBackpropFilter kernel,
 * so the filter gradient is itself a (dilated) conv2d of the input with the output gradient.
 */
import { tf } from './tf.ts';
import { activation, type Activation } from './activations.ts';
import { formatInit, parseInit } from './initializers.ts';
import { newModelId, validateSpec, VariableModel, type Model, type UnetSpec } from './model.ts';
import { Rng } from './random.ts';

/** Down levels that bring an H×W image to a 1×1 bottleneck (the receptive field then covers it). */
export function unetFullDepth(height: number, width: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(height, width))));
}

/** Receptive field (pixels, one side) of an output pixel through the bottleneck path. */
export function unetReceptiveField(depth: number): number {
  let r = 3, j = 1; // stem
  for (let l = 0; l < depth; l++) (r += 2 * j), (j *= 2);
  for (let l = 0; l < depth; l++) (j /= 2), (r += 2 * j);
  return r + 2; // output conv
}

export function createUnetModel(spec: UnetSpec): Model<UnetSpec> {
  validateSpec(spec);
  const init = parseInit(spec.init);
  const rng = new Rng(spec.seed);
  const { channels: c, depth } = spec;
  const C = spec.image.channels;
  const id = newModelId();
  const params: { name: string; variable: tf.Variable }[] = [];
  const conv = (name: string, cin: number, cout: number) => {
    const a = init.kind === 'uniform' ? init.a : 1 / Math.sqrt(9 * cin);
    const add = (suffix: string, data: Float32Array, shape: number[]) => {
      const t = tf.tensor(data, shape);
      params.push({ name: `${name}.${suffix}`, variable: tf.variable(t, true, `${name}_${suffix}_${id}`) });
      t.dispose();
    };
    add('w', rng.uniformArray(9 * cin * cout, -a, a), [3, 3, cin, cout]);
    if (spec.bias) add('b', rng.uniformArray(cout, -a, a), [cout]);
  };
  conv('stem', C, c);
  for (let l = 1; l <= depth; l++) conv(`down${l}`, c, c);
  for (let l = depth; l >= 1; l--) conv(`up${l}`, 2 * c, c);
  conv('out', c, C);
  return new UnetModel({ ...spec, init: formatInit(init) }, params, activation(spec.activation));
}

class UnetModel extends VariableModel<UnetSpec> {
  private readonly byName: Map<string, tf.Variable>;
  constructor(spec: UnetSpec, params: { name: string; variable: tf.Variable }[], private readonly act: Activation) {
    super(spec, params);
    this.byName = new Map(params.map((p) => [p.name, p.variable]));
  }

  /** 3×3 convolution with one pixel of zero padding, stride 1 or 2 (output ⌈h/2⌉×⌈w/2⌉, centred on even pixels). */
  private conv(x: tf.Tensor4D, name: string, stride: 1 | 2): tf.Tensor4D {
    const y = conv3x3(x, this.byName.get(`${name}.w`)! as tf.Tensor4D, stride);
    const b = this.byName.get(`${name}.b`);
    return b ? tf.add(y, b) : y;
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { height: H, width: Wd, channels: C } = this.spec.image;
      const n = x.shape[0];
      const phi = (t: tf.Tensor4D) => this.act.apply(t) as tf.Tensor4D;
      const enc: tf.Tensor4D[] = [phi(this.conv(tf.reshape(x, [n, H, Wd, C]), 'stem', 1))];
      for (let l = 1; l <= this.spec.depth; l++) enc.push(phi(this.conv(enc[l - 1], `down${l}`, 2)));
      let u = enc[this.spec.depth];
      for (let l = this.spec.depth; l >= 1; l--) {
        const skip = enc[l - 1];
        const up = tf.image.resizeBilinear(u, [skip.shape[1], skip.shape[2]], false, true);
        u = phi(this.conv(tf.concat([up, skip], 3), `up${l}`, 1));
      }
      return tf.reshape(this.conv(u, 'out', 1), [n, this.spec.dim]);
    });
  }
}

/**
 * y = conv2d(x, w, stride, pad 1). ∂x is the transposed convolution; ∂w[ky, kx, ci, co] =
 * Σ_{n,i,j} x_pad[n, s·i+ky, s·j+kx, ci]·dy[n, i, j, co], which is a valid conv2d of x_pad (channels
 * and batch swapped) with dy as a filter dilated by the stride, cut to 3×3.
 */
export function conv3x3(x: tf.Tensor4D, w: tf.Tensor4D, stride: 1 | 2): tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    // tfjs-wasm caches a prepacked XNNPACK filter per tensor id, and wasm-blas's Adam updates
    // variables in place (same id): convolve with a fresh copy so the current weights are used.
    const wf = tf.mul(wi, 1) as tf.Tensor4D;
    save([xi, wf]);
    return {
      value: tf.conv2d(xi, wf, stride, 1),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const ci = xs.shape[3];
        const dx = tf.conv2dTranspose(dy as tf.Tensor4D, ws, xs.shape, stride, 1);
        const xp = tf.transpose(tf.pad(xs, [[0, 0], [1, 1], [1, 1], [0, 0]]), [3, 1, 2, 0]) as tf.Tensor4D;
        const g = tf.conv2d(xp, tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D, 1, 'valid', 'NHWC', stride);
        return [dx, tf.transpose(tf.slice(g, [0, 0, 0, 0], [ci, 3, 3, -1]), [1, 2, 0, 3])];
      },
    };
  });
  return f(x, w) as tf.Tensor4D;
}
