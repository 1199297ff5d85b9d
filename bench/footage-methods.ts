/**
 * Exploratory benchmark for issue 9 part 2: training methods on natural footage, loss against wall
 * and CPU time, and what the trained net replays from noise.
 *
 *   npx tsx bench/footage-methods.ts --label adam-default --steps 20000 --cap 180
 *   npx tsx bench/footage-methods.ts --label adam+ls --polish-at 0,250,500,1000,2000 --steps 2000
 *
 * Options: --size 32 --frames 96 --width 512 --depth 2 --act relu --init torch --seed 1
 *          --lr 1e-4 --warmup 0 --schedule const|cosine|plateau --eps 1e-8 --steps N --cap SECONDS
 *          --polish-at k1,k2,… (least-squares output layer on a copy at these steps; evaluated)
 *          --polish-final (polish the trained net at the end) --log-every SECONDS --target 1e-8
 *          --tries K (noise starts for the recall check) --no-official (skip operators/recall runRecall)
 * Output: lines to stdout and appended to /work/logs/research-footage.txt.
 */
import { appendFileSync } from 'node:fs';
import { selectBackend, describeBackend } from '../engine/backend.ts';
import { createFcModel, type Model } from '../engine/model.ts';
import { makeDataset, type Dataset } from '../engine/objectives.ts';
import { createTrainer, datasetLoss } from '../engine/trainer.ts';
import { certifyByArnoldi } from '../engine/certify.ts';
import { Rng } from '../engine/random.ts';
import { nearest, psnr, dist, norm } from '../engine/vectors.ts';
import { runRecall } from '../operators/recall.ts';
import { readVideoFrames } from '../sources/video.ts';
import { polishOutputLayer } from './lsq-head.ts';

const LOG = process.env.RESEARCH_LOG ?? '/work/logs/research-footage.txt';
const argv = process.argv.slice(2);
const arg = (k: string, def?: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : def;
};
const flag = (k: string) => argv.includes(`--${k}`);

const label = arg('label', 'run')!;
const size = Number(arg('size', '32'));
const nFrames = Number(arg('frames', '96'));
const width = Number(arg('width', '512'));
const depth = Number(arg('depth', '2'));
const act = arg('act', 'relu')!;
const init = arg('init', 'torch')!;
const seed = Number(arg('seed', '1'));
const lr = Number(arg('lr', '1e-4'));
const warmup = Number(arg('warmup', '0'));
const schedule = arg('schedule', 'const')!;
const eps = Number(arg('eps', '1e-8'));
const maxSteps = Number(arg('steps', '20000'));
const cap = Number(arg('cap', '360'));
const logEvery = Number(arg('log-every', '5'));
const target = Number(arg('target', '1e-8'));
const tries = Number(arg('tries', '2'));
const polishAt = (arg('polish-at', '') ?? '').split(',').filter(Boolean).map(Number);
const input = arg('input', '/work/shared/media/astronaut-orbit.mp4')!;

function out(line: string) {
  console.log(line);
  appendFileSync(LOG, line + '\n');
}

const cpu0 = process.cpuUsage();
const cpuSec = () => {
  const u = process.cpuUsage(cpu0);
  return (u.user + u.system) / 1e6;
};

