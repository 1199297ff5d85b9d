/**
 * The FC network of docs/math.md §2: Linear(d→W), φ, (D−1)×[Linear(W→W), φ], Linear(W→d), linear output.
 * Operators use the plain-array methods; engine code (trainer, checkpoints) uses the tensors.
 * The convolutional U-Net behind the same interface lives in unet.ts.
 */
import type { FcConfig } from '../events.ts';
import { EngramError } from '../errors.ts';
import { tf } from './tf.ts';
import { activation, type Activation } from './activations.ts';
import { formatInit, initLayers, parseInit } from './initializers.ts';
import { Rng } from './random.ts';

/** An FC network (the default; checkpoints of FC runs hold exactly these fields): the run config's FC net with its kind and dimension. */
export interface ModelSpec extends FcConfig {
  kind: 'fc';
  /** Input and output dimension d. */
  dim: number;
}

/**
 * A convolutional U-Net (docs/math.md §2) on images flattened channel-interleaved (HWC), d = H·W·C.
 * `depth` is the number of stride-2 down levels (and of bilinear up levels); every level has
 * `channels` feature maps.
 */
export interface UnetSpec {
  kind: 'unet';
  /** Input and output dimension d = image.height · image.width · image.channels. */
  dim: number;
  image: { height: number; width: number; channels: number };
  /** Feature maps per level. */
  channels: number;
  /** Number of stride-2 downsampling levels (each matched by one upsampling level). */
  depth: number;
  activation: string;
  bias: boolean;
  /** torch (U[±1/√fan_in], fan_in = 9·c_in) or uniform:A. */
  init: string;
  seed: number;
}

/** Any network engram builds. `Model` alone means an FC model (the W×W Jacobian reduction needs one). */
export type NetSpec = ModelSpec | UnetSpec;

export interface Model<S extends NetSpec = ModelSpec> {
  readonly spec: S;
  readonly paramCount: number;
  /** Named parameters, in a stable order: W0, b0, W1, b1, … */
  readonly params: { name: string; variable: tf.Variable }[];
  /** f applied to a [n, d] tensor (caller owns the result). */
  forward(x: tf.Tensor2D): tf.Tensor2D;
  /** f applied to n row vectors packed in a Float32Array of length n·d. */
  apply(x: Float32Array): Float32Array;
  /** x_{k} = f^k(x_0) for every k in 1..steps, packed [steps, n·d] (trajectory of a batch). */
  iterate(x0: Float32Array, steps: number): Float32Array;
  /** Current weights as plain arrays (a copy). */
  weights(): { name: string; shape: number[]; data: Float32Array }[];
  setWeights(ws: { name: string; data: Float32Array }[]): void;
  dispose(): void;
}

/** The FC model behind a model of any kind, for code that exists only for FC nets. */
export function fcModel(model: Model<NetSpec>): Model {
  if (model.spec.kind !== 'fc') {
    throw new EngramError('E_BAD_ARGUMENT', `this works on FC networks only and the checkpoint holds a '${model.spec.kind}'; use a run made by engram memorize or demo`);
  }
  return model as Model;
}

