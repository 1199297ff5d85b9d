/**
 * The convolutional U-Net of SPEC §3 behind the same `Model` interface as the FC net, on images
 * flattened channel-interleaved (HWC, as sources decode them), d = H·W·C:
 *
 *   x ─ conv3×3 φ ─ e0 ─ conv3×3/2 φ ─ e1 ─ … ─ e_L                      (L = depth down levels)
 *                   │                  │        │
 *   out ◀ conv3×3 ─ u0 ◀ conv3×3 φ ◀ [up(u1), e0] ◀ … ◀ [up(e_L), e_{L-1}]  (bilinear ×2, skip concat)
 *
 * Every level has `channels` feature maps; the output conv is linear. Depth log2(max(H, W))
 * (rounded up) reaches a 1×1 bottleneck, where the receptive field covers the whole image.
 *
 * Convolutions are im2col + matMul (nine shifted slices concatenated along channels): the matMul
 * runs on BLAS, and tfjs-wasm has no Conv2DBackpropFilter kernel, so conv2d could not be trained there.
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
    add('w', rng.uniformArray(9 * cin * cout, -a, a), [9 * cin, cout]);
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

  /** 3×3 'same' convolution, stride 1 or 2 (output ⌈h/2⌉×⌈w/2⌉, taps centred on even pixels). */
  private conv(x: tf.Tensor4D, name: string, stride: 1 | 2): tf.Tensor4D {
    const [n, h, w, c] = x.shape;
    const W = this.byName.get(`${name}.w`)! as tf.Tensor2D;
    const b = this.byName.get(`${name}.b`);
    const eh = stride === 2 ? h + (h % 2) : h, ew = stride === 2 ? w + (w % 2) : w;
    const p = tf.pad(x, [[0, 0], [1, 1 + eh - h], [1, 1 + ew - w], [0, 0]]);
    const oh = stride === 2 ? eh / 2 : h, ow = stride === 2 ? ew / 2 : w;
    const taps: tf.Tensor4D[] = [];
    for (let dy = 0; dy < 3; dy++) {
      for (let dx = 0; dx < 3; dx++) {
        let t = tf.slice(p, [0, dy, dx, 0], [n, eh, ew, c]);
        if (stride === 2) {
          // keep even rows and columns: rows pair up in dim 1, columns with channels in dim 3
          t = tf.slice(tf.reshape(t, [n * oh, 2, ow, 2 * c]), [0, 0, 0, 0], [n * oh, 1, ow, c]) as tf.Tensor4D;
        }
        taps.push(tf.reshape(t, [n, oh, ow, c]));
      }
    }
    let y = tf.matMul(tf.reshape(tf.concat(taps, 3), [n * oh * ow, 9 * c]), W);
    if (b) y = tf.add(y, b);
    return tf.reshape(y, [n, oh, ow, W.shape[1]]);
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
