import { describe, expect, it } from 'vitest';
import type { EngramEvent } from '../../events.ts';
import { HISTORY, initialViewState, reduceEvent } from '../../tui/view-state.ts';

const base = { runId: 'r1', time: 0 };
const step = (n: number, loss: number): EngramEvent => ({ ...base, kind: 'train-step', step: n, loss, lr: 1e-4, gradNorm: 1, stepMs: 5, samplesPerSec: 10 });

describe('view state reducer', () => {
  it('folds a run into status, losses, recall and artifacts', () => {
    const events: EngramEvent[] = [
      { ...base, step: 0, kind: 'run-start', command: 'demo', backend: { name: 'wasm-blas', tfBackend: 'wasm-blas', device: 'cpu', blas: 'OpenBLAS', threads: 2 }, config: {} },
      step(1, 0.5), step(2, 0.1), step(3, 0.2),
      { ...base, step: 3, kind: 'train-end', reason: 'loss-target', loss: 0.2, lossTarget: 0.3, wallMs: 15 },
      { ...base, step: 3, kind: 'artifact', what: 'checkpoint', path: 'x/model.ckpt' },
      { ...base, step: 3, kind: 'run-end', status: 'complete', wallMs: 20 },
    ];
    const v = events.reduce(reduceEvent, initialViewState);
    expect(v).toMatchObject({ runId: 'r1', status: 'complete', backend: 'wasm-blas', step: 3, loss: 0.2, bestLoss: 0.1, wallMs: 20 });
    expect(v.lossHistory).toEqual([0.5, 0.1, 0.2]);
    expect(v.train).toEqual({ reason: 'loss-target', step: 3, loss: 0.2, wallMs: 15 });
    expect(v.artifacts).toEqual([{ what: 'checkpoint', path: 'x/model.ckpt' }]);
  });

  it('keeps a bounded loss history and never mutates its input', () => {
    const start = initialViewState;
    let v = start;
    for (let i = 1; i <= HISTORY + 10; i++) v = reduceEvent(v, step(i, 1 / i));
    expect(v.lossHistory).toHaveLength(HISTORY);
    expect(v.lossHistory[HISTORY - 1]).toBe(1 / (HISTORY + 10));
    expect(start.lossHistory).toEqual([]);
  });
});
