import { TestScheduler } from 'rxjs/testing';
import { Subject, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { SpikeEvent, TrainStepEvent } from '../../events.ts';
import { spikes } from '../../operators/spikes.ts';

const step = (s: number, loss: number): TrainStepEvent => ({ kind: 'train-step', runId: 'r', step: s, time: 0, loss, lr: 0.1, gradNorm: 1, stepMs: 1, samplesPerSec: 1 });
const scheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

/** Marble letters a..i are steps 1..9 with the losses given. */
function run(marbles: string, losses: number[], opts = {}) {
  const values = Object.fromEntries(losses.map((l, i) => [String.fromCharCode(97 + i), step(i + 1, l)]));
  return { values, op: spikes({ runId: 'r', window: 3, kappa: 2, delta: 0.1, ...opts }) };
}

describe('spikes operator', () => {
  it('emits nothing while the loss falls', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { values, op } = run('abcde|', [1, 0.8, 0.6, 0.5, 0.4]);
      expectObservable(cold('abcde|', values).pipe(op)).toBe('-----|');
    });
  });

  it('reports onset, peak, end, height and duration of a spike that returns', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { values, op } = run('abcdefg|', [1, 1, 1, 5, 9, 4, 1.05]);
      const onset: Partial<SpikeEvent> = { phase: 'onset', step: 4, onsetStep: 4, preLoss: 1, peakLoss: 5, peakStep: 4, height: 5 };
      const end: Partial<SpikeEvent> = { phase: 'end', step: 7, onsetStep: 4, preLoss: 1, peakLoss: 9, peakStep: 5, height: 9, duration: 3 };
      expectObservable(cold('abcdefg|', values).pipe(op, map((e) => pick(e, Object.keys(e.phase === 'onset' ? onset : end))))).toBe(
        '---o--e|', { o: onset, e: end },
      );
    });
  });

  it('reports NaN and Inf at once', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { values, op } = run('abc|', [1, Number.NaN, Infinity]);
      expectObservable(cold('abc|', values).pipe(op, map((e) => e.phase))).toBe('-xy|', { x: 'nonfinite', y: 'nonfinite' });
    });
  });

  it('reports a non-finite gradient norm with a finite loss at once', () => {
    const seen: SpikeEvent[] = [];
    const src = new Subject<TrainStepEvent>();
    src.pipe(spikes({ runId: 'r', window: 2, kappa: 2 })).subscribe((e) => seen.push(e));
    src.next(step(1, 1));
    src.next({ ...step(2, 1.5), gradNorm: Infinity });
    expect(seen.map((e) => [e.phase, e.step, e.peakLoss])).toEqual([['nonfinite', 2, 1.5]]);
  });

  it('never starts a spike at a loss of exactly 0 (κ·0 would make every loss one)', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { values, op } = run('abcd|', [1, 0, 0, 0]);
      expectObservable(cold('abcd|', values).pipe(op)).toBe('----|');
    });
  });

  it('passes errors through and stops on unsubscribe', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { values, op } = run('ab#', [1, 1]);
      expectObservable(cold('ab#', values).pipe(op)).toBe('--#');
    });
    const src = new Subject<TrainStepEvent>();
    const seen: SpikeEvent[] = [];
    const sub = src.pipe(spikes({ runId: 'r', window: 2 })).subscribe((e) => seen.push(e));
    src.next(step(1, 1));
    sub.unsubscribe();
    src.next(step(2, 100));
    expect(seen).toEqual([]);
    expect(src.observed).toBe(false);
  });

  it('works on a synchronous source', () => {
    const seen: string[] = [];
    const src = new Subject<TrainStepEvent>();
    src.pipe(spikes({ runId: 'r', window: 2, kappa: 2 })).subscribe((e) => seen.push(`${e.phase}@${e.step}`));
    [1, 1, 3, 1].forEach((l, i) => src.next(step(i + 1, l)));
    expect(seen).toEqual(['onset@3', 'end@4']);
  });
});

function pick(e: SpikeEvent, keys: string[]): Partial<SpikeEvent> {
  return Object.fromEntries(keys.map((k) => [k, (e as unknown as Record<string, unknown>)[k]])) as Partial<SpikeEvent>;
}
