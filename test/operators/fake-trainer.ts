/**
 * A scripted Trainer for the train operator's tests (no tensors): losses come from a list (or a
 * function of the step count), and everything the operator asks of it is recorded. Like the real
 * FC trainer with keepLastFinite, it remembers the state before the last finite step and counts
 * the steps since, for `rollback`.
 */
import type { Dataset } from '../../engine/objectives.ts';
import type { Trainer, TrainerFactory, TrainerState } from '../../engine/trainer.ts';

export const dataset = (tag: number): Dataset => ({
  objective: 'cycle', dim: 2, n: 2, inputs: Float32Array.of(tag, tag, tag, tag), targets: new Float32Array(4), sequenceLengths: [2],
});

export interface FakeOptions {
  /** Called inside every step (after counting it), e.g. to move a virtual clock. */
  onStep?: (steps: number) => void;
  finiteWeights?: (steps: number) => boolean;
  /** Leave out setData / setLr, as a trainer that cannot do them would. */
  noSetData?: boolean;
  noSetLr?: boolean;
}

export function scripted(losses: number[] | ((steps: number) => number), o: FakeOptions = {}) {
  const st = {
    steps: 0, made: 0, disposed: 0, rolledBack: 0, keep: undefined as boolean | undefined, snapAt: -1, since: 0,
    lr: 0.1, lrs: [] as number[],
    data: null as Dataset | null,
    /** The first input value of the dataset each step trained on. */
    trainedOn: [] as number[],
    restored: null as TrainerState | null,
  };
  const lossAt = (k: number) => (typeof losses === 'function' ? losses(k) : losses[Math.min(k, losses.length - 1)]);
  const make: TrainerFactory<Dataset> = (data, opts) => {
    st.made++;
    st.keep = opts.keepLastFinite;
    st.data = data;
    const t: Trainer<Dataset> = {
      step: () => {
        const loss = lossAt(st.steps);
        if (Number.isFinite(loss)) [st.snapAt, st.since] = [st.steps, 1];
        else st.since++;
        st.trainedOn.push(st.data!.inputs[0]);
        st.lrs.push(st.lr);
        st.steps++;
        o.onStep?.(st.steps);
        return { loss, gradNorm: 1, lr: st.lr, batchSize: 2 };
      },
      state: () => ({ step: st.steps, optimizer: [{ name: 'W0/m', data: Float32Array.of(st.steps) }], rng: [st.steps] }),
      restore: (s) => {
        st.restored = s;
        st.steps = s.step;
      },
      weightsFinite: () => o.finiteWeights?.(st.steps) ?? true,
      rollback: () => {
        if (!st.keep || st.snapAt < 0) return null;
        st.rolledBack++;
        st.steps = st.snapAt;
        return st.since;
      },
      dispose: () => void st.disposed++,
    };
    if (!o.noSetData) t.setData = (d) => void (st.data = d);
    if (!o.noSetLr) t.setLr = (lr) => void (st.lr = lr);
    return t;
  };
  return { st, make };
}