/** Iterate from Gaussian noise (burn-in), then read n·2 states: nearest frame, PSNR, order, periodicity. */
function ownRecall(model: Model, frames: Float32Array[], s: number) {
  const d = model.spec.dim, n = frames.length;
  let x = new Rng(100 + s).normalArray(d, 0, 1);
  const burn = 3000;
  for (let k = 0; k < burn; k += 500) {
    const tr = model.iterate(x, 500);
    x = tr.slice(499 * d, 500 * d);
    if (!Number.isFinite(x[0])) return { diverged: true } as const;
  }
  const tr = model.iterate(x, 2 * n);
  const st = Array.from({ length: 2 * n }, (_, k) => tr.slice(k * d, (k + 1) * d));
  const last = st.slice(n);
  const idx = last.map((v) => nearest(frames, v).i);
  const ps = last.map((v, k) => psnr(v, frames[idx[k]]));
  let inOrder = 0;
  for (let k = 0; k + 1 < n; k++) if (idx[k + 1] === (idx[k] + 1) % n) inOrder++;
  const good = new Set(idx.filter((_, k) => ps[k] >= 30));
  const sorted = [...ps].sort((a, b) => a - b);
  // periodicity: ‖x_{k+n} − x_k‖ / ‖x_k‖ max over k
  let per = 0;
  for (let k = 0; k < n; k++) per = Math.max(per, dist(st[k + n], st[k]) / Math.max(norm(st[k]), 1));
  return {
    diverged: false, distinct: new Set(idx).size, recalled30: good.size, inOrder: `${inOrder}/${n - 1}`,
    allInOrder: inOrder === n - 1, psnrMin: sorted[0], psnrMedian: sorted[n >> 1], periodErr: per, cycle: last,
  } as const;
}

