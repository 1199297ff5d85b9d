import { describe, expect, it } from 'vitest';
import { EMPTY, firstValueFrom, of, throwError, toArray, take, lastValueFrom } from 'rxjs';
import { train, type TrainEvent } from '../../operators/train.ts';
import { dataset, scripted } from './fake-trainer.ts';

const data = dataset(0);

const run = (losses: number[], maxSteps: number, lossTarget = 1e-3) => {
  const s = scripted(losses);
  const op = train({ runId: 'r', trainer: s.make, maxSteps, lossTarget });
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
    expect(s.st.disposed).toBe(1);
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
    const op = train({ runId: 'r', trainer: s.make, maxSteps: 1e9 });
    const first3 = await lastValueFrom(of(data).pipe(op, take(3), toArray()));
    expect(first3).toHaveLength(3);
    await new Promise((r) => setImmediate(r));
    expect(s.st.steps).toBe(3);
    expect(s.st.disposed).toBe(1);
  });

  it('completes without events on an empty source and passes errors through', async () => {
    const s = scripted([1]);
    const op = train({ runId: 'r', trainer: s.make, maxSteps: 5 });
    await expect(firstValueFrom(EMPTY.pipe(op, toArray()))).resolves.toEqual([]);
    await expect(firstValueFrom(throwError(() => new Error('boom')).pipe(op))).rejects.toThrow('boom');
    expect(s.st.steps).toBe(0);
    expect(s.st.made).toBe(0);
  });

  it('a trainer that cannot be made is an error, not a hang', async () => {
    const op = train({ runId: 'r', trainer: () => { throw new Error('dataset vectors have 5 values but the model expects 4'); }, maxSteps: 5 });
    await expect(firstValueFrom(of(data).pipe(op))).rejects.toThrow(/5 values/);
  });

  it('tiny steps do not pay a yield each: with a clock that does not move, the whole run is synchronous', () => {
    const s = scripted([1]);
    const ev: TrainEvent[] = [];
    of(data).pipe(train({ runId: 'r', trainer: s.make, maxSteps: 1000, lossTarget: 0, now: () => 0 })).subscribe((e) => ev.push(e));
    expect(s.st.steps).toBe(1000);
    expect(ev.at(-1)).toMatchObject({ kind: 'train-end', reason: 'step-cap' });
  });

  it('yields to the event loop once yieldMs have passed since the last yield', async () => {
    // every step takes 6 ms of virtual time: 16 ms have passed after 3 steps, so it yields after steps 3, 6, 9, …
    let clock = 0;
    const s = scripted([1], { onStep: () => (clock += 6) });
    const done = lastValueFrom(of(data).pipe(train({ runId: 'r', trainer: s.make, maxSteps: 60, lossTarget: 0, now: () => clock }), toArray()));
    expect(s.st.steps).toBe(3); // the steps before the first yield ran inside subscribe
    const seen: number[] = [];
    let finished = false;
    const watch = () => {
      seen.push(s.st.steps);
      if (!finished) setImmediate(watch);
    };
    setImmediate(watch);
    await done;
    finished = true;
    expect(s.st.steps).toBe(60);
    const during = seen.filter((k) => k < 60);
    expect(during.length).toBeGreaterThan(3);
    expect(during.every((k) => k % 3 === 0)).toBe(true);
  });

  it('checkpoints every N steps and once more when cancelled', async () => {
    const s = scripted([1]);
    const saved: number[] = [];
    const op = train({
      runId: 'r', trainer: s.make, maxSteps: 1e9,
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
    const restore = { step: 7, optimizer: [], rng: [1, Number.NaN] };
    const ev = await lastValueFrom(of(data).pipe(train({ runId: 'r', trainer: s.make, maxSteps: 10, restore }), toArray()));
    expect(s.st.restored).toBe(restore);
    expect(ev.map((e) => e.step)).toEqual([8, 9, 10, 10]);
    expect(ev.at(-1)).toMatchObject({ kind: 'train-end', reason: 'step-cap' });
  });

  it('a restored state already at the step cap: no step, and the train-end reports its saved loss, never NaN (issue 10)', async () => {
    const s = scripted([1]);
    const restore = { step: 50, optimizer: [], rng: [], loss: 0.0945 };
    const ev = await lastValueFrom(of(data).pipe(train({ runId: 'r', trainer: s.make, maxSteps: 50, restore }), toArray()));
    expect(s.st.steps).toBe(50); // restored at 50; no step taken
    expect(ev).toEqual([expect.objectContaining({ kind: 'train-end', step: 50, reason: 'step-cap', loss: 0.0945 })]);
  });

  it('the states it hands out carry the last step\'s loss, so a restore can report it', async () => {
    const s = scripted([1, 0.5, 0.25]);
    const saved: (number | undefined)[] = [];
    let last: number | undefined;
    await lastValueFrom(of(data).pipe(train({
      runId: 'r', trainer: s.make, maxSteps: 3,
      checkpoint: { every: 2, save: (st) => (saved.push(st.loss), 'x'), atEnd: (st) => (last = st.loss) },
    })));
    expect(saved).toEqual([0.5]);
    expect(last).toBe(0.25);
  });

  it('hands the final state to checkpoint.atEnd when training stops on its own', async () => {
    const s = scripted([1, 0.5, 1e-9]);
    const atEnd: number[] = [];
    await lastValueFrom(of(data).pipe(train({ runId: 'r', trainer: s.make, maxSteps: 100, checkpoint: { every: 1e9, save: () => 'x', atEnd: (st) => atEnd.push(st.step) } })));
    expect(atEnd).toEqual([3]);
  });
});
