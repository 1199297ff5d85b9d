/** The train operator with stopOnNonfinite, on a scripted trainer (no tensors). */
import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { TrainerState } from '../../engine/trainer.ts';
import { train } from '../../operators/train.ts';
import { dataset, scripted } from './fake-trainer.ts';

const data = dataset(0);

describe('train operator: stop on a non-finite loss', () => {
  it('rolls back, saves the last finite state, emits its artifact and ends with lastFinite', async () => {
    const s = scripted([1, 0.5, 0.25, Number.NaN]);
    const saved: TrainerState[] = [];
    const ev = await lastValueFrom(of(data).pipe(train({
      runId: 'r', trainer: s.make, maxSteps: 100, stopOnNonfinite: true,
      checkpoint: { every: 1000, save: () => 'x', saveLastFinite: (st) => (saved.push(st), 'ck/last-finite.ckpt') },
    }), toArray()));
    expect(s.st.keep).toBe(true);
    expect(ev.map((e) => e.kind)).toEqual(['train-step', 'train-step', 'train-step', 'train-step', 'artifact', 'train-end']);
    // step 4 evaluated the weights after step 3 and found NaN: the last finite state is after step 2
    expect(saved.map((x) => x.step)).toEqual([2]);
    expect(saved[0].optimizer[0].data[0]).toBe(2); // the trainer's state after the rollback
    expect(ev[4]).toMatchObject({ kind: 'artifact', what: 'checkpoint', path: 'ck/last-finite.ckpt', step: 4 });
    expect(ev[5]).toMatchObject({ kind: 'train-end', reason: 'diverged', step: 4, lastFinite: { step: 2, path: 'ck/last-finite.ckpt' } });
  });

  it('says so (lastFinite null) when no step of the session was finite', async () => {
    const s = scripted([Number.NaN]);
    const ev = await lastValueFrom(of(data).pipe(train({
      runId: 'r', trainer: s.make, maxSteps: 100, stopOnNonfinite: true,
      checkpoint: { every: 1000, save: () => 'x', saveLastFinite: () => 'never' },
    }), toArray()));
    expect(ev.map((e) => e.kind)).toEqual(['train-step', 'train-end']);
    expect(ev[1]).toMatchObject({ reason: 'diverged', lastFinite: null });
  });

  it('without the option: no rollback, no last-finite checkpoint, train-end without lastFinite', async () => {
    const s = scripted([1, Number.NaN]);
    const ev = await lastValueFrom(of(data).pipe(train({
      runId: 'r', trainer: s.make, maxSteps: 100,
      checkpoint: { every: 1000, save: () => 'x', saveLastFinite: () => 'never' },
    }), toArray()));
    expect(s.st.keep).toBeFalsy();
    expect(s.st.rolledBack).toBe(0);
    expect(ev.map((e) => e.kind)).toEqual(['train-step', 'train-step', 'train-end']);
    expect(ev[2]).toMatchObject({ reason: 'diverged' });
    expect('lastFinite' in ev[2]).toBe(false);
  });

  it('never writes an interval checkpoint while a weight is NaN/Inf', async () => {
    // weights go non-finite after step 3 (the loss only shows it one step later)
    const s = scripted([1, 1, 1, Number.NaN], { finiteWeights: (steps) => steps < 3 });
    const saved: number[] = [];
    await lastValueFrom(of(data).pipe(train({
      runId: 'r', trainer: s.make, maxSteps: 100,
      checkpoint: { every: 1, save: (st) => (saved.push(st.step), 'x') },
    }), toArray()));
    expect(saved).toEqual([1, 2]);
  });
});