async function evaluate(model: Model, data: Dataset, frames: Float32Array[], tag: string) {
  const t0 = performance.now();
  const mse = datasetLoss(model, data);
  const res: string[] = [`mse=${mse.toExponential(2)}`];
  let cycle: Float32Array[] | null = null;
  for (let s = 0; s < tries; s++) {
    const r = ownRecall(model, frames, s);
    if (r.diverged) {
      res.push(`noise#${s}: diverged`);
      continue;
    }
    res.push(`noise#${s}: ${r.recalled30}/${frames.length}@30dB distinct=${r.distinct} order ${r.inOrder} psnr min/med ${r.psnrMin.toFixed(1)}/${r.psnrMedian.toFixed(1)} periodErr ${r.periodErr.toExponential(1)}`);
    if (s === 0) cycle = r.cycle;
  }
  // ρ of the training cycle (frames in order) and of the recalled cycle (when periodic)
  try {
    const [c] = certifyByArnoldi(model, [frames], 3);
    res.push(`rho(frames)=${c.rho.toFixed(4)}${c.converged ? '' : '(unconv)'}`);
  } catch (e) {
    res.push(`rho(frames)=err ${String(e).slice(0, 80)}`);
  }
  if (!flag('no-official')) {
    try {
      const r = await runRecall({ map: model, sequences: [frames], objective: 'cycle' }, { runId: "bench", from: "gaussian", seed: 7, maxIterations: 6000 });
      const e = r.event;
      res.push(`runRecall: ${e.rule} period ${e.period} matched ${e.framesMatched}/${e.framesTotal} stored ${e.framesStored} order ${e.orderCorrect} psnr ${e.meanPsnr.toFixed(1)} it ${e.iterations}`);
    } catch (e) {
      res.push(`runRecall: crash ${String(e).slice(0, 100)}`);
    }
  }
  void cycle;
  out(`  eval[${tag}] ${res.join(' | ')} (eval ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return mse;
}

async function main() {
  const b = await selectBackend();
  const fr = await readVideoFrames(input, { width: size, height: size, gray: true, frames: nFrames });
  const frames = fr.map((f) => f.data);
  const data = makeDataset('cycle', [frames]);
  const d = data.dim;
  const spec = { kind: 'fc' as const, dim: d, width, depth, activation: act, bias: true, init, seed };
  const model = createFcModel(spec);
  out(`\n# ${new Date().toISOString()} ${label}: ${input} ${size}x${size} gray n=${data.n} d=${d}; FC W=${width} D=${depth} ${act} ${init} seed ${seed}; ` +
    `adam lr ${lr} eps ${eps} warmup ${warmup} schedule ${schedule}; steps ≤ ${maxSteps}, cap ${cap} s; polish-at [${polishAt}]; ${describeBackend(b)}; params ${model.paramCount}`);
  const trainer = createTrainer(model, data, { name: 'adam', lr, eps });
  const tStart = performance.now();
  const wall = () => (performance.now() - tStart) / 1000;
  let evalWall = 0, evalCpu = 0; // time spent in evaluations, excluded from the training clock
  const trainWall = () => wall() - evalWall;
  const cpuStart = cpuSec();
  const trainCpu = () => cpuSec() - cpuStart - evalCpu;
  let lastLog = -Infinity;
  let step = 0, loss = NaN, reached = -1;
  // reduce-on-plateau state
  let curLr = lr, best = Infinity, bestAt = 0;
  const polishQueue = [...polishAt].sort((a, c) => a - c);
  const doPolish = async (tag: string, onCopy: boolean) => {
    const w0 = performance.now(), c0 = cpuSec();
    const m = onCopy ? createFcModel(spec) : model;
    if (onCopy) m.setWeights(model.weights());
    const p = polishOutputLayer(m, data);
    const pw = (performance.now() - w0) / 1000, pc = cpuSec() - c0;
    out(`  polish[${tag}] at step ${step} train ${trainWall().toFixed(1)} s wall / ${trainCpu().toFixed(1)} s cpu; polish ${pw.toFixed(2)} s wall / ${pc.toFixed(2)} s cpu; ` +
      `mse ${p.mse.map((x) => x.toExponential(2)).join(' → ')}; |Δ| ${p.deltaNorm.map((x) => x.toExponential(1)).join(', ')}; |W_out| ${p.outNorm.toFixed(1)}; ` +
      `TOTAL ${(trainWall() + pw).toFixed(1)} s wall / ${(trainCpu() + pc).toFixed(1)} s cpu`);
    const e0 = performance.now(), ec0 = cpuSec();
    await evaluate(m, data, frames, `${tag}@${step}`);
    if (onCopy) m.dispose();
    evalWall += (performance.now() - e0) / 1000 + (onCopy ? 0 : 0);
    evalCpu += cpuSec() - ec0;
    // the copy and the solve are not training time of the Adam run itself
    evalWall += pw;
    evalCpu += pc;
  };
  while (step < maxSteps && trainWall() < cap) {
    while (polishQueue.length && polishQueue[0] <= step) {
      polishQueue.shift();
      await doPolish('ls', true);
    }
    // schedule
    if (schedule === 'cosine') curLr = step < warmup ? (lr * (step + 1)) / warmup : 0.5 * lr * (1 + Math.cos(Math.PI * Math.min(1, (step - warmup) / Math.max(1, maxSteps - warmup))));
    else if (step < warmup) curLr = (lr * (step + 1)) / warmup;
    else if (schedule === 'const') curLr = lr;
    trainer.setLr(Math.max(curLr, 1e-12));
    const r = trainer.step();
    loss = r.loss;
    step++;
    if (schedule === 'plateau' && step > warmup) {
      if (loss < 0.99 * best) {
        best = loss;
        bestAt = step;
      } else if (step - bestAt > 200) {
        curLr = Math.max(curLr * 0.5, lr * 1e-3);
        bestAt = step;
        best = loss;
      }
    }
    if (!Number.isFinite(loss)) {
      out(`  step ${step}: non-finite loss`);
      break;
    }
    if (reached < 0 && loss <= target) {
      reached = step;
      out(`  TARGET ${target} reached at step ${step}, ${trainWall().toFixed(1)} s wall / ${trainCpu().toFixed(1)} s cpu`);
    }
    if (trainWall() - lastLog >= logEvery) {
      lastLog = trainWall();
      out(`  step ${step} t ${trainWall().toFixed(1)} s cpu ${trainCpu().toFixed(1)} s loss ${loss.toExponential(3)} lr ${curLr.toExponential(2)} |g| ${r.gradNorm.toExponential(2)}`);
    }
    if (reached > 0 && flag('stop-at-target')) break;
  }
  for (const k of polishQueue) if (k <= step) await doPolish('ls', true);
  out(`  END ${label}: steps ${step} train ${trainWall().toFixed(1)} s wall / ${trainCpu().toFixed(1)} s cpu; last loss ${loss.toExponential(3)}`);
  if (flag('polish-final')) await doPolish('final-ls', false);
  else if (!flag('no-final-eval')) await evaluate(model, data, frames, `final@${step}`);
  trainer.dispose();
}

main().catch((e) => {
  out(`FAILED ${label}: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
