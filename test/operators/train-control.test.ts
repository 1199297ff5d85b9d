import { describe, expect, it } from 'vitest';
import { Subject, of } from 'rxjs';
import { train, type TrainEvent } from '../../operators/train.ts';
import type { ControlCommand } from '../../events.ts';
import type { Dataset } from '../../engine/objectives.ts';
import type { Model } from '../../engine/model.ts';
import type { Trainer } from '../../engine/trainer.ts';

const data: Dataset = { objective: 'cycle', dim: 2, n: 2, inputs: new Float32Array(4), targets: new Float32Array(4), sequenceLengths: [2] };

function counting() {
  const state = { steps: 0 };
  const make = (): Trainer => ({
    optimizer: { state: () => [], setState: () => undefined } as unknown as Trainer['optimizer'],
    rngState: () => [0],
    restoreRng: () => undefined,
    step: () => (state.steps++, { loss: 1, gradNorm: 1, lr: 0.1, batchSize: 2 }),
    loss: () => 0,
    dispose: () => undefined,
  });
  return { state, make };
}

const until = async (what: () => boolean) => {
  for (let i = 0; i < 500 && !what(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(what()).toBe(true);
};

describe('train operator control stream', () => {
  it('pauses, checkpoints while paused, resumes and acknowledges each with a control event', async () => {
    const control = new Subject<ControlCommand>();
    const t = counting();
    const saved: number[] = [];
    const events: TrainEvent[] = [];
    const sub = of(data).pipe(train({
      runId: 'r', model: {} as Model, optimizer: { name: 'gd', lr: 0.1 }, maxSteps: 1e9, lossTarget: 0, makeTrainer: t.make, control,
      checkpoint: { every: 1e9, save: (st) => (saved.push(st.step), `ck-${st.step}`) },
    })).subscribe((e) => events.push(e));
    await until(() => t.state.steps >= 5);
    control.next('pause');
    await new Promise((r) => setTimeout(r, 30));
    const atPause = t.state.steps;
    await new Promise((r) => setTimeout(r, 100));
    expect(t.state.steps).toBe(atPause); // no steps while paused
    expect(events.filter((e) => e.kind === 'control')).toMatchObject([{ command: 'pause' }]);

    control.next('checkpoint');
    await until(() => saved.length === 1);
    expect(saved[0]).toBe(atPause);
    expect(events.at(-1)).toMatchObject({ kind: 'artifact', what: 'checkpoint', path: `ck-${atPause}` });

    control.next('pause'); // already paused: nothing
    control.next('resume');
    await until(() => t.state.steps > atPause + 3);
    expect(events.filter((e) => e.kind === 'control').map((e) => (e as { command: string }).command)).toEqual(['pause', 'resume']);

    control.next('checkpoint'); // while running: at the next step boundary
    await until(() => saved.length === 2);
    sub.unsubscribe();
    expect(control.observed).toBe(false); // the operator let go of the control stream
  });

  it('ignores commands it does not own (recall) and works without a control stream', async () => {
    const control = new Subject<ControlCommand>();
    const t = counting();
    const events: TrainEvent[] = [];
    of(data).pipe(train({ runId: 'r', model: {} as Model, optimizer: { name: 'gd', lr: 0.1 }, maxSteps: 20, lossTarget: 0, makeTrainer: t.make, control }))
      .subscribe((e) => (events.push(e), e.kind === 'train-step' && e.step === 3 && control.next('recall')));
    await until(() => events.at(-1)?.kind === 'train-end');
    expect(events.filter((e) => e.kind === 'train-step')).toHaveLength(20);
    expect(events.some((e) => e.kind === 'control')).toBe(false);
  });
});
