/** Diagnostic: trajectory from noise of an LS-at-init net (period, nearest frame, PSNR over time). */
import { footagePath } from './footage.ts';
import { selectBackend } from '../engine/backend.ts';
import { createFcModel } from '../engine/model.ts';
import { makeDataset } from '../engine/objectives.ts';
import { Rng } from '../engine/random.ts';
import { nearest, psnr, dist, norm } from '../engine/vectors.ts';
import { readVideoFrames } from '../sources/video.ts';
import { polishOutputLayer } from './lsq-head.ts';
import { certifyCycle } from '../engine/certify.ts';

const argv = process.argv.slice(2);
const arg = (k: string, def: string) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : def; };
await selectBackend();
const size = Number(arg('size', '32')), nF = Number(arg('frames', '96'));
const frames = (await readVideoFrames(footagePath('astronaut-orbit.mp4'), { width: size, height: size, gray: true, frames: nF })).map((f) => f.data);
const data = makeDataset('cycle', [frames]);
const d = data.dim;
const model = createFcModel({ kind: 'fc', dim: d, width: Number(arg('width', '512')), depth: Number(arg('depth', '2')), activation: arg('act', 'relu'), bias: true, init: 'torch', seed: 1 });
console.log(polishOutputLayer(model, data).mse);
if (argv.includes('--dense')) {
  const t = performance.now();
  const c = certifyCycle(model, frames, 5, 'reduced');
  console.log('dense reduced rho', c.rho, c.top.map((x) => x.abs.toFixed(4)).join(' '), ((performance.now() - t) / 1000).toFixed(1), 's');
}
for (const seed of [7, 100]) {
  let x = new Rng(seed).normalArray(d, 0, 1);
  const hist: Float32Array[] = [];
  for (let k = 0; k < Number(arg('iters', '6000')); k += 250) {
    const tr = model.iterate(x, 250);
    for (let j = 0; j < 250; j++) hist.push(tr.slice(j * d, (j + 1) * d));
    if (hist.length > 200) hist.splice(0, hist.length - 200);
    x = hist[hist.length - 1];
    const L = hist.length - 1;
    const nn = nearest(frames, x);
    const rel = (p: number) => (dist(hist[L], hist[L - p]) / Math.max(norm(hist[L]), 1)).toExponential(1);
    console.log(`seed ${seed} it ${k + 250}: nearest ${nn.i} psnr ${psnr(x, frames[nn.i]).toFixed(1)} |x| ${norm(x).toFixed(2)} p96 ${rel(96)} p64 ${rel(64)} p1 ${rel(1)} p32 ${rel(32)}`);
  }
}
