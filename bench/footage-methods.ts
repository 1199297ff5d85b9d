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
 * Output: lines to stdout and appended to scratch/research-footage.txt (not tracked).
 */
import { footagePath } from './footage.ts';
import { dirname, join } from 'node:path';
import { appendFileSync, mkdirSync } from 'node:fs';
import { selectBackend, describeBackend } from '../engine/backend.ts';
import { createFcModel, type Model } from '../engine/model.ts';
import { makeDataset, type Dataset } from '../engine/objectives.ts';
import { createTrainer, datasetLoss } from '../engine/trainer.ts';
import { certifyByArnoldi } from '../engine/certify.ts';
import { runRecall } from '../operators/recall.ts';
import { readVideoFrames } from '../sources/video.ts';
import { polishOutputLayer, contractiveOutputLayer } from './lsq-head.ts';
import { sampleFirstLayer } from './sampled-init.ts';
import { recallFromNoise, summarize } from './recall-check.ts';
import { certifyCycle } from '../engine/certify.ts';

const LOG = process.env.RESEARCH_LOG ?? join(import.meta.dirname, '../scratch/research-footage.txt');
mkdirSync(dirname(LOG), { recursive: true });
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
const tries = Number(arg('tries', '8'));
const polishAt = (arg('polish-at', '') ?? '').split(',').filter(Boolean).map(Number);
const input = arg('input', footagePath('astronaut-orbit.mp4'))!;

function out(line: string) {
  console.log(line);
  appendFileSync(LOG, line + '\n');
}

const cpu0 = process.cpuUsage();
const cpuSec = () => {
  const u = process.cpuUsage(cpu0);
  return (u.user + u.system) / 1e6;
};

async function evaluate(model: Model, data: Dataset, frames: Float32Array[], tag: string) {
  const t0 = performance.now();
  const mse = datasetLoss(model, data);
  const res: string[] = [`mse=${mse.toExponential(2)}`];
  const rr = recallFromNoise(model, frames, tries, 3000);
  res.push(summarize(rr, frames.length));
  try {
    const t1 = performance.now();
    const c = flag('dense') ? certifyCycle(model, frames, 3, 'reduced') : certifyByArnoldi(model, [frames], 3)[0];
    res.push(`rho(frames, ${c.method})=${c.rho.toExponential(3)}${c.converged === false ? '(unconv)' : ''} [${((performance.now() - t1) / 1000).toFixed(1)} s]`);
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
  const w0 = performance.now(), c0 = cpuSec();
  if (arg('sample')) sampleFirstLayer(model, data, { adjacent: Number(arg('adjacent', '0.2')), seed: seed + 10 });
  if (arg('solve') === 'contractive') {
    const p = contractiveOutputLayer(model, data, { mu: Number(arg('mu', '1e-3')) });
    out(`  contractive solve: mse ${p.mse.map((x) => x.toExponential(2)).join(' → ')}; mean‖J_i‖_F ${p.jacobianFrobMean.toFixed(3)}; gram ${p.gramSeconds.toFixed(1)} s`);
  } else if (arg('solve') === 'ls') {
    const p = polishOutputLayer(model, data);
    out(`  ls solve: mse ${p.mse.map((x) => x.toExponential(2)).join(' → ')}`);
  }
  if (arg('sample') || arg('solve')) out(`  INIT (sample ${arg('sample') ?? 'none'}, solve ${arg('solve') ?? 'none'}): ${((performance.now() - w0) / 1000).toFixed(2)} s wall / ${(cpuSec() - c0).toFixed(2)} s cpu (incl. in the training clock)`);
  const trainer = createTrainer(model, data, { name: 'adam', lr, eps });
  const tStart = w0;
  const wall = () => (performance.now() - tStart) / 1000;
  let evalWall = 0, evalCpu = 0; // time spent in evaluations, excluded from the training clock
  const trainWall = () => wall() - evalWall;
  const cpuStart = c0;
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
    const p = arg('polish-solve') === 'contractive' ? contractiveOutputLayer(m, data, { mu: Number(arg('mu', '1e-3')) }) : polishOutputLayer(m, data);
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
