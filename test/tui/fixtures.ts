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
