import { describe, expect, it } from 'vitest';
import type { EngramEvent } from '../../events.ts';
import type { RunJson } from '../../pipelines/run-dir.ts';
import { trainingDone } from '../../pipelines/saved-run.ts';

const run = (status: RunJson['status'], summary?: Record<string, unknown>): RunJson =>
  ({ id: 'r', command: 'engram memorize x', status, created: '', updated: '', ...(summary ? { summary } : {}) }) as RunJson;
const stepEv = (step: number, loss: number) => ({ kind: 'train-step', runId: 'r', step, time: 0, loss, lr: 1, gradNorm: 1, stepMs: 1, samplesPerSec: 1 }) as EngramEvent;
const endEv = (step: number, reason: string, loss: number) => ({ kind: 'train-end', runId: 'r', step, time: 0, reason, loss, lossTarget: 1e-8, wallMs: 1 }) as EngramEvent;

describe('trainingDone (what memorize --resume finds at the newest checkpoint)', () => {
  it('a train-end at the checkpoint that reached its target: done, whatever run.json says', () => {
    expect(trainingDone(run('cancelled'), [stepEv(5, 1e-9), endEv(5, 'loss-target', 1e-9)], 5, Number.NaN)).toEqual({ step: 5, reason: 'loss-target', loss: 1e-9 });
  });

  it('a step cap counts only for a complete run; a train-end before the checkpoint does not count', () => {
    const log = [stepEv(50, 0.1), endEv(50, 'step-cap', 0.1)];
    expect(trainingDone(run('complete'), log, 50, Number.NaN)).toMatchObject({ reason: 'step-cap', loss: 0.1 });
    expect(trainingDone(run('cancelled'), log, 50, Number.NaN)).toBeNull();
    expect(trainingDone(run('running'), [...log, stepEv(60, 0.05)], 60, Number.NaN)).toBeNull();
  });

  it('a train-end whose loss was lost (NaN, the old bug) takes the checkpoint\'s, the summary\'s or the last logged step\'s', () => {
    const log = [stepEv(50, 0.1), endEv(50, 'step-cap', Number.NaN)];
    expect(trainingDone(run('complete'), log, 50, 0.2)?.loss).toBe(0.2);
    expect(trainingDone(run('complete', { steps: 50, finalLoss: 0.3, trainReason: 'step-cap' }), log, 50, Number.NaN)?.loss).toBe(0.3);
    expect(trainingDone(run('complete', { steps: 50, finalLoss: null, trainReason: 'step-cap' }), log, 50, Number.NaN)?.loss).toBe(0.1);
  });

  it('a complete run with an empty log: run.json\'s summary at the checkpoint\'s step', () => {
    expect(trainingDone(run('complete', { steps: 3, finalLoss: 1e-12, trainReason: 'loss-target' }), [], 3, Number.NaN)).toEqual({ step: 3, reason: 'loss-target', loss: 1e-12 });
    expect(trainingDone(run('complete', { steps: 3, finalLoss: 1e-12, trainReason: 'loss-target' }), [], 2, Number.NaN)).toBeNull();
  });
});
