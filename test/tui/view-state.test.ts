import { describe, expect, it } from 'vitest';
import { EVENT_KINDS, EVENT_SCHEMA_VERSION, type ControlCommand, type EngramEvent, type LiveEvent, type LiveProbeEvent } from '../../events.ts';
import { ONE_OF_EACH, runStart } from '../fixtures/events/one-of-each.ts';
import { HISTORY, LIVE_HISTORY, initialViewState, probeAgeMs, reduceEvent } from '../../tui/view-state.ts';

const base = { runId: 'r1', time: 0 };
const step = (n: number, loss: number): EngramEvent => ({ ...base, kind: 'train-step', step: n, loss, lr: 1e-4, gradNorm: 1, stepMs: 5, samplesPerSec: 10 });

describe('view state reducer', () => {
  it('folds a run into status, losses, recall and artifacts', () => {
    const events: EngramEvent[] = [
      { ...base, step: 0, kind: 'run-start', schemaVersion: EVENT_SCHEMA_VERSION, command: 'demo', backend: { name: 'wasm-blas', tfBackend: 'wasm-blas', device: 'cpu', blas: 'OpenBLAS', threads: 2 }, config: demoConfig },
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

import { addLoss, elapsedMs, etaToTarget, parameterCount, reduceEvents, rhoHistogram, SERIES, stepsPerSecond } from '../../tui/view-state.ts';
import { demoConfig, fixtureRun, imagePreview, liveRun } from './fixtures.ts';

describe('view state from a fixture run', () => {
  it('knows the run, the model, the spike (with its duration), recall, preview and attractors', () => {
    const v = reduceEvents(fixtureRun({ steps: 600 }));
    expect(v).toMatchObject({ status: 'complete', step: 600, objective: 'cycle', input: 'runs/x/source.mkv', backend: 'wasm-blas', device: 'cpu', lossTarget: 1e-8 });
    expect(v.dataset).toEqual({ n: 48, dim: 1024, width: 32, height: 32, channels: 1 });
    expect(parameterCount(v)).toBe(1024 * 512 + 512 + 512 * 512 + 512 + 512 * 1024 + 1024);
    expect(v.spikes).toBe(1);
    expect(v.spikeList).toEqual([{ onsetStep: 200, peakStep: 200, height: 30, duration: 12, nonfinite: false }]);
    expect(v.recall?.framesMatched).toBe(47);
    expect(v.preview).toMatchObject({ kind: 'preview', width: 32, height: 32 });
    expect(v.attractors?.attractors).toBe(2);
    expect(v.log.at(-1)?.text).toMatch(/run complete/);
    expect(v.log.some((l) => l.level === 'warn' && /spike/.test(l.text))).toBe(true);
    expect(elapsedMs(v, v.startTime! + 3_600_000)).toBe(6500); // a finished run: its own wall time, not the clock (an hour on)
  });

  it('measures steps/s from event times and extrapolates the ETA from the log-loss slope', () => {
    const live = reduceEvents(fixtureRun({ steps: 150, end: false }));
    expect(live.status).toBe('running');
    expect(stepsPerSecond(live)).toBeCloseTo(100, 5); // 10 ms a step
    const eta = etaToTarget(live)!;
    // loss ≈ 0.2·e^(−s/60): log10 falls by 1/(60·ln 10) a step; target 1e-8 from loss(150)
    const expected = (Math.log10(1e-8) - Math.log10(live.loss!)) / (-1 / (60 * Math.log(10)));
    expect(eta.steps).toBeGreaterThan(expected * 0.9);
    expect(eta.steps).toBeLessThan(expected * 1.1);
    expect(eta.seconds).toBeCloseTo(eta.steps / 100, 5);
    expect(elapsedMs(live, null)).toBe(1500);
  });

  it('has no ETA when the loss is not falling', () => {
    let v = reduceEvents(fixtureRun({ steps: 1, end: false }));
    for (let i = 2; i < 40; i++) v = reduceEvent(v, step(i, 0.5 + (i % 2) * 0.01));
    expect(etaToTarget(v)).toBeNull();
  });

  it('tracks pause and resume from control events', () => {
    let v = reduceEvents(fixtureRun({ steps: 10, end: false }));
    v = reduceEvent(v, { ...base, step: 10, kind: 'control', command: 'pause' });
    expect(v.paused).toBe(true);
    v = reduceEvent(v, { ...base, step: 10, kind: 'control', command: 'resume' });
    expect(v.paused).toBe(false);
    expect(v.log.slice(-2).map((l) => l.text)).toEqual(['paused', 'resumed']);
  });

  it('decimates the loss series: bounded, covering every step, keeping the range of each bucket', () => {
    let s: ReturnType<typeof addLoss> = { series: [], stride: 1 };
    for (let i = 1; i <= 5000; i++) s = addLoss(s.series, s.stride, i, i === 1234 ? 1e3 : 1 / i);
    expect(s.series.length).toBeLessThanOrEqual(SERIES);
    expect(s.series.reduce((a, p) => a + p.count, 0)).toBe(5000);
    expect(s.series.at(-1)!.step).toBe(5000);
    expect(Math.max(...s.series.map((p) => p.hi))).toBe(1e3); // a one-step spike survives decimation
  });

  it('bins ρ of the stored memories', () => {
    const v = reduceEvents(fixtureRun({ steps: 10 }));
    const h = rhoHistogram(v.attractors!, 6);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(3); // the recalled limit is not a stored memory
    expect(h.max).toBe(1.5);
  });

  it('keeps the newest preview', () => {
    const v = reduceEvents([imagePreview(1), imagePreview(2)]);
    expect(v.preview?.step).toBe(2);
  });
});

describe('view state: the monitors of issue 4', () => {
  const b = { runId: 'r1', time: 0 };
  it('shows the attractor monitor live until the post-training certificate replaces it', () => {
    const hist = { edges: [0, 1, 2], counts: [1, 1] };
    const monitor: EngramEvent = {
      ...b, step: 100, kind: 'attractor-monitor', phase: 'cadence', method: 'arnoldi', solver: 'lapack',
      items: [
        { index: 0, what: 'sample 0', period: 1, rho: 0.5, top: [{ re: 0.5, im: 0, abs: 0.5 }], attractor: true },
        { index: 1, what: 'sample 1', period: 1, rho: 1.2, top: [{ re: 0, im: 1.2, abs: 1.2 }], attractor: false },
      ],
      attractors: 1, n: 2, total: 4, rhoHist: hist, topEigHist: hist, pooled: 'top 1', ms: 5, totalMs: 5, trainMs: 100,
    };
    let v = reduceEvents([monitor]);
    expect(v.attractors).toMatchObject({ method: 'arnoldi', attractors: 1, stored: 2 });
    expect(v.attractors!.items.map((i) => i.rho)).toEqual([0.5, 1.2]);
    expect(v.log.at(-1)).toMatchObject({ level: 'warn', text: expect.stringContaining('1/2 attractors, max ρ 1.200') });
    v = reduceEvent(v, { ...b, step: 200, kind: 'attractors', method: 'reduced', solver: 'lapack', items: [], attractors: 4, stored: 4, ms: 1 });
    expect(v.attractors).toMatchObject({ method: 'reduced', attractors: 4, stored: 4 });
  });

  it('turns margins events into the margin pane with per-token series, and logs a sign change of the minimum', () => {
    const margins = (step: number, min: number, ms: number[]): EngramEvent => ({
      ...b, step, kind: 'margins', n: ms.length, m: ms.length, min, median: 0, fractionPositive: ms.filter((x) => x > 0).length / ms.length,
      loss: 1, loss01: 0, flips: 0, lambdaMax: null, stability: null, tokens: ms.map((margin, token) => ({ token, p: 1 / ms.length, margin, flips: 0 })),
    });
    let v = reduceEvents([margins(1, -0.1, [-0.1, 0.2]), margins(2, 0.1, [0.1, 0.3]), margins(3, 0.2, [0.2, 0.4])]);
    expect(v.margins).toMatchObject({ step: 3, min: 0.2, fractionPositive: 1 });
    expect(v.margins!.tokens).toEqual([{ label: 'x0', series: [-0.1, 0.1, 0.2] }, { label: 'x1', series: [0.2, 0.3, 0.4] }]);
    expect(v.log.filter((l) => l.text === 'all margins positive')).toHaveLength(1);
    v = reduceEvent(v, margins(4, -0.3, [-0.3, 0.4]));
    expect(v.log.at(-1)).toMatchObject({ level: 'warn', text: expect.stringContaining('turned negative') });
  });

  it('logs the stability ratio, recovery and spurious attractors', () => {
    const v = reduceEvents([
      { ...b, step: 0, kind: 'stability', trigger: 'start', lambdaMax: 40, lr: 1, a: 0.1, ratio: 2, optimizer: 'gd', momentum: 0, weightDecay: 0, applicable: true, method: 'lanczos, jvp forward', iterations: 10, converged: true, ms: 3 },
      {
        ...b, step: 9, kind: 'recovery', objective: 'autoencode', trials: 4, maxIterations: 100, stored: 2, n: 2, ms: 1, noise: [],
        levels: [
          { corruption: 'noise', level: 0.1, trials: 4, model: 1, phase: null, nn: 1, wrong: 0, spurious: 0, diverged: 0, unresolved: 0, heading: 1 },
          { corruption: 'mask', level: 0.5, trials: 4, model: 0.25, phase: null, nn: 0.75, wrong: 0.75, spurious: 1, diverged: 0, unresolved: 2, heading: 0.5 },
        ],
      },
      { ...b, step: 9, kind: 'spurious', probes: 10, count: 1, attractors: 1, certified: 1, items: [] },
    ]);
    expect(v.log.map((l) => [l.level, l.text])).toEqual([
      ['warn', 'stability r = 2.00 (λ_max(K) 4.00e+1)'],
      ['info', 'recovery: worst mask 0.5 → 25% (1-NN 75%)'],
      ['warn', 'spurious attractors: 1 (1/1 certified)'],
    ]);
  });
});

describe('view state of every kind', () => {
  it.each(EVENT_KINDS)('a %s event changes the view', (kind) => {
    const start = reduceEvents(kind === 'run-start' ? [] : [runStart()]);
    const next = reduceEvent(start, ONE_OF_EACH[kind]);
    expect(next).not.toBe(start);
    expect(next).not.toEqual(start);
  });
});

describe('view state of a live run', () => {
  const T0 = 1_700_000_000_000; // the fixtures' run-start
  const live = (sec: number, o: Partial<LiveEvent> = {}): LiveEvent => ({
    runId: 'r', step: sec * 100, time: T0 + sec * 1000, kind: 'live', source: 'lavfi:testsrc2', state: 'connected', arrived: 10 * sec, admitted: 2 * sec,
    dropped: 8 * sec, repeated: 0, stored: Math.min(48, 2 * sec), sequences: 1, span: [0, 9], arrivalFps: 10, admitFps: 2, dropRate: 0.8, stepsPerFrame: 50, gaps: 0,
    streamSeconds: sec, intervalMs: 1000, ...o,
  });
  const probe = (sec: number, recallable: boolean, coverage = recallable ? 48 : 12): LiveProbeEvent => ({
    runId: 'r', step: sec * 100, time: T0 + sec * 1000, kind: 'live-probe', frames: [1, 2, 3], coverage, of: 48, inOrder: recallable, meanPsnr: 40,
    worstPsnr: 31, outcome: recallable ? 'exact' : 'approximate-orbit', recallable, certified: recallable, rho: 0.09, ms: 200,
  });

  it('is there from run-start when the config is live (connecting), and not for another run', () => {
    expect(reduceEvents([runStart(), ONE_OF_EACH.dataset]).live).toBeNull();
    const v = reduceEvents(liveRun({ seconds: 0 }));
    expect(v.live).toEqual({ config: { mode: 'window', size: 48, minSteps: 4, probeSeconds: 5 }, last: null, arrivalFps: [], admitFps: [], dropRate: [] });
    expect(v.probe).toBeNull();
  });

  it('keeps the newest live event and bounded histories of the rates', () => {
    let v = reduceEvents(liveRun({ seconds: 0 }));
    for (let sec = 1; sec <= LIVE_HISTORY + 30; sec++) v = reduceEvent(v, live(sec, { arrivalFps: sec, admitFps: sec / 10, dropRate: sec / 1000 }));
    expect(v.live!.last).toMatchObject({ streamSeconds: LIVE_HISTORY + 30, arrived: 10 * (LIVE_HISTORY + 30), stored: 48 });
    expect(v.live!.arrivalFps).toHaveLength(LIVE_HISTORY);
    expect(v.live!.arrivalFps[0]).toBe(31);
    expect(v.live!.arrivalFps.at(-1)).toBe(LIVE_HISTORY + 30);
    expect(v.live!.admitFps.at(-1)).toBe((LIVE_HISTORY + 30) / 10);
    expect(v.live!.dropRate).toHaveLength(LIVE_HISTORY);
    expect(v.live!.config).toMatchObject({ mode: 'window', size: 48 }); // the config stays
  });

  it('logs the stream only when its state changes, not every second', () => {
    const v = reduceEvents([
      live(1), live(2), live(3, { state: 'reconnecting', gaps: 1, arrivalFps: 0 }), live(4, { state: 'reconnecting', gaps: 1 }),
      live(5, { gaps: 1 }), live(6, { gaps: 1 }), live(7, { state: 'ended', gaps: 1, arrived: 70 }),
    ]);
    expect(v.log.map((l) => [l.level, l.text])).toEqual([
      ['info', 'stream lavfi:testsrc2: connected'],
      ['warn', 'stream lavfi:testsrc2: dropped, reconnecting (gap 1)'],
      ['info', 'stream lavfi:testsrc2: connected again (gap 1)'],
      ['info', 'stream lavfi:testsrc2: ended after 70 frames'],
    ]);
    expect(v.live!.last!.state).toBe('ended');
    expect(v.live!.config).toBeNull(); // a log read without its run-start
  });

  it('keeps the newest probe, the share recalled and the verdict per probe (bounded), and logs changes of verdict', () => {
    let v = reduceEvents([probe(5, false), probe(10, false), probe(15, true), probe(20, true)]);
    expect(v.probe!.last).toMatchObject({ time: T0 + 20_000, coverage: 48, recallable: true });
    expect(v.probe!.coverage).toEqual([0.25, 0.25, 1, 1]);
    expect(v.probe!.recallable).toEqual([false, false, true, true]);
    expect(v.probe).toMatchObject({ probes: 4, recallableProbes: 2 });
    expect(v.live).not.toBeNull(); // a probe means a live run, even without a live event yet
    expect(v.log.map((l) => [l.level, l.text])).toEqual([
      ['warn', 'not recallable now: 12/48 out of order, 40.0 dB, NOT certified ρ 0.09'],
      ['info', 'recallable now: 48/48 in order, 40.0 dB, certified ρ 0.09'],
    ]);
    for (let i = 0; i < LIVE_HISTORY; i++) v = reduceEvent(v, probe(25 + i, i % 2 === 0, 24));
    expect(v.probe!.coverage).toHaveLength(LIVE_HISTORY);
    expect(v.probe!.coverage.every((c) => c === 0.5)).toBe(true);
    expect(v.probe!.recallable).toHaveLength(LIVE_HISTORY);
    expect(v.probe).toMatchObject({ probes: 4 + LIVE_HISTORY, recallableProbes: 2 + LIVE_HISTORY / 2 });
    // an empty memory: no share of nothing
    expect(reduceEvent(v, { ...probe(999, false, 0), of: 0 }).probe!.coverage.at(-1)).toBe(0);
  });

  it('a probe is as old as the clock says while the run runs, else as the newest event says', () => {
    const v = reduceEvents([...liveRun({ seconds: 0 }), probe(5, true), live(12)]);
    expect(probeAgeMs(v, v.lastTime! + 3000)).toBe(10_000);
    expect(probeAgeMs({ ...v, status: 'complete' }, v.lastTime! + 3000)).toBe(7000);
    expect(probeAgeMs(v, null)).toBe(7000);
    expect(probeAgeMs(reduceEvents(liveRun({ seconds: 0 })), 0)).toBeNull();
  });

  it('the record and stop commands leave the pause as it is', () => {
    const ctl = (command: ControlCommand): EngramEvent => ({ runId: 'r', step: 1, time: 1, kind: 'control', command });
    const paused = reduceEvents([runStart(), ctl('pause'), ctl('record'), ctl('stop')]);
    expect(paused.paused).toBe(true);
    expect(paused.log.slice(-2).map((l) => l.text)).toEqual(['recording from noise', 'stopping: final checkpoint, recall, summary']);
    expect(reduceEvents([runStart(), ctl('record'), ctl('stop')]).paused).toBe(false);
    expect(reduceEvents([runStart(), ctl('pause'), ctl('record'), ctl('resume')]).paused).toBe(false);
  });
});
