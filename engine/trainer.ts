/**
 * The `Trainer` interface that operators/train drives, and its implementation for the FC and U-Net
 * nets: one optimisation step of a model on a dataset (MSE, mean over all elements). All tensor
 * work of training lives here, so operators/train can stay a plain loop over `step()`.
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
  /** ‖∇θ L‖₂ over all parameters (of the same batch and state as `loss`). */
  gradNorm: number;
  /** The learning rate this step's update used. */
  lr: number;
  batchSize: number;
  /**
   * Set when the trainer wants another step even though `loss` met the target (the solver's recall
   * check failed and it will try again): the reason, for the log.
   */
  retry?: string;
  /** What the step found worth telling the user (the operator logs them). */
  notes?: string[];
}

/** Everything besides the weights that a resumed run needs to continue exactly. */
export interface TrainerState {
  /** Steps taken, counted from the start of the run (a restored state's count goes on). */
  step: number;
  /** Optimizer slots by name (and its own update count, as `step`). */
  optimizer: { name: string; data: Float32Array }[];
  /** State of the trainer's sampler (empty when it draws nothing). */
  rng: number[];
  /**
   * The loss of the last step taken, when known: the train operator adds it to the states it
   * hands out, and reports it for a restored state that has nothing left to train.
   */
  loss?: number;
}

/**
 * One model being trained, as the train operator sees it. D is what it trains on (replaceable
 * between steps with `setData`); O is what `observe` reports about the state before a step.
 */
export interface Trainer<D = Dataset, O = never> {
  /**
   * One update. The loss and gradient reported are those of the state before it (a solver, whose
   * step replaces the weights at once, reports those after it). A long step may return a promise
   * and yield to the event loop while it works.
   */
  step(): StepResult | Promise<StepResult>;
  /** Serializable state for a checkpoint (the weights are the model's own). */
  state(): TrainerState;
  /** Continue from a state of `state()` (with the weights already in the model). */
  restore(state: TrainerState): void;
  /** Learning rate for the following steps (schedules); trainers without it run at a fixed rate. */
  setLr?(lr: number): void;
  /**
   * Look at the state the next `step` starts from (e.g. a classification head's scores for the
   * margins monitor). The operator calls it before each step and emits the result before stepping,
   * so whoever consumes it still sees these weights.
   */
  observe?(): O;
  /** Train on `data` from the next step on; weights, optimizer state and step count are kept. */
  setData?(data: D): void;
  /**
   * A step that yields (returns a promise) may leave the weights half-made while it waits (the
   * solver replaces the first layer before it solves the output layer). When the run is cancelled
   * during such a step, put back the weights it started from, so the cancel-time checkpoint holds a
   * consistent net. A no-op between steps.
   */
  abortStep?(): void;
  /** Whether every weight is finite (a checkpoint of NaN weights is useless). */
  weightsFinite?(): boolean;
  /**
   * Put back the weights, optimizer state and sampler as they were before the last step whose
   * loss and gradient were finite, and return how many steps back that is (the steps since,
   * including non-finite ones); null when there is no such step (or the trainer keeps none).
   */
  rollback?(): number | null;
  /** Free the trainer's own tensors (not the model's). */
  dispose(): void;
}

/** Makes a trainer for the first dataset; `keepLastFinite` asks for `rollback` support. */
export type TrainerFactory<D = Dataset, O = never> = (data: D, o: { keepLastFinite: boolean }) => Trainer<D, O>;

/** The FC / U-Net trainer: a Trainer with every optional part, plus its optimizer and full-data loss. */
export interface NetTrainer extends Required<Omit<Trainer<Dataset>, 'observe' | 'step' | 'abortStep'>> {
  step(): StepResult;
  readonly optimizer: Optimizer;
  /** Full-dataset loss with the current weights. */
  loss(): number;
}

export interface NetTrainerOptions {
  /** Minibatch size (default and cap: the whole dataset). */
  batchSize?: number;
  /** Seed of the minibatch sampler (default 1). */
  seed?: number;
}

