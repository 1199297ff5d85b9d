/**
 * Dashboard overhead benchmark (not a test): the same memorize run (the demo's life clip, FC
 * d→W→W→d, Adam) trained with plain progress lines (what --no-tui does) and with the Ink dashboard
 * drawing every event, alternating A B A B… in one process; reports steps/s of each and their ratio.
 * The dashboard draws on this terminal when stdout is one, else into a fake 160×48 terminal (the
 * same rendering work, thrown away).
 *
 *   npm run bench:tui                               defaults: 32x32, 48 frames, width 512, 300 steps, 2 rounds
 *   npm run bench:tui -- --steps 500 --rounds 3 --size 16x16 --width 256
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { lastValueFrom, takeWhile, tap } from 'rxjs';
import { selectBackend } from '../engine/backend.ts';
import { createProgressPrinter } from '../cli/progress.ts';
import type { EngramEvent } from '../events.ts';
import { memorize, type MemorizeConfig } from '../pipelines/memorize.ts';
import { makeLavfiClip } from '../sinks/lavfi-clip.ts';
import { mountDashboard } from '../tui/mount.tsx';

const { values: a } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' }, rounds: { type: 'string', default: '2' }, size: { type: 'string', default: '32x32' },
    frames: { type: 'string', default: '48' }, width: { type: 'string', default: '512' },
  },
});
const [w, h] = a.size.split('x').map(Number);
const steps = Number(a.steps), rounds = Number(a.rounds), frames = Number(a.frames);
/** Steps before timing starts (JIT, first allocations, the dashboard's first frames). */
const WARMUP = Math.min(20, Math.floor(steps / 5));

class FakeTerminal extends EventEmitter {
  isTTY = true;
  columns = 160;
  rows = 48;
  bytes = 0;
  write = (s: string) => ((this.bytes += s.length), true);
}

const dir = mkdtempSync(join(tmpdir(), 'engram-bench-tui-'));
const clip = join(dir, 'life.mkv');
await makeLavfiClip(clip, { source: `life=s=${w}x${h}:r=12:ratio=0.5:mold=10:seed=1:death_color=#000000:life_color=#ffffff`, width: w, height: h, frames, fps: 12 });
const backend = await selectBackend();
const tty = process.stdout.isTTY === true;

function config(i: number): MemorizeConfig {
  return {
    runId: `bench-${i}`, command: 'bench', input: { kind: 'video', path: clip, width: w, height: h, gray: true, frames }, outDir: join(dir, `run-${i}`),
    objective: 'cycle', model: { width: Number(a.width), depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 },
    optimizer: { name: 'adam', lr: 1e-4 }, lossTarget: 0, maxSteps: steps, checkpointEvery: 1e9,
    recall: { from: 'gaussian', sigma: 1, maxIterations: 100, seed: 1 }, force: true,
  };
}

/** Steps/s between the warm-up step and the last step, from the events' own timestamps. */
async function once(i: number, mode: 'plain' | 'tui'): Promise<number> {
  const { mkdirSync } = await import('node:fs');
  const cfg = config(i);
  mkdirSync(cfg.outDir, { recursive: true });
  const fake = new FakeTerminal();
  const dash = mode === 'tui'
    ? mountDashboard({ mode: 'live', onQuit: () => {}, stdout: (tty ? process.stdout : fake) as unknown as NodeJS.WriteStream, patchConsole: false })
    : null;
  const printer = createProgressPrinter({ quiet: false, maxSteps: steps, lossTarget: 0 }, () => {});
  const times = new Map<number, number>();
  const started = performance.now();
  await lastValueFrom(memorize(cfg, backend).pipe(
    tap((e: EngramEvent) => {
      if (e.kind === 'train-step') times.set(e.step, performance.now());
      if (dash) dash.push(e);
      else printer(e);
    }),
    takeWhile((e) => e.kind !== 'train-end'), // stop before recall and recordings: only training is timed
  ), { defaultValue: null });
  const t0 = times.get(WARMUP)!, t1 = times.get(steps)!;
  if (dash) busy.push(dash.busyMs / (performance.now() - started));
  if (dash && !tty) console.log(`  dashboard: ${dash.frames} frames in ${((t1 - t0) / 1000).toFixed(1)} s, ${dash.frameCostMs.toFixed(1)} ms a frame, ${(100 * busy.at(-1)!).toFixed(1)}% of the time`);
  dash?.stop();
  return ((steps - WARMUP) * 1000) / (t1 - t0);
}

const plain: number[] = [], tui: number[] = [];
/** Share of each dashboard run's wall time spent inside the dashboard (reducer + drawing). */
const busy: number[] = [];
let i = 0;
for (let r = 0; r < rounds; r++) {
  for (const mode of r % 2 === 0 ? (['plain', 'tui'] as const) : (['tui', 'plain'] as const)) {
    const sps = await once(i++, mode);
    (mode === 'plain' ? plain : tui).push(sps);
    if (!tty) console.log(`round ${r + 1} ${mode.padEnd(5)} ${sps.toFixed(1)} steps/s`);
  }
}
rmSync(dir, { recursive: true, force: true });
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const p = med(plain), t = med(tui);
console.log(`backend ${backend.name}; ${frames} frames ${w}x${h}, width ${a.width}, ${steps} steps (${WARMUP} warm-up), ${rounds} rounds, dashboard on ${tty ? 'this terminal' : 'a fake 160×48 terminal'}`);
console.log(`--no-tui   : ${p.toFixed(1)} steps/s (median of ${plain.map((x) => x.toFixed(1)).join(', ')})`);
console.log(`dashboard  : ${t.toFixed(1)} steps/s (median of ${tui.map((x) => x.toFixed(1)).join(', ')})`);
console.log(`ratio dashboard/--no-tui: ${(t / p).toFixed(3)} (per round: ${plain.map((x, k) => (tui[k] / x).toFixed(2)).join(', ')})`);
console.log(`time spent in the dashboard (reducer + drawing): ${busy.map((b) => `${(100 * b).toFixed(1)}%`).join(', ')} of each run`);
process.exit(0);
