import { lastValueFrom, map, of, throwError, mergeMap, toArray, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AttractorMonitorEvent, EngramEvent, StabilityEvent, TrainStepEvent } from '../../events.ts';
import type { TrainEvent } from '../../operators/train.ts';
import { checkSequencesOption, splitSequences, trainWithSpikes } from '../../pipelines/memorize.ts';

const step = (n: number): TrainStepEvent => ({ kind: 'train-step', runId: 'r', step: n, time: 0, loss: 1 / n, lr: 1, gradNorm: 1, stepMs: 1, samplesPerSec: 1 });

describe('training with its monitors', () => {
  it('a failing monitor becomes a warning and training goes on to the end', async () => {
    const failing = <T,>(at: number): OperatorFunction<EngramEvent, T> =>
      mergeMap((e) => (e.step === at ? throwError(() => new Error('geev did not converge')) : of<T>()));
    const training$ = of<TrainEvent[]>(step(1), step(2), step(3), { kind: 'train-end', runId: 'r', step: 3, time: 0, reason: 'step-cap', loss: 1 / 3, lossTarget: 0, wallMs: 3 });
    const out = await lastValueFrom(trainWithSpikes(training$, 'r',
      failing<StabilityEvent>(2) as OperatorFunction<TrainStepEvent | EngramEvent, StabilityEvent>,
      failing<AttractorMonitorEvent>(1) as OperatorFunction<TrainEvent, AttractorMonitorEvent>).pipe(map((e) => e.kind === 'log' ? `${e.level}@${e.step}: ${e.message}` : `${e.kind}@${e.step}`), toArray()));
    expect(out.filter((x) => x.startsWith('train-'))).toEqual(['train-step@1', 'train-step@2', 'train-step@3', 'train-end@3']);
    expect(out.filter((x) => x.startsWith('warn'))).toEqual([
      'warn@1: the attractor monitor stopped: geev did not converge; training goes on without it',
      'warn@2: the stability monitor stopped: geev did not converge; training goes on without it',
    ]);
  });
});

describe('--sequences', () => {
  it('splits the samples into K consecutive sequences of near-equal length, the longer ones first', () => {
    const xs = Array.from({ length: 10 }, (_, i) => i);
    expect(splitSequences(xs, 1)).toEqual([xs]);
    expect(splitSequences(xs, 2)).toEqual([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
    expect(splitSequences(xs, 3)).toEqual([[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    expect(splitSequences(xs, 5).map((s) => s.length)).toEqual([2, 2, 2, 2, 2]);
    expect(() => splitSequences(xs, 6, 'clip.mp4')).toThrow(/--sequences 6 splits the 10 samples of clip.mp4 into sequences shorter than 2.*use --sequences 5 or fewer, or an input with at least 12 samples/);
    expect(() => splitSequences(xs, 0)).toThrow(/--sequences must be a whole number ≥ 1/);
  });

  it('applies to cycles only', () => {
    expect(() => checkSequencesOption({ objective: 'autoencode', sequences: 2 })).toThrow(/applies to --objective cycle/);
    expect(() => checkSequencesOption({ objective: 'autoencode', sequences: 1 })).not.toThrow();
    expect(() => checkSequencesOption({ objective: 'cycle', sequences: 0 })).toThrow(/whole number ≥ 1/);
    expect(() => checkSequencesOption({ objective: 'cycle', sequences: 3 })).not.toThrow();
  });
});
