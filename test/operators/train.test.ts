import { describe, expect, it } from 'vitest';
import { EMPTY, firstValueFrom, of, throwError, toArray, take, lastValueFrom } from 'rxjs';
import { train, type TrainEvent } from '../../operators/train.ts';
import type { Dataset } from '../../engine/objectives.ts';
import type { Model } from '../../engine/model.ts';
import type { Trainer } from '../../engine/trainer.ts';

const data: Dataset = { objective: 'cycle', dim: 2, n: 2, inputs: new Float32Array(4), targets: new Float32Array(4), sequenceLengths: [2] };
const model = {} as Model;

/** A trainer whose losses come from a list; counts steps and disposal. */
function scripted(losses: number[]) {
  const state = { steps: 0, disposed: 0 };
  const make = (): Trainer => ({
    optimizer: { state: () => [{ name: 'W0/m', data: Float32Array.of(state.steps) }], setState: () => undefined } as unknown as Trainer['optimizer'],
    rngState: () => [state.steps, Number.NaN],
    restoreRng: () => undefined,
    step: () => ({ loss: losses[Math.min(state.steps++, losses.length - 1)], gradNorm: 1, lr: 0.1, batchSize: 2 }),
    loss: () => 0,
    dispose: () => void state.disposed++,
  });
  return { state, make };
}

const run = (losses: number[], maxSteps: number, lossTarget = 1e-3) => {
  const s = scripted(losses);
  const op = train({ runId: 'r', model, optimizer: { name: 'gd', lr: 0.1 }, maxSteps, lossTarget, makeTrainer: s.make });
  return { s, events$: of(data).pipe(op, toArray()) };
};

describe('train operator', () => {
  it('stops at the loss target with one train-step per step and a train-end', async () => {
    const { s, events$ } = run([1, 0.1, 0.01, 0.0005, 0.0001], 100);
    const ev = await firstValueFrom(events$);
    expect(ev.map((e) => e.kind)).toEqual(['train-step', 'train-step', 'train-step', 'train-step', 'train-end']);
    const end = ev.at(-1) as Extract<TrainEvent, { kind: 'train-end' }>;
    expect(end.reason).toBe('loss-target');
    expect(end.step).toBe(4);
    expect(end.loss).toBe(0.0005);
    expect(ev.map((e) => e.step)).toEqual([1, 2, 3, 4, 4]);
    expect(s.state.disposed).toBe(1);
  });

  it('stops at the step cap', async () => {
    const { events$ } = run([1], 7);
    const ev = await firstValueFrom(events$);
    expect(ev.filter((e) => e.kind === 'train-step')).toHaveLength(7);
    expect(ev.at(-1)).toMatchObject({ kind: 'train-end', reason: 'step-cap', step: 7 });
  });

  it('reports a NaN loss as diverged', async () => {
    const { events$ } = run([1, Number.NaN], 100);
    const ev = await firstValueFrom(events$);
    expect(ev.at(-1)).toMatchObject({ kind: 'train-end', reason: 'diverged', step: 2 });
  });

  it('stops stepping and frees the trainer when unsubscribed', async () => {
    const s = scripted([1]);
    const op = train({ runId: 'r', model, optimizer: { name: 'gd', lr: 0.1 }, maxSteps: 1e9, makeTrainer: s.make });
    const first3 = await lastValueFrom(of(data).pipe(op, take(3), toArray()));
    expect(first3).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.state.steps).toBe(3);
    expect(s.state.disposed).toBe(1);
  });

  it('completes without events on an empty source and passes errors through', async () => {
    const s = scripted([1]);
    const op = train({ runId: 'r', model, optimizer: { name: 'gd', lr: 0.1 }, maxSteps: 5, makeTrainer: s.make });
    await expect(firstValueFrom(EMPTY.pipe(op, toArray()))).resolves.toEqual([]);
    await expect(firstValueFrom(throwError(() => new Error('boom')).pipe(op))).rejects.toThrow('boom');
    expect(s.state.steps).toBe(0);
  });

  it('yields to the event loop between steps', async () => {
    const s = scripted([1]);
    const op = train({ runId: 'r', model, optimizer: { name: 'gd', lr: 0.1 }, maxSteps: 50, makeTrainer: s.make });
    let stepsWhenOtherTaskRan = -1;
    const done = lastValueFrom(of(data).pipe(op, toArray()));
    setImmediate(() => (stepsWhenOtherTaskRan = s.state.steps));
    await done;
    expect(s.state.steps).toBe(50);
    expect(stepsWhenOtherTaskRan).toBeGreaterThanOrEqual(1);
    expect(stepsWhenOtherTaskRan).toBeLessThan(50);
  });

  it('checkpoints every N steps and once more when cancelled', async () => {
    const s = scripted([1]);
    const saved: number[] = [];
    const op = train({
      runId: 'r', model, optimizer: { name: 'gd', lr: 0.1 }, maxSteps: 1e9, makeTrainer: s.make,
      checkpoint: { every: 4, save: (st) => (saved.push(st.step), `ck-${st.step}`) },
    });
    const ev = await lastValueFrom(of(data).pipe(op, take(11), toArray()));
    // steps 1-4, checkpoint at 4, steps 5-8, checkpoint at 8, step 9 → 11 events
    expect(ev.map((e) => (e.kind === 'artifact' ? `a${e.step}` : e.step))).toEqual([1, 2, 3, 4, 'a4', 5, 6, 7, 8, 'a8', 9]);
    expect(ev.find((e) => e.kind === 'artifact')).toMatchObject({ what: 'checkpoint', path: 'ck-4' });
    // unsubscribed after step 9: the work since step 8 is saved
    expect(saved).toEqual([4, 8, 9]);
  });

  it('continues step numbering from a restored state and counts the cap from the run start', async () => {
    const s = scripted([1]);
    const op = train({
      runId: 'r', model, optimizer: { name: 'gd', lr: 0.1 }, maxSteps: 10, makeTrainer: s.make,
      restore: { step: 7, optimizer: [], rng: [1, Number.NaN] },
    });
    const ev = await lastValueFrom(of(data).pipe(op, toArray()));
    expect(ev.map((e) => e.step)).toEqual([8, 9, 10, 10]);
    expect(ev.at(-1)).toMatchObject({ kind: 'train-end', reason: 'step-cap' });
  });
});
