/** A made-up but realistic run as an event stream, for reducer and rendering tests. */
import { EVENT_SCHEMA_VERSION, type EngramEvent, type ImagePreviewEvent, type MemorizeRunConfig, type TrainStepEvent } from '../../events.ts';

const runId = 'demo-fixture';
const t0 = 1_700_000_000_000;

/** What `engram demo` puts in its run-start. */
export const demoConfig: MemorizeRunConfig = {
  command: 'memorize', runId, outDir: 'runs/x', objective: 'cycle',
  input: { kind: 'video', path: 'runs/x/source.mkv', width: 32, height: 32, gray: true, frames: 48 },
  model: { width: 512, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 }, optimizer: { name: 'adam', lr: 1e-4 },
  lossTarget: 1e-8, maxSteps: 20000, checkpointEvery: 1000, stopOnNonfinite: false, stabilityEvery: 1000,
  recall: { from: 'gaussian', sigma: 1, maxIterations: 20000, seed: 1 }, recovery: false, force: false, eigMethod: 'auto', monitor: { every: 'auto', examples: 8 },
};

export function imagePreview(step: number, size = 32): ImagePreviewEvent {
  const px = Buffer.alloc(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) px[y * size + x] = (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 3) ** 2 ? 255 : 0;
  return { runId, step, time: t0 + step * 10, kind: 'preview', media: 'image', frame: 3, width: size, height: size, channels: 1, pixels: px.toString('base64'), psnr: 41.2 };
}

/** `steps` training steps at 10 ms each with a spike at step 200, then recall, attractors and the end. */
export function fixtureRun(o: { steps?: number; end?: boolean } = {}): EngramEvent[] {
  const steps = o.steps ?? 600;
  const at = (step: number) => ({ runId, step, time: t0 + step * 10 });
  const ev: EngramEvent[] = [
    { ...at(0), kind: 'run-start', schemaVersion: EVENT_SCHEMA_VERSION, command: 'engram demo', backend: { name: 'wasm-blas', tfBackend: 'wasm', device: 'cpu', blas: 'OpenBLAS', threads: 2 },
      config: demoConfig },
    { ...at(0), kind: 'dataset', objective: 'cycle', n: 48, dim: 1024, source: 'runs/x/source.mkv', frame: { width: 32, height: 32, channels: 1 } },
  ];
  for (let s = 1; s <= Math.min(steps, 199); s++) ev.push(step(s));
  if (steps >= 200) {
    const pre = loss(199);
    ev.push({ ...step(200), loss: pre * 30 });
    ev.push({ ...at(200), kind: 'spike', phase: 'onset', onsetStep: 200, preLoss: pre, peakLoss: pre * 30, peakStep: 200, height: 30 });
    for (let s = 201; s <= steps; s++) {
      ev.push(step(s));
      if (s === 212) ev.push({ ...at(s), kind: 'spike', phase: 'end', onsetStep: 200, preLoss: pre, peakLoss: pre * 30, peakStep: 200, height: 30, duration: 12 });
      if (s === 500) ev.push({ ...at(s), kind: 'artifact', what: 'checkpoint', path: 'runs/x/checkpoints/step-500.ckpt' });
    }
  }
  if (o.end === false) return ev;
  const last = steps;
  ev.push({ ...at(last), kind: 'train-end', reason: 'step-cap', loss: loss(last), lossTarget: 1e-8, wallMs: last * 10 });
  ev.push({ ...at(last), kind: 'recall', from: 'gaussian', rule: 'cycle', iterations: 310, period: 48, framesMatched: 47, framesTotal: 48, framesStored: 48,
    orderCorrect: true, meanPsnr: 38.5, cycle: [], frames: [], tolerances: { step: 1e-6, cycle: 1e-4, match: 0.05, storedMinPsnr: 30 } });
  ev.push(imagePreview(last));
  ev.push({ ...at(last), kind: 'attractors', method: 'reduced', solver: 'lapack', attractors: 2, stored: 3, ms: 120, items: [
    { what: 'stored cycle 0', period: 48, rho: 0.62, top: [], attractor: true },
    { what: 'sample 7', period: 1, rho: 0.91, top: [], attractor: true },
    { what: 'sample 9', period: 1, rho: 1.07, top: [], attractor: false },
    { what: 'recalled limit', period: 48, rho: 0.62, top: [], attractor: true },
  ] });
  ev.push({ ...at(last), kind: 'artifact', what: 'video', path: 'runs/x/recalled.mp4' });
  ev.push({ ...at(last), kind: 'run-end', status: 'complete', wallMs: last * 10 + 500 });
  return ev;

  function loss(s: number) {
    return 0.2 * Math.exp(-s / 60) + 1e-7;
  }
  function step(s: number): TrainStepEvent {
    return { ...at(s), kind: 'train-step', loss: loss(s), lr: 1e-4, gradNorm: 0.1, stepMs: 10, samplesPerSec: 4800 };
  }
}

