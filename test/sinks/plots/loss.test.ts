/** The loss plot spec from events: data, marks, and a PNG that renders. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, toArray, lastValueFrom } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngramEvent, SpikeEvent, TrainStepEvent } from '../../../events.ts';
import { spikes } from '../../../operators/spikes.ts';
import { plotSvg, writePlot } from '../../../sinks/plot.ts';
import { lossPlotSpec } from '../../../sinks/plots/loss.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-loss-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const step = (s: number, loss: number): TrainStepEvent => ({ kind: 'train-step', runId: 'r', step: s, time: 0, loss, lr: 0.1, gradNorm: 1, stepMs: 1, samplesPerSec: 1 });

/** A loss curve with one catapult at step 40 and a NaN at the end, with the detector's events. */
async function run(): Promise<EngramEvent[]> {
  const losses = Array.from({ length: 100 }, (_, i) => Math.exp(-i / 10) + (i >= 40 && i < 50 ? 10 * Math.exp(-((i - 44) ** 2)) : 0));
  losses.push(Number.NaN);
  const steps = losses.map((l, i) => step(i + 1, l));
  const sp: SpikeEvent[] = await lastValueFrom(from(steps).pipe(spikes({ runId: 'r', window: 20 }), toArray()));
  const stab: EngramEvent = {
    kind: 'stability', runId: 'r', step: 0, time: 0, trigger: 'start', lambdaMax: 30, lr: 0.1, a: 0.5, ratio: 0.75, optimizer: 'gd',
    momentum: 0, weightDecay: 0, applicable: true, method: 'lanczos, jvp forward', iterations: 4, converged: true, ms: 1,
  };
  return [stab, ...steps, ...sp].sort((a, b) => a.step - b.step);
}

type Layer = { data: { values: Record<string, unknown>[] }; mark: { type: string } };

describe('loss plot spec', () => {
  it('plots the finite losses on a log scale and marks onsets, peaks, the NaN and the ratio', async () => {
    const events = await run();
    const spec = lossPlotSpec(events) as unknown as { title: string; layer: Layer[] };
    expect(spec.title).toMatch(/1 spike, stopped at NaN\/Inf/);
    const [line, points, rule, ticks] = spec.layer;
    expect(line.mark.type).toBe('line');
    expect(line.data.values).toHaveLength(100); // the NaN step is left out
    expect(JSON.stringify(line)).toMatch(/"scale":\{"type":"log"\}/);
    const onset = points.data.values.find((v) => v.what === 'spike onset')!;
    const peak = points.data.values.find((v) => v.what === 'spike peak')!;
    expect(onset.step).toBeGreaterThanOrEqual(41);
    expect(onset.step).toBeLessThan(45);
    expect(peak).toMatchObject({ step: 45 });
    expect(rule.mark.type).toBe('rule');
    expect(rule.data.values).toEqual([{ step: 101, what: 'NaN/Inf' }]);
    expect(ticks.data.values[0]).toMatchObject({ step: 0, r: 0.75 });
    const svg = await plotSvg(spec as never);
    expect(svg).toMatch(/<svg/);
    const png = await writePlot(join(dir, 'loss.png'), spec as never);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });

  it('strides long curves but keeps the spike steps; null without any loss', async () => {
    const steps = Array.from({ length: 20_000 }, (_, i) => step(i + 1, i === 12_345 ? 50 : 1 / (i + 1)));
    const sp = await lastValueFrom(from(steps).pipe(spikes({ runId: 'r' }), toArray()));
    const spec = lossPlotSpec([...steps, ...sp], { maxPoints: 1000 }) as unknown as { layer: Layer[] };
    const values = spec.layer[0].data.values;
    expect(values.length).toBeLessThan(1100);
    expect(values.some((v) => v.step === 12_346)).toBe(true);
    expect(values.at(-1)).toMatchObject({ step: 20_000 });
    expect(lossPlotSpec([])).toBeNull();
    expect(lossPlotSpec([step(1, Number.NaN)])).toBeNull();
  });
});
