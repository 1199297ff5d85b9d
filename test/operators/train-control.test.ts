/**
 * The train operator's control stream, on a scripted trainer, with fake timers and a clock that
 * does not move: the loop never yields on its own, so anything that happens after a pause happens
 * because a command arrived, and a pause that polled with a timer would show as a pending timer
 * (and would never wake up, since the fake timers are never advanced).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Subject, of } from 'rxjs';
import { train, type TrainEvent } from '../../operators/train.ts';
import type { ControlCommand } from '../../events.ts';
import { dataset, scripted } from './fake-trainer.ts';

const data = dataset(0);
/** Lets pending promise continuations run (no timers involved). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function setup(o: { maxSteps?: number; pauseAt?: number; checkpointEvery?: number } = {}) {
  const control = new Subject<ControlCommand>();
  const s = scripted([1]);
  const saved: number[] = [];
  const events: TrainEvent[] = [];
  let completed = false;
  const sub = of(data).pipe(train({
    runId: 'r', trainer: s.make, maxSteps: o.maxSteps ?? 1e9, lossTarget: 0, control, now: () => 0,
    checkpoint: { every: o.checkpointEvery ?? 1e9, save: (st) => (saved.push(st.step), `ck-${st.step}`) },
  })).subscribe({
    next: (e) => {
      events.push(e);
      if (e.kind === 'train-step' && e.step === (o.pauseAt ?? 5)) control.next('pause');
    },
    complete: () => (completed = true),
  });
  return { control, s, saved, events, sub, done: () => completed };
}
const commands = (events: TrainEvent[]) => events.filter((e) => e.kind === 'control').map((e) => (e as { command: string }).command);

describe('train operator control stream', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pause holds the loop at the step boundary with no timer pending; resume continues to the end', async () => {
    const t = setup({ maxSteps: 20 });
    // everything up to the pause ran inside subscribe; the loop now waits on the control stream
    expect(t.s.st.steps).toBe(5);
    expect(commands(t.events)).toEqual(['pause']);
    expect(t.events.at(-1)).toMatchObject({ kind: 'control', command: 'pause', step: 5 });
    await settle();
    expect(vi.getTimerCount()).toBe(0);
    expect(t.s.st.steps).toBe(5);

    t.control.next('pause'); // already paused: nothing
    t.control.next('resume');
    await settle();
    expect(t.s.st.steps).toBe(20);
    expect(t.done()).toBe(true);
    expect(commands(t.events)).toEqual(['pause', 'resume']);
    expect(t.events.at(-1)).toMatchObject({ kind: 'train-end', reason: 'step-cap', step: 20 });
    expect(t.control.observed).toBe(false); // the operator let go of the control stream
  });

  it('checkpoint now while paused saves at once, and only when something was trained since the newest checkpoint', async () => {
    const t = setup({ checkpointEvery: 5, pauseAt: 7 });
    expect(t.saved).toEqual([5]);
    t.control.next('checkpoint');
    await settle();
    expect(t.saved).toEqual([5, 7]);
    expect(t.events.at(-1)).toMatchObject({ kind: 'artifact', what: 'checkpoint', path: 'ck-7', step: 7 });
    t.control.next('checkpoint'); // nothing new since: no second file
    await settle();
    expect(t.saved).toEqual([5, 7]);
    expect(t.s.st.steps).toBe(7); // still paused
    expect(vi.getTimerCount()).toBe(0);
    t.sub.unsubscribe();
  });

  it('checkpoint now while running saves at the next step boundary', () => {
    const control = new Subject<ControlCommand>();
    const s = scripted([1]);
    const saved: number[] = [];
    of(data).pipe(train({
      runId: 'r', trainer: s.make, maxSteps: 12, lossTarget: 0, control, now: () => 0,
      checkpoint: { every: 1e9, save: (st) => (saved.push(st.step), 'x') },
    })).subscribe((e) => e.kind === 'train-step' && e.step === 3 && control.next('checkpoint'));
    expect(saved).toEqual([3]);
    expect(s.st.steps).toBe(12);
  });

  it('unsubscribing while paused ends cleanly: the steps since the last checkpoint are saved, the trainer freed, nothing more runs', async () => {
    const t = setup({ checkpointEvery: 4, pauseAt: 6 });
    expect(t.saved).toEqual([4]);
    t.sub.unsubscribe();
    expect(t.saved).toEqual([4, 6]);
    expect(t.s.st.disposed).toBe(1);
    expect(t.control.observed).toBe(false);
    await settle();
    t.control.next('resume');
    await settle();
    expect(t.s.st.steps).toBe(6);
    expect(t.events.filter((e) => e.kind === 'train-step')).toHaveLength(6);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ignores commands it does not own (recall) and works without a control stream', async () => {
    const control = new Subject<ControlCommand>();
    const s = scripted([1]);
    const events: TrainEvent[] = [];
    of(data).pipe(train({ runId: 'r', trainer: s.make, maxSteps: 20, lossTarget: 0, control, now: () => 0 }))
      .subscribe((e) => (events.push(e), e.kind === 'train-step' && e.step === 3 && control.next('recall')));
    expect(events.filter((e) => e.kind === 'train-step')).toHaveLength(20);
    expect(events.at(-1)?.kind).toBe('train-end');
    expect(events.some((e) => e.kind === 'control')).toBe(false);
    const plain: TrainEvent[] = [];
    of(data).pipe(train({ runId: 'r', trainer: scripted([1]).make, maxSteps: 4, lossTarget: 0, now: () => 0 })).subscribe((e) => plain.push(e));
    expect(plain.map((e) => e.kind)).toEqual(['train-step', 'train-step', 'train-step', 'train-step', 'train-end']);
  });
});
