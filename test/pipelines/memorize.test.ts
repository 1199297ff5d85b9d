import { lastValueFrom, map, of, throwError, mergeMap, toArray, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AttractorMonitorEvent, EngramEvent, StabilityEvent, TrainStepEvent } from '../../events.ts';
import type { TrainEvent } from '../../operators/train.ts';
import { trainWithSpikes } from '../../pipelines/memorize.ts';

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
