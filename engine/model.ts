/**
 * The FC network of SPEC §3: Linear(d→W), φ, (D−1)×[Linear(W→W), φ], Linear(W→d), linear output.
 * Operators use the plain-array methods; engine code (trainer, checkpoints) uses the tensors.
 */
import { tf } from './tf.ts';
import { activation, type Activation } from './activations.ts';
import { formatInit, initLayers, parseInit } from './initializers.ts';
import { Rng } from './random.ts';

export interface ModelSpec {
  kind: 'fc';
  /** Input and output dimension d. */
  dim: number;
  width: number;
  /** Number of hidden layers D. */
  depth: number;
  activation: string;
  bias: boolean;
  init: string;
  seed: number;
}

export interface Model {
  readonly spec: ModelSpec;
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

export function validateSpec(spec: ModelSpec): void {
  if (!spec || spec.kind !== 'fc') throw new Error(`unknown model kind '${spec?.kind}'; this engram builds 'fc' networks`);
  const pos = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer (got ${v})`);
  };
  pos(spec.dim, 'input dimension');
  pos(spec.width, '--width');
  pos(spec.depth, '--depth');
  activation(spec.activation);
  parseInit(spec.init);
}

// Variable names must be unique per process; several models may coexist (tests, recall of a checkpoint).
let nextModelId = 0;

/** Build an FC model. `x` is the unit vector used by the rank1 initializer. */
export function createFcModel(spec: ModelSpec, x?: Float32Array): Model {
  validateSpec(spec);
  const init = parseInit(spec.init);
  const dims = [spec.dim, ...Array(spec.depth).fill(spec.width), spec.dim];
  const layers = initLayers(init, dims, spec.bias, new Rng(spec.seed), x);
  const params: { name: string; variable: tf.Variable }[] = [];
  const variable = (data: Float32Array, shape: number[], name: string) => {
    const t = tf.tensor(data, shape);
    const v = tf.variable(t, true, `${name}_${nextModelId}`);
    t.dispose();
    params.push({ name, variable: v });
  };
  layers.forEach((l, i) => {
    variable(l.w, [dims[i], dims[i + 1]], `W${i}`);
    if (l.b) variable(l.b, [dims[i + 1]], `b${i}`);
  });
  nextModelId++;
  return new FcModel({ ...spec, init: formatInit(init) }, params, activation(spec.activation), layers.length);
}

class FcModel implements Model {
  readonly paramCount: number;
  constructor(
    readonly spec: ModelSpec,
    readonly params: { name: string; variable: tf.Variable }[],
    private readonly act: Activation,
    private readonly nLayers: number,
  ) {
    this.paramCount = params.reduce((s, p) => s + p.variable.size, 0);
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
