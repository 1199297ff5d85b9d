/**
 * The solver's cost per step (engine/solve.ts), on natural footage: `npm run bench:solve [-- --json]`.
 *
 * Windows of astronaut-orbit.mp4 as the live bench plays it (half speed, 10 frames/s, turned 0.005 rad
 * a frame), 32×32 gray, solved at each width the way a live run solves them: a first layer sampled
 * with a new seed, the output layer in closed form. Reports the median milliseconds of a whole
 * solve and of its Jacobian Gram, over `--reps` windows, and how many of those windows noise replays
 * (8 starts each). Figures are ratios of one run on one machine; nothing here is asserted.
 */
import { parseArgs } from 'node:util';
import { selectBackend } from '../engine/backend.ts';
import { createFcModel } from '../engine/model.ts';
import { makeDataset } from '../engine/objectives.ts';
import { jacobianGram, replayCount, sampleFirstLayer, solveFit } from '../engine/solve.ts';
import { readVideoFrames } from '../sources/video.ts';
import { footagePath } from './footage.ts';

const { values: a } = parseArgs({
  options: {
    widths: { type: 'string', default: '256,512' }, frames: { type: 'string', default: '48' },
    reps: { type: 'string', default: '12' }, json: { type: 'boolean', default: false },
  },
});
const widths = a.widths.split(',').map(Number), n = Number(a.frames), reps = Number(a.reps);
const backend = (await selectBackend()).name;
const camera = 'setpts=2*N/24/TB,fps=10,rotate=0.005*n';
const total = n + 7 * reps;
const all = (await readVideoFrames(`lavfi:movie=${footagePath('astronaut-orbit.mp4')}:loop=0,${camera}`, { width: 32, height: 32, gray: true, frames: total })).map((f) => f.data);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const rows: { width: number; frames: number; solveMs: number; gramMs: number; replayed: number; windows: number }[] = [];
for (const width of widths) {
  const model = createFcModel({ kind: 'fc', dim: 1024, width, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 });
  const solve: number[] = [], gram: number[] = [];
  let replayed = 0;
  for (let k = 0; k < reps; k++) {
    const data = makeDataset('cycle', [all.slice(7 * k, 7 * k + n)]);
    let t0 = performance.now();
    await solveFit(model, data, { seed: k + 1, frob: false });
    solve.push(performance.now() - t0);
    if (replayCount(model, data, { seed: 5, peak: 1, starts: 8, burnIn: 300 }) === 8) replayed++;
    sampleFirstLayer(model, data, { seed: k + 1 });
    t0 = performance.now();
    await jacobianGram(model, data);
    gram.push(performance.now() - t0);
  }
  model.dispose();
  rows.push({ width, frames: n, solveMs: median(solve), gramMs: median(gram), replayed, windows: reps });
}
if (a.json) console.log(JSON.stringify({ date: new Date().toISOString(), backend, camera, rows }));
else {
  console.log(`backend ${backend}; ${n} frames of 32×32 gray, depth 2, median of ${reps} windows`);
  for (const r of rows) console.log(`width ${r.width}: solve ${r.solveMs.toFixed(1)} ms (Gram ${r.gramMs.toFixed(1)} ms); ${r.replayed}/${r.windows} windows replay from all 8 noise starts`);
}
process.exit(0);