export function validateSpec(spec: NetSpec): void {
  if (!spec || (spec.kind !== 'fc' && spec.kind !== 'unet')) {
    throw new Error(`unknown model kind '${(spec as { kind?: string })?.kind}'; this engram builds 'fc' and 'unet' networks`);
  }
  const pos = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer (got ${v})`);
  };
  pos(spec.dim, 'input dimension');
  if (spec.kind === 'unet') {
    const im = spec.image ?? { height: NaN, width: NaN, channels: NaN };
    pos(im.height, 'image height');
    pos(im.width, 'image width');
    pos(im.channels, 'image channels');
    if (im.height * im.width * im.channels !== spec.dim) {
      throw new Error(`a ${im.width}x${im.height}x${im.channels} image has ${im.height * im.width * im.channels} values, not ${spec.dim}`);
    }
    pos(spec.channels, '--channels');
    pos(spec.depth, '--depth');
    const full = Math.max(1, Math.ceil(Math.log2(Math.max(im.height, im.width))));
    if (spec.depth > full) {
      throw new Error(`--depth ${spec.depth} is more down levels than a ${im.width}x${im.height} image has (at most ${full}, which reaches 1×1)`);
    }
    activation(spec.activation);
    if (parseInit(spec.init).kind === 'rank1') throw new Error('the rank1 initializer is for FC networks; use torch or uniform:A');
    return;
  }
  pos(spec.width, '--width');
  pos(spec.depth, '--depth');
  activation(spec.activation);
  parseInit(spec.init);
}

// Variable names must be unique per process; several models may coexist (tests, recall of a checkpoint).
let nextModelId = 0;
/** A process-unique suffix for the variable names of a new model. */
export function newModelId(): number {
  return nextModelId++;
}

/** Build an FC model. `x` is the unit vector used by the rank1 initializer. */
export function createFcModel(spec: ModelSpec, x?: Float32Array): Model {
  validateSpec(spec);
  const init = parseInit(spec.init);
  const dims = [spec.dim, ...Array(spec.depth).fill(spec.width), spec.dim];
  const layers = initLayers(init, dims, spec.bias, new Rng(spec.seed), x);
  const params: { name: string; variable: tf.Variable }[] = [];
  const id = newModelId();
  const variable = (data: Float32Array, shape: number[], name: string) => {
    const t = tf.tensor(data, shape);
    const v = tf.variable(t, true, `${name}_${id}`);
    t.dispose();
    params.push({ name, variable: v });
  };
  layers.forEach((l, i) => {
    variable(l.w, [dims[i], dims[i + 1]], `W${i}`);
    if (l.b) variable(l.b, [dims[i + 1]], `b${i}`);
  });
  return new FcModel({ ...spec, init: formatInit(init) }, params, activation(spec.activation), layers.length);
}

/**
 * What every network shares: named variables, plain-array apply/iterate over `forward`, weights
 * in and out. A kind of network only adds its `forward`.
 */
export abstract class VariableModel<S extends NetSpec> implements Model<S> {
  readonly paramCount: number;
  constructor(
    readonly spec: S,
    readonly params: { name: string; variable: tf.Variable }[],
  ) {
    this.paramCount = params.reduce((s, p) => s + p.variable.size, 0);
  }

  abstract forward(x: tf.Tensor2D): tf.Tensor2D;

  apply(x: Float32Array): Float32Array {
    const n = x.length / this.spec.dim;
    return tf.tidy(() => this.forward(tf.tensor2d(x, [n, this.spec.dim])).dataSync() as Float32Array);
  }

  iterate(x0: Float32Array, steps: number): Float32Array {
    const n = x0.length / this.spec.dim;
    const out = new Float32Array(steps * x0.length);
    const start = tf.tensor2d(x0, [n, this.spec.dim]);
    let x = start;
    const states: tf.Tensor[] = [start];
    for (let k = 0; k < steps; k++) {
      const next = this.forward(x);
      states.push(next);
      x = next;
    }
    // One download for the whole block: a sync per step would dominate small models.
    if (steps > 0) {
      const all = tf.tidy(() => tf.concat(states.slice(1).map((s) => s.reshape([-1]))));
      out.set(all.dataSync());
      all.dispose();
    }
    tf.dispose(states);
    return out;
  }

  weights() {
    return this.params.map((p) => ({
      name: p.name, shape: p.variable.shape.slice(), data: p.variable.dataSync().slice() as Float32Array,
    }));
  }

  setWeights(ws: { name: string; data: Float32Array }[]): void {
    const missing = this.params.filter((p) => !ws.some((w) => w.name === p.name)).map((p) => p.name);
    if (missing.length) throw new Error(`weights ${missing.join(', ')} are missing for this model`);
    for (const w of ws) {
      const p = this.params.find((q) => q.name === w.name);
      if (!p) throw new Error(`weight '${w.name}' does not belong to this model`);
      if (p.variable.size !== w.data.length) {
        throw new Error(`weight '${w.name}' has ${w.data.length} values; the model expects ${p.variable.size}`);
      }
      tf.tidy(() => p.variable.assign(tf.tensor(w.data, p.variable.shape)));
    }
  }

  dispose(): void {
    for (const p of this.params) p.variable.dispose();
  }
}

class FcModel extends VariableModel<ModelSpec> {
  constructor(
    spec: ModelSpec,
    params: { name: string; variable: tf.Variable }[],
    private readonly act: Activation,
    private readonly nLayers: number,
  ) {
    super(spec, params);
  }

  private layer(i: number) {
    const w = this.params.find((p) => p.name === `W${i}`)!.variable as tf.Tensor2D;
    const b = this.params.find((p) => p.name === `b${i}`)?.variable;
    return { w, b };
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor2D = x;
      for (let i = 0; i < this.nLayers; i++) {
        const { w, b } = this.layer(i);
        const hidden = i + 1 < this.nLayers;
        if (tf.engine().state.gradientDepth > 0) {
          // Under a gradient tape tfjs would unfuse anyway, and its custom-gradient wrapper copies
          // every output: plain matMul + add is fewer kernels per step.
          h = tf.matMul(h, w);
          if (b) h = tf.add(h, b);
          if (hidden) h = this.act.apply(h) as tf.Tensor2D;
        } else {
          const fused = hidden ? this.act.fused : undefined;
          h = tf.fused.matMul({ a: h, b: w, bias: b, ...(fused ?? {}) }) as tf.Tensor2D;
          if (hidden && !fused) h = this.act.apply(h) as tf.Tensor2D;
        }
      }
      return h;
    });
  }
}
