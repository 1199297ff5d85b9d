/**
 * Least-squares output layer at initialization (random features, no gradient steps) for several
 * architectures: time, MSE, ρ of the training cycle, and recall from 8 noise starts.
 *   npx tsx bench/rf-explore.ts --configs 512x2:relu,1024x1:relu --size 32 --frames 96 [--zero-out]
 */
import { footagePath } from './footage.ts';
import { dirname, join } from 'node:path';
import { appendFileSync, mkdirSync } from 'node:fs';
import { selectBackend } from '../engine/backend.ts';
import { createFcModel } from '../engine/model.ts';
import { makeDataset } from '../engine/objectives.ts';
import { certifyByArnoldi } from '../engine/certify.ts';
import { readVideoFrames } from '../sources/video.ts';
import { polishOutputLayer, contractiveOutputLayer } from './lsq-head.ts';
import { sampleFirstLayer } from './sampled-init.ts';
import { recallFromNoise, summarize } from './recall-check.ts';

const LOG = process.env.RESEARCH_LOG ?? join(import.meta.dirname, '../scratch/research-footage.txt');
mkdirSync(dirname(LOG), { recursive: true });
const argv = process.argv.slice(2);
const arg = (k: string, def: string) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : def; };
const out = (s: string) => { console.log(s); appendFileSync(LOG, s + '\n'); };
await selectBackend();
const size = Number(arg('size', '32')), nF = Number(arg('frames', '96'));
const frames = (await readVideoFrames(footagePath('astronaut-orbit.mp4'), { width: size, height: size, gray: true, frames: nF })).map((f) => f.data);
const data = makeDataset('cycle', [frames]);
out(`\n# ${new Date().toISOString()} rf-explore ${size}x${size} n=${data.n}: ${arg('solve', 'ls')} output layer at init (mu ${arg('mu', '1e-3')}) sample=${arg('sample', 'none')} scale ${arg('scale', '1')} offset ${arg('offset', '0.5')} adjacent ${arg('adjacent', '0.5')} sketch ${arg('sketch', '0')}${argv.includes('--zero-out') ? ' (from W_out = 0)' : ''}`);
for (const cfg of arg('configs', '512x2:relu').split(',')) {
  const m = /^(\d+)x(\d+):(\S+?)(?:@(\d+))?$/.exec(cfg)!;
  const [w, dep, act, seed] = [Number(m[1]), Number(m[2]), m[3], Number(m[4] ?? 1)];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const model = createFcModel({ kind: 'fc', dim: data.dim, width: w, depth: dep, activation: act, bias: true, init: 'torch', seed });
  if (argv.includes('--zero-out')) model.setWeights(model.weights().map((p) => (p.name === `W${dep}` || p.name === `b${dep}` ? { ...p, data: new Float32Array(p.data.length) } : p)));
  if (arg('sample', '') !== '') sampleFirstLayer(model, data, { scale: Number(arg('scale', '1')), offset: Number(arg('offset', '0.5')), adjacent: Number(arg('adjacent', '0.5')), seed });
  const mode = arg('solve', 'ls');
  const p = mode === 'ls' ? polishOutputLayer(model, data) : contractiveOutputLayer(model, data, { mu: Number(arg('mu', '1e-3')), sketch: Number(arg('sketch', '0')) });
  const extra = 'jacobianFrobMean' in p ? `; mean‖J_i‖_F ${(p as unknown as { jacobianFrobMean: number }).jacobianFrobMean.toFixed(3)}; gram ${(p as unknown as { gramSeconds: number }).gramSeconds.toFixed(1)} s` : '';
  const wall = (performance.now() - t0) / 1000, u = process.cpuUsage(cpu0), cpu = (u.user + u.system) / 1e6;
  let rho = NaN;
  try { rho = certifyByArnoldi(model, [frames], 3)[0].rho; } catch { /* */ }
  const r = recallFromNoise(model, frames, 8, Number(arg('burn', '3000')));
  out(`  ${cfg}: build+solve ${wall.toFixed(2)} s wall / ${cpu.toFixed(2)} s cpu; mse ${p.mse[p.mse.length - 1].toExponential(2)}; |W_out| ${p.outNorm.toFixed(1)}${extra}; rho ${rho.toFixed(4)}; ${summarize(r, data.n)}`);
  model.dispose();
}
