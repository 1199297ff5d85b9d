/** The train operator: datasets replaced while training, and learning-rate schedules (scripted trainer, no tensors). */
import { Subject, lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../engine/objectives.ts';
import { lrAt, type LrSchedule } from '../../engine/schedule.ts';
import { train, type TrainEvent } from '../../operators/train.ts';
import { dataset, scripted } from './fake-trainer.ts';

describe('train operator: a dataset replaced while training', () => {
  it('is trained on from the next step, by the same trainer, without restarting the loop', () => {
    const data$ = new Subject<Dataset>();
    const s = scripted([1]);
    const events: TrainEvent[] = [];
    let completed = false;
    data$.pipe(train({ runId: 'r', trainer: s.make, maxSteps: 8, lossTarget: 0, now: () => 0 })).subscribe({
      next: (e) => {
        events.push(e);
        if (e.kind === 'train-step' && e.step === 3) data$.next(dataset(2));
        if (e.kind === 'train-step' && e.step === 5) data$.next(dataset(3));
      },
      complete: () => (completed = true),
    });
    data$.next(dataset(1));
    expect(s.st.trainedOn).toEqual([1, 1, 1, 2, 2, 3, 3, 3]);
    expect(s.st.made).toBe(1);
    expect(events.filter((e) => e.kind === 'train-step').map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.at(-1)).toMatchObject({ kind: 'train-end', reason: 'step-cap', step: 8 });
    // training ended on its own: the operator completes though the input is still open, and lets go of it
    expect(completed).toBe(true);
    expect(data$.observed).toBe(false);
  });

  it('only the newest of several datasets that arrive within one step is applied', () => {
    const data$ = new Subject<Dataset>();
    const s = scripted([1]);
    data$.pipe(train({ runId: 'r', trainer: s.make, maxSteps: 4, lossTarget: 0, now: () => 0 }))
      .subscribe((e) => e.kind === 'train-step' && e.step === 2 && (data$.next(dataset(5)), data$.next(dataset(6))));
    data$.next(dataset(1));
    expect(s.st.trainedOn).toEqual([1, 1, 6, 6]);
  });

  it('the input completing while training does not stop it', async () => {
    const s = scripted([1]);
    const ev = await lastValueFrom(of(dataset(1)).pipe(train({ runId: 'r', trainer: s.make, maxSteps: 30, lossTarget: 0 }), toArray()));
    expect(ev.filter((e) => e.kind === 'train-step')).toHaveLength(30);
  });

  it('a trainer without setData fails the run when its data is replaced', async () => {
    const data$ = new Subject<Dataset>();
    const s = scripted([1], { noSetData: true });
    let error: unknown = null;
    data$.pipe(train({ runId: 'r', trainer: s.make, maxSteps: 10, lossTarget: 0, now: () => 0 })).subscribe({
      next: (e) => e.kind === 'train-step' && e.step === 2 && data$.next(dataset(2)),
      error: (e) => (error = e),
    });
    data$.next(dataset(1));
    await Promise.resolve();
    expect(String(error)).toMatch(/cannot change its data/);
    expect(s.st.steps).toBe(2);
    expect(s.st.disposed).toBe(1);
  });
});

describe('train operator: learning-rate schedule', () => {
  const schedule: LrSchedule = { kind: 'cosine', lr: 0.5, steps: 20, warmup: 5, minLr: 0.01 };

  it('sets lrAt(schedule, t) before step t, and the train-step events report it', async () => {
    const s = scripted([1]);
    const ev = await lastValueFrom(of(dataset(0)).pipe(train({ runId: 'r', trainer: s.make, maxSteps: 25, lossTarget: 0, schedule }), toArray()));
    const want = Array.from({ length: 25 }, (_, t) => lrAt(schedule, t));
    expect(s.st.lrs).toEqual(want);
    expect(ev.filter((e) => e.kind === 'train-step').map((e) => (e as { lr: number }).lr)).toEqual(want);
  });

  it('a resumed run continues the curve from its restored step', async () => {
    const s = scripted([1]);
    await lastValueFrom(of(dataset(0)).pipe(train({ runId: 'r', trainer: s.make, maxSteps: 25, lossTarget: 0, schedule, restore: { step: 12, optimizer: [], rng: [] } })));
    expect(s.st.lrs).toEqual(Array.from({ length: 13 }, (_, i) => lrAt(schedule, 12 + i)));
  });

  it('without a schedule the trainer keeps its own rate; a schedule for a trainer that cannot set one is an error', async () => {
    const s = scripted([1]);
    await lastValueFrom(of(dataset(0)).pipe(train({ runId: 'r', trainer: s.make, maxSteps: 3, lossTarget: 0 })));
    expect(s.st.lrs).toEqual([0.1, 0.1, 0.1]);
    const fixed = scripted([1], { noSetLr: true });
    await expect(lastValueFrom(of(dataset(0)).pipe(train({ runId: 'r', trainer: fixed.make, maxSteps: 3, schedule })))).rejects.toThrow(/learning rate/);
    expect(() => train({ runId: 'r', trainer: fixed.make, maxSteps: 3, schedule: { kind: 'step', lr: 1, every: 0, factor: 0.5 } })).toThrow(/every/);
  });
});

describe("train operator: atTarget 'wait' (live inputs)", () => {
  it('idles at the loss target until the next dataset, trains on it, and ends at the target once the input is done', async () => {
    const data$ = new Subject<Dataset>();
    // the loss reaches the target (0.5) every second step
    const s = scripted((k) => (k % 2 === 1 ? 0.1 : 1));
    const events: TrainEvent[] = [];
    const idle: number[] = [];
    let completed = false;
    data$.pipe(train({ runId: 'r', trainer: s.make, maxSteps: 100, lossTarget: 0.5, atTarget: 'wait', onIdle: (n) => idle.push(n), now: () => 0 }))
      .subscribe({ next: (e) => events.push(e), complete: () => (completed = true) });
    data$.next(dataset(1));
    await new Promise((r) => setImmediate(r));
    // at the target after 2 steps: waiting, not ended
    expect(s.st.steps).toBe(2);
    expect(idle).toEqual([2]);
    expect(completed).toBe(false);
    data$.next(dataset(2));
    await new Promise((r) => setImmediate(r));
    expect(s.st.trainedOn).toEqual([1, 1, 2, 2]);
    expect(idle).toEqual([2, 4]);
    data$.complete();
    await new Promise((r) => setImmediate(r));
    expect(completed).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: 'train-end', reason: 'loss-target', step: 4 });
    expect(s.st.disposed).toBe(1);
  });

  it('a pause taken while waiting holds the next dataset until resume; unsubscribing while waiting frees the trainer', async () => {
    const data$ = new Subject<Dataset>();
    const control$ = new Subject<'pause' | 'resume'>();
    const s = scripted((k) => (k % 2 === 1 ? 0.1 : 1));
    const sub = data$.pipe(train({ runId: 'r', trainer: s.make, maxSteps: 100, lossTarget: 0.5, atTarget: 'wait', control: control$, now: () => 0 })).subscribe();
    data$.next(dataset(1));
    await new Promise((r) => setImmediate(r));
    control$.next('pause');
    data$.next(dataset(2));
    await new Promise((r) => setImmediate(r));
    expect(s.st.steps).toBe(2); // paused: the new data waits
    control$.next('resume');
    await new Promise((r) => setImmediate(r));
    expect(s.st.trainedOn).toEqual([1, 1, 2, 2]);
    sub.unsubscribe();
    expect(s.st.disposed).toBe(1);
  });

  it("the default ends at the target with the input still open, as before", () => {
    const data$ = new Subject<Dataset>();
    const s = scripted([1, 0.1]);
    const ev: TrainEvent[] = [];
    data$.pipe(train({ runId: 'r', trainer: s.make, maxSteps: 100, lossTarget: 0.5, now: () => 0 })).subscribe((e) => ev.push(e));
    data$.next(dataset(1));
    expect(ev.at(-1)).toMatchObject({ kind: 'train-end', reason: 'loss-target', step: 2 });
  });
});
