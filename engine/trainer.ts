/**
 * One optimisation step of a model on a dataset (MSE, mean over all elements). All tensor work of
 * training lives here, so operators/train can stay a plain loop over `step()`.
 */
import { tf } from './tf.ts';
import type { Dataset } from './objectives.ts';
import type { Model, NetSpec } from './model.ts';
import { createOptimizer, type Optimizer, type OptimizerSpec } from './optimizers.ts';
import { Rng } from './random.ts';
import { nativeSumSquares } from './native-blas.ts';

export interface StepResult {
  /** Loss on the batch used for this step, before the update. */
  loss: number;
  /** ‖∇θ L‖₂ over all parameters. */
  gradNorm: number;
  lr: number;
  batchSize: number;
}

export interface Trainer {
  readonly optimizer: Optimizer;
  /** State of the minibatch sampler, for checkpoints (restored with `restoreRng`). */
  rngState(): number[];
  restoreRng(state: number[]): void;
  step(): StepResult;
  /** Full-dataset loss with the current weights. */
  loss(): number;
  /** Whether every weight is finite (one reduction per parameter; a checkpoint of NaN weights is useless). */
  weightsFinite?(): boolean;
  /**
   * With `keepLastFinite`: put back the weights, optimizer state and sampler as they were before the
   * last step whose loss and gradient were finite, and return how many steps back that is (the
   * steps since, including non-finite ones). null when this trainer took no finite step.
   */
  rollbackToLastFinite?(): number | null;
  dispose(): void;
}

export function createTrainer(
  model: Model<NetSpec>,
  data: Dataset,
  opt: OptimizerSpec,
  /**
   * keepLastFinite: before each update whose loss and gradient are finite, copy the weights and
   * optimizer slots (one device copy of each, O(params) per step), so `rollbackToLastFinite` can
   * restore them; a step with a non-finite loss or gradient then applies no update.
   */
  options: { batchSize?: number; seed?: number; keepLastFinite?: boolean } = {},
): Trainer {
  if (data.dim !== model.spec.dim) {
    throw new Error(`dataset vectors have ${data.dim} values but the model expects ${model.spec.dim}`);
  }
  const optimizer = createOptimizer(opt, model.params);
  const X = tf.tensor2d(data.inputs, [data.n, data.dim]);
  const Y = tf.tensor2d(data.targets, [data.n, data.dim]);
  const batchSize = Math.min(options.batchSize ?? data.n, data.n);
  const rng = new Rng(options.seed ?? 1);
  const vars = model.params.map((p) => p.variable);
  const keep = options.keepLastFinite === true;
  const live = [...vars, ...optimizer.slotVariables];
  const snap = keep ? live.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false))) : [];
  let snapMeta: { t: number; rng: number[] } | null = null;
  let sinceSnap = 0;
  const mse = (x: tf.Tensor2D, y: tf.Tensor2D) => tf.mean(tf.squaredDifference(model.forward(x), y)) as tf.Scalar;

  const batch = (): [tf.Tensor2D, tf.Tensor2D] => {
    if (batchSize === data.n) return [X, Y];
    const idx = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) idx[i] = Math.floor(rng.next() * data.n);
    const it = tf.tensor1d(idx, 'int32');
    const out: [tf.Tensor2D, tf.Tensor2D] = [tf.gather(X, it), tf.gather(Y, it)];
    it.dispose();
    return out;
  };

  return {
    optimizer,
    rngState: () => rng.getState(),
    restoreRng: (st) => rng.setState(st),
    step() {
      const rngBefore = keep ? rng.getState() : null;
      const [xb, yb] = batch();
      const { value, grads } = tf.variableGrads(() => mse(xb, yb), vars);
      const gs = model.params.map((p) => grads[p.variable.name]);
      const g2 = nativeSumSquares(gs) ?? tf.tidy(() => tf.addN(gs.map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
      const loss = value.dataSync()[0];
      if (!keep) optimizer.apply(gs);
      else if (Number.isFinite(loss) && Number.isFinite(g2)) {
        // a real copy (not a shared buffer): native Adam updates in place
        tf.tidy(() => live.forEach((v, i) => snap[i].assign(tf.add(v, 0))));
        snapMeta = { t: optimizer.step, rng: rngBefore! };
        sinceSnap = 1;
        optimizer.apply(gs);
      } else sinceSnap++;
      tf.dispose([value, ...gs]);
      if (xb !== X) tf.dispose([xb, yb]);
      return { loss, gradNorm: Math.sqrt(g2), lr: optimizer.spec.lr, batchSize };
    },
    loss() {
      return tf.tidy(() => mse(X, Y).dataSync()[0]);
    },
    weightsFinite() {
      return tf.tidy(() => tf.stack(vars.map((v) => tf.all(tf.isFinite(v)))).all().dataSync()[0] === 1);
    },
    rollbackToLastFinite() {
      if (!keep || !snapMeta) return null;
      tf.tidy(() => live.forEach((v, i) => v.assign(tf.add(snap[i], 0))));
      optimizer.setState([{ name: 'step', data: Float32Array.of(snapMeta.t) }]);
      rng.setState(snapMeta.rng);
      const back = sinceSnap;
      snapMeta = null;
      sinceSnap = 0;
      return back;
    },
    dispose() {
      optimizer.dispose();
      tf.dispose([X, Y, ...snap]);
    },
  };
}
