import { Subject, connect, filter, lastValueFrom, merge, of, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../engine/backend.ts';
import { certifyCycle } from '../../engine/certify.ts';
import { createFcModel, type Model } from '../../engine/model.ts';
import { makeDataset } from '../../engine/objectives.ts';
import { Rng } from '../../engine/random.ts';
import { tf } from '../../engine/tf.ts';
import type { AttractorMonitorEvent, EngramEvent } from '../../events.ts';
import { attractorMonitor, histogram, monitorSnapshot } from '../../operators/attractor-monitor.ts';
import { train, type TrainEvent } from '../../operators/train.ts';
import { netTrainer } from '../../engine/trainer.ts';
import { rhoHistSpec, topEigHistSpec } from '../../sinks/plots/attractor-hist.ts';
import { plotSvg } from '../../sinks/plot.ts';

beforeAll(async () => {
  await selectBackend();
});

const net = (d: number, w: number, seed = 1): Model =>
  createFcModel({ kind: 'fc', dim: d, width: w, depth: 2, activation: 'tanh', bias: true, init: 'uniform:0.6', seed });
const frames = (n: number, d: number, seed = 5) => Array.from({ length: n }, (_, i) => new Rng(seed + i).uniformArray(d, 0, 1));

function stepEvent(step: number, stepMs = 10, loss = 0.1): TrainEvent {
  return { kind: 'train-step', runId: 'r', step, time: 0, loss, lr: 1e-3, gradNorm: 1, stepMs, samplesPerSec: 1 };
}
const endEvent = (step: number, reason: 'loss-target' | 'diverged' = 'loss-target'): TrainEvent =>
  ({ kind: 'train-end', runId: 'r', step, time: 0, reason, loss: 0.1, lossTarget: 1e-8, wallMs: 1 });

async function collect(events: TrainEvent[], op: ReturnType<typeof attractorMonitor>) {
  return lastValueFrom(of(...events).pipe(op, toArray()));
}

describe('attractorMonitor', () => {
  it('runs every N steps and once at the end, with per-example ρ equal to the dense solver (cycle)', async () => {
    const model = net(8, 12);
    const seq = frames(3, 8);
    const out = await collect([...Array.from({ length: 7 }, (_, i) => stepEvent(i + 1)), endEvent(7)],
      attractorMonitor({ runId: 'r', model, sequences: [seq], objective: 'cycle', every: 3 }));
    expect(out.map((e) => [e.step, e.phase])).toEqual([[3, 'cadence'], [6, 'cadence'], [7, 'end']]);
    const dense = certifyCycle(model, seq, 5, 'full');
    for (const e of out) {
      expect(e.kind).toBe('attractor-monitor');
      expect(e.method).toBe('arnoldi');
      expect(e.n).toBe(1);
      expect(e.items[0].period).toBe(3);
      expect(Math.abs(e.items[0].rho - dense.rho)).toBeLessThan(1e-4 * dense.rho);
      expect(e.items[0].attractor).toBe(dense.rho < 1);
      expect(e.rhoHist.counts.reduce((a, b) => a + b, 0)).toBe(1);
      expect(e.topEigHist.counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
      expect(e.totalMs).toBeGreaterThanOrEqual(e.ms);
    }
    expect(out[2].totalMs).toBeCloseTo(out.reduce((a, e) => a + e.ms, 0), 6);
    expect(out[2].trainMs).toBe(70);
    model.dispose();
  });

  it('autoencode: certifies at most K examples at their settled points, with any method', () => {
    const model = net(6, 10, 2);
    const xs = frames(5, 6);
    for (const method of ['full', 'reduced', 'arnoldi'] as const) {
      const snap = monitorSnapshot(model, [xs], 'autoencode', { maxExamples: 3, method, settle: 2, topK: 3 });
      expect(snap.method).toBe(method);
      expect(snap.n).toBe(3);
      expect(snap.total).toBe(5);
      snap.items.forEach((item, i) => {
        const settled = model.iterate(xs[i], 2).subarray(6);
        const dense = certifyCycle(model, [settled], 3, 'full');
        expect(Math.abs(item.rho - dense.rho)).toBeLessThan(1e-4 * dense.rho);
        expect(item.top.length).toBe(3);
      });
      expect(snap.attractors).toBe(snap.items.filter((i) => i.attractor).length);
      expect(snap.rhoHist.counts.reduce((a, b) => a + b, 0)).toBe(3);
      // 1% of d = 6 is one eigenvalue per example (arnoldi: at least top-k)
      expect(snap.topEigHist.counts.reduce((a, b) => a + b, 0)).toBe(method === 'arnoldi' ? 9 : 3);
    }
    model.dispose();
  });

  it("'auto' waits for enough training time, then spaces runs by its own cost; skips NaN steps and diverged ends", async () => {
    const model = net(6, 8);
    const seq = frames(2, 6);
    const opts = { runId: 'r', model, sequences: [seq], objective: 'cycle' as const };
    // 1 ms steps: 100 ms of training is far below the first run's threshold — only the end run
    const fast = await collect([...Array.from({ length: 100 }, (_, i) => stepEvent(i + 1, 1)), endEvent(100)], attractorMonitor(opts));
    expect(fast.map((e) => e.phase)).toEqual(['end']);
    // 1 s steps: the first run after 5 s of training; later runs cost ≪ 15% of a step, so every step
    const slow = await collect([...Array.from({ length: 8 }, (_, i) => stepEvent(i + 1, 1000)), endEvent(8, 'diverged')], attractorMonitor(opts));
    expect(slow.map((e) => e.step)).toEqual([5, 6, 7, 8]);
    const nan = await collect([stepEvent(1, 1000, Number.NaN), endEvent(1, 'diverged')], attractorMonitor({ ...opts, every: 1 }));
    expect(nan).toEqual([]);
    model.dispose();
  });

  it('runs between the steps of a real training, on that step’s weights, without leaking tensors', async () => {
    const model = net(10, 16, 3);
    const seq = frames(4, 10);
    const before = tf.memory().numTensors;
    const out = await lastValueFrom(of(makeDataset('cycle', [seq])).pipe(
      train({ runId: 'r', trainer: netTrainer(model, { name: 'adam', lr: 1e-3 }), maxSteps: 12, lossTarget: 0 }),
      connect((shared) => merge(
        shared.pipe(filter((e) => e.kind === 'train-step')),
        shared.pipe(attractorMonitor({ runId: 'r', model, sequences: [seq], objective: 'cycle', every: 4 })),
      )),
      toArray(),
    ));
    const mon = out.filter((e): e is AttractorMonitorEvent => e.kind === 'attractor-monitor');
    // the last step's cadence run is reused at the end (same weights, no second computation)
    expect(mon.map((e) => [e.step, e.phase])).toEqual([[4, 'cadence'], [8, 'cadence'], [12, 'cadence'], [12, 'end']]);
    expect(mon[3].ms).toBe(0);
    expect(mon[3].items).toEqual(mon[2].items);
    // the final event saw the final weights: the same ρ as certifying the trained model now
    const dense = certifyCycle(model, seq, 5, 'full');
    expect(Math.abs(mon[3].items[0].rho - dense.rho)).toBeLessThan(1e-4 * dense.rho);
    expect(mon[0].items[0].rho).not.toBeCloseTo(dense.rho, 6); // and earlier ones earlier weights
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('stops with its source (unsubscribe) and forwards errors', () => {
    const model = net(6, 8);
    const src = new Subject<TrainEvent>();
    const got: EngramEvent[] = [];
    let err: unknown = null;
    const sub = src.pipe(attractorMonitor({ runId: 'r', model, sequences: [frames(2, 6)], objective: 'cycle', every: 1 }))
      .subscribe({ next: (e) => got.push(e), error: (e) => (err = e) });
    src.next(stepEvent(1));
    sub.unsubscribe();
    src.next(stepEvent(2));
    expect(got.length).toBe(1);
    const src2 = new Subject<TrainEvent>();
    src2.pipe(attractorMonitor({ runId: 'r', model, sequences: [frames(2, 6)], objective: 'cycle' })).subscribe({ error: (e) => (err = e) });
    src2.error(new Error('boom'));
    expect((err as Error).message).toBe('boom');
    model.dispose();
  });
});

describe('histograms and their plots', () => {
  it('bins over [0, max(1, largest)] with 1 always in range', () => {
    const h = histogram([0.1, 0.5, 0.99, 1, 3]);
    expect(h.edges[0]).toBe(0);
    expect(h.edges.at(-1)).toBe(3);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(histogram([]).counts.every((c) => c === 0)).toBe(true);
  });

  it('plot specs come from the newest monitor event and render', async () => {
    expect(rhoHistSpec([])).toBeNull();
    const model = net(6, 8);
    const snap = monitorSnapshot(model, [frames(4, 6)], 'autoencode', { method: 'full' });
    const ev = { ...snap, kind: 'attractor-monitor', runId: 'r', step: 9, time: 0, phase: 'end', totalMs: 1, trainMs: 10 } as AttractorMonitorEvent;
    for (const spec of [rhoHistSpec([ev]), topEigHistSpec([ev])]) {
      expect(spec).not.toBeNull();
      const svg = await plotSvg(spec!);
      expect(svg).toContain('<svg');
      expect(svg).toContain('step 9');
    }
    model.dispose();
  });
});