/** Whether every weight of the model is finite (one device reduction; a NaN/Inf weight makes a checkpoint useless). */
export function weightsFinite(model: Model<NetSpec>): boolean {
  return tf.tidy(() => tf.stack(model.params.map((p) => tf.all(tf.isFinite(p.variable)))).all().dataSync()[0] === 1);
}

/** Mean squared error of the model over a whole dataset (mean over all elements). */
export function datasetLoss(model: Model<NetSpec>, data: Dataset): number {
  return tf.tidy(() => {
    const x = tf.tensor2d(data.inputs, [data.n, data.dim]);
    const y = tf.tensor2d(data.targets, [data.n, data.dim]);
    return tf.mean(tf.squaredDifference(model.forward(x), y)).dataSync()[0];
  });
}

/** The factory the train operator takes for an FC or U-Net model. */
export function netTrainer(model: Model<NetSpec>, opt: OptimizerSpec, options: NetTrainerOptions = {}): TrainerFactory<Dataset> {
  return (data, o) => createTrainer(model, data, opt, { ...options, keepLastFinite: o.keepLastFinite });
}

export function createTrainer(
  model: Model<NetSpec>,
  data: Dataset,
  opt: OptimizerSpec,
  /**
   * keepLastFinite: before each update whose loss and gradient are finite, copy the weights and
   * optimizer slots (one device copy of each, O(params) per step), so `rollback` can restore them;
   * a step with a non-finite loss or gradient then applies no update.
   */
  options: NetTrainerOptions & { keepLastFinite?: boolean } = {},
): NetTrainer {
  const checkDim = (d: Dataset) => {
    if (d.dim !== model.spec.dim) throw new Error(`dataset vectors have ${d.dim} values but the model expects ${model.spec.dim}`);
  };
  checkDim(data);
  const optimizer = createOptimizer(opt, model.params);
  let X = tf.tensor2d(data.inputs, [data.n, data.dim]);
  let Y = tf.tensor2d(data.targets, [data.n, data.dim]);
  let batchSize = Math.min(options.batchSize ?? data.n, data.n);
  let steps = 0;
  const rng = new Rng(options.seed ?? 1);
  const vars = model.params.map((p) => p.variable);
  const keep = options.keepLastFinite === true;
  const live = [...vars, ...optimizer.slotVariables];
  const snap = keep ? live.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false))) : [];
  let snapMeta: { t: number; rng: number[]; steps: number } | null = null;
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
    state: () => ({ step: steps, optimizer: optimizer.state(), rng: rng.getState() }),
    restore(st) {
      optimizer.setState(st.optimizer);
      rng.setState(st.rng);
      steps = st.step;
    },
    setLr: (lr) => optimizer.setLr(lr),
    setData(next) {
      checkDim(next);
      tf.dispose([X, Y]);
      data = next;
      X = tf.tensor2d(data.inputs, [data.n, data.dim]);
      Y = tf.tensor2d(data.targets, [data.n, data.dim]);
      batchSize = Math.min(options.batchSize ?? data.n, data.n);
    },
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
        snapMeta = { t: optimizer.step, rng: rngBefore!, steps };
        sinceSnap = 1;
        optimizer.apply(gs);
      } else sinceSnap++;
      tf.dispose([value, ...gs]);
      if (xb !== X) tf.dispose([xb, yb]);
      steps++;
      return { loss, gradNorm: Math.sqrt(g2), lr: optimizer.spec.lr, batchSize };
    },
    loss() {
      return tf.tidy(() => mse(X, Y).dataSync()[0]);
    },
    weightsFinite: () => weightsFinite(model),
    rollback() {
      if (!keep || !snapMeta) return null;
      tf.tidy(() => live.forEach((v, i) => v.assign(tf.add(snap[i], 0))));
      optimizer.setState([{ name: 'step', data: Float32Array.of(snapMeta.t) }]);
      rng.setState(snapMeta.rng);
      steps = snapMeta.steps;
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
