/**
 * Attractor-monitor benchmark (not a test), all in one run:
 *  1. time per eigen method for one fixed point and for a 48-point cycle of an FC net (relu, depth 2,
 *     W = 512): full (d×d Jacobian + LAPACK geev), reduced (W×W + geev), Arnoldi top-5 on VJPs and on
 *     the factored W×W maps — at d = 784 and at d = 16,384 (128×128 frames; full is skipped there);
 *  2. the training-time overhead of the monitor at its default cadence on the demo-sized run (48
 *     frames of ffmpeg's life source at 32×32 gray, W = 512, adam, loss target 1e-8): after an untimed
 *     warm-up run, the same run with the monitor off, on (default 'auto' cadence), and off again;
 *     ratio of training wall times (with / mean of the two without) and the monitor's own share.
 *
 *   npm run bench:monitors                 everything (~5 min on 2 cores)
 *   npm run bench:monitors -- --no-train   only the eigen-method timings
 *   npm run bench:monitors -- --no-eigen   only the training overhead
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { selectBackend } from '../engine/backend.ts';
import { certifyByArnoldi, certifyCycle, type Certificate } from '../engine/certify.ts';
import { createFcModel } from '../engine/model.ts';
import { loadBlasAddon } from '../engine/native-blas.ts';
import { Rng } from '../engine/random.ts';
import type { AttractorMonitorEvent, TrainEndEvent } from '../events.ts';
import { memorize, type MemorizeConfig } from '../pipelines/memorize.ts';
import { makeLavfiClip } from '../sinks/lavfi-clip.ts';

const time = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
};

function eigenTimings(d: number, w: number) {
  const model = createFcModel({ kind: 'fc', dim: d, width: w, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 });
  const rng = new Rng(2);
  const cycle = Array.from({ length: 48 }, () => rng.uniformArray(d, 0, 1));
  const rows = { push: (r: string) => console.log(r) };
  // warm-up: tfjs kernels and the addon load on first use
  certifyByArnoldi(model, [[cycle[0]]], 5, { operator: 'vjp', mMax: 25 });
  certifyByArnoldi(model, [[cycle[0]]], 5, { operator: 'factored', mMax: 25 });
  const fmt = (name: string, what: string, [c, ms]: [Certificate, number]) =>
    rows.push(`  ${name.padEnd(18)} ${what.padEnd(14)} ${(ms / 1000).toFixed(2).padStart(7)} s   ρ = ${c.rho.toPrecision(6)}` +
      (c.krylovDim ? `  (m = ${c.krylovDim}, ${c.converged ? 'converged' : 'NOT converged'})` : ''));
  for (const [what, points] of [['fixed point', [cycle[0]]], ['48-point cycle', cycle]] as [string, Float32Array[]][]) {
    if (d <= 2048) fmt('full + LAPACK', what, time(() => certifyCycle(model, points, 5, 'full')));
    else if (what === 'fixed point') rows.push(`  ${'full'.padEnd(18)} ${'—'.padEnd(14)} skipped: a ${d}×${d} float64 Jacobian is ${((d * d * 8) / 2 ** 30).toFixed(1)} GiB and geev's ~10·d³ flops take hours`);
    if (d <= 2048 || what === 'fixed point') fmt('reduced (W×W)', what, time(() => certifyCycle(model, points, 5, 'reduced')));
    else rows.push(`  ${'reduced (W×W)'.padEnd(18)} ${what.padEnd(14)} skipped: 48 W×d×W products (${((48 * 2 * w * w * d) / 1e12).toFixed(2)} TFLOP) plus ${48 * 2} W×d factors`);
    fmt('arnoldi (VJP)', what, time(() => certifyByArnoldi(model, [points], 5, { operator: 'vjp' })[0]));
    fmt('arnoldi (factored)', what, time(() => certifyByArnoldi(model, [points], 5, { operator: 'factored' })[0]));
  }
  model.dispose();
}

async function trainOnce(clip: string, dir: string, every: number | 'auto') {
  // 'on' is the CLI's default set of training-time monitors (spikes always run): the attractor
  // monitor at its auto cadence and the stability ratio every 1000 steps (once at the start under adam)
  const cfg: MemorizeConfig = {
    runId: `bench-${every}`, command: 'bench', input: { kind: 'video', path: clip, width: 32, height: 32, gray: true, frames: 48 },
    outDir: dir, objective: 'cycle', model: { width: 512, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 },
    optimizer: { name: 'adam', lr: 1e-4 }, lossTarget: 1e-8, maxSteps: 20000, checkpointEvery: 1000,
    recall: { from: 'gaussian', sigma: 1, maxIterations: 2000, seed: 1 }, force: true, monitor: { every, examples: 8 },
    stabilityEvery: every === 0 ? 0 : 1000,
  };
  const backend = await selectBackend();
  mkdirSync(dir, { recursive: true });
  // CPU time of this process (all threads) over training: far less disturbed by other jobs on a
  // shared machine than wall time
  let cpu0 = process.cpuUsage(), cpuMs = 0;
  const events = await lastValueFrom(memorize(cfg, backend).pipe(
    tap((e) => {
      if (e.kind === 'dataset') cpu0 = process.cpuUsage();
      if (e.kind === 'train-end' || (e.kind === 'attractor-monitor' && e.phase === 'end')) {
        const u = process.cpuUsage(cpu0);
        cpuMs = (u.user + u.system) / 1000;
      }
    }),
    toArray(),
  ));
  const end = events.find((e): e is TrainEndEvent => e.kind === 'train-end')!;
  const mon = events.filter((e): e is AttractorMonitorEvent => e.kind === 'attractor-monitor');
  const stabilityMs = events.reduce((a, e) => a + (e.kind === 'stability' ? e.ms : 0), 0);
  return { cpuMs, wallMs: end.wallMs, steps: end.step, runs: mon.length, monitorMs: mon.at(-1)?.totalMs ?? 0, trainMs: mon.at(-1)?.trainMs ?? 0, stabilityMs };
}

async function main() {
  const backend = await selectBackend();
  console.log(`backend ${backend.name}; LAPACK ${loadBlasAddon() ? 'yes (OpenBLAS addon)' : 'no'}`);
  for (const d of process.argv.includes('--no-eigen') ? [] : [784, 16384]) {
    console.log(`\neigen methods, FC relu d = ${d}, W = 512, depth 2 (top-5 for Arnoldi, tol 1e-5):`);
    eigenTimings(d, 512);
  }
  if (process.argv.includes('--no-train')) return;
  const tmp = mkdtempSync(join(tmpdir(), 'engram-bench-monitors-'));
  try {
    const clip = join(tmp, 'life.mkv');
    await makeLavfiClip(clip, { source: 'life', width: 32, height: 32, frames: 48, fps: 12 });
    console.log('\ntraining-time monitors (attractor monitor auto + stability ratio) on the demo-sized run (48 frames 32×32, W = 512, until loss 1e-8):');
    // an untimed first run: tfjs kernels and the wasm heap warm up in it (it is ~1.7× slower)
    await trainOnce(clip, join(tmp, 'warm-up'), 0);
    const runs = [];
    for (const every of [0, 'auto', 0] as const) {
      const r = await trainOnce(clip, join(tmp, `run-${runs.length}`), every);
      runs.push(r);
      console.log(`  monitor ${every === 0 ? 'off ' : 'auto'}: ${r.steps} steps, training wall ${(r.wallMs / 1000).toFixed(1)} s, CPU ${(r.cpuMs / 1000).toFixed(1)} s` +
        (every === 0 ? '' : `; attractor monitor ${r.runs} runs, ${(r.monitorMs / 1000).toFixed(1)} s = ${((100 * r.monitorMs) / r.trainMs).toFixed(1)}% of Σ step time; ` +
          `stability ${(r.stabilityMs / 1000).toFixed(1)} s = ${((100 * r.stabilityMs) / r.trainMs).toFixed(1)}%`));
    }
    const off = (runs[0].wallMs + runs[2].wallMs) / 2, offCpu = (runs[0].cpuMs + runs[2].cpuMs) / 2;
    console.log(`  ratio with/without monitors: wall ${(runs[1].wallMs / off).toFixed(3)}, CPU ${(runs[1].cpuMs / offCpu).toFixed(3)}` +
      ` (CPU overhead ${((100 * (runs[1].cpuMs - offCpu)) / offCpu).toFixed(1)}%)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