/** `engram memorize lavfi:testsrc2 --live --window 48` as the demo's run-start config. */
export const liveConfig: MemorizeRunConfig = {
  ...demoConfig, input: { kind: 'video', path: 'lavfi:testsrc2', width: 32, height: 32, gray: true, frames: 0 },
  live: { mode: 'window', size: 48, minSteps: 4, probeSeconds: 5 },
};

/**
 * A live run `seconds` long: 10 frames a second arrive, about 2 are admitted (the rest dropped),
 * 100 training steps a second (10 ms each), a `live` event a second and a probe every 5 s, which is
 * recallable once the window is full (after 25 s); a gap (reconnecting) at 30 s, connected again at 31 s.
 */
export function liveRun(o: { seconds?: number } = {}): EngramEvent[] {
  const seconds = o.seconds ?? 40;
  const at = (step: number) => ({ runId, step, time: t0 + step * 10 });
  const ev: EngramEvent[] = [
    { ...at(0), kind: 'run-start', schemaVersion: EVENT_SCHEMA_VERSION, command: 'engram memorize lavfi:testsrc2 --live --window 48',
      backend: { name: 'wasm-blas', tfBackend: 'wasm', device: 'cpu', blas: 'OpenBLAS', threads: 2 }, config: liveConfig },
  ];
  let admitted = 0, arrived = 0, gaps = 0;
  for (let sec = 1; sec <= seconds; sec++) {
    for (let s = (sec - 1) * 100 + 1; s <= sec * 100; s++) ev.push({ ...at(s), kind: 'train-step', loss: 0.1 * Math.exp(-s / 800) + 1e-7, lr: 1e-4, gradNorm: 0.1, stepMs: 10, samplesPerSec: 4800 });
    const down = sec === 30;
    if (down) gaps++;
    const inNow = down ? 0 : 10, admitNow = down ? 0 : sec % 2 ? 2 : 3;
    arrived += inNow;
    admitted += admitNow;
    const stored = Math.min(48, admitted), last = arrived - 1;
    ev.push({
      ...at(sec * 100), kind: 'live', source: 'lavfi:testsrc2', state: down ? 'reconnecting' : 'connected', arrived, admitted, dropped: arrived - admitted, repeated: 0, stored,
      sequences: stored >= 2 ? 1 : 0, span: stored ? [last - stored + 1, last] : null, arrivalFps: inNow, admitFps: admitNow, dropRate: inNow ? 1 - admitNow / inNow : 0,
      stepsPerFrame: admitNow ? 100 / admitNow : null, gaps, streamSeconds: sec, intervalMs: 1000,
    });
    if (sec % 5 === 0) {
      const full = sec > 25;
      const frames = Array.from({ length: stored }, (_, i) => last - stored + 1 + i);
      ev.push({
        ...at(sec * 100), kind: 'live-probe', frames, coverage: full ? stored : Math.floor(stored / 2), of: stored, inOrder: full, meanPsnr: full ? 131.2 : 24.5,
        worstPsnr: full ? 118.4 : 12.1, outcome: full ? 'exact' : 'approximate-orbit', recallable: full, certified: full, rho: full ? 0.09 : 1.4, ms: 240,
      });
    }
  }
  return ev;
}
