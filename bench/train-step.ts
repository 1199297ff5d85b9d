/**
 * Train-step benchmark (not a test): FC 784→512→512→784 (2 hidden layers, relu, no bias), batch
 * 100, Adam, cycle objective, on every backend that loads here — each in its own child process so a
 * backend's state cannot leak into another's numbers — plus this machine's sgemm peak through the
 * native addon, all in one run. Prints ms/step, achieved GFLOP/s, fraction of sgemm peak and
 * speed-up over plain wasm.
 *
 *   npm run bench                      all backends
 *   npm run bench -- --steps 50        more timed steps per backend
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BACKEND_ORDER, selectBackend, type BackendName } from '../engine/backend.ts';
import { loadBlasAddon } from '../engine/native-blas.ts';
import { createFcModel } from '../engine/model.ts';
import { makeDataset } from '../engine/objectives.ts';
import { Rng } from '../engine/random.ts';
import { createTrainer } from '../engine/trainer.ts';
import { tf } from '../engine/tf.ts';

const DIMS = [784, 512, 512, 784];
const BATCH = 100;
const macs = DIMS.slice(1).reduce((a, out, i) => a + DIMS[i] * out, 0);
const firstLayer = DIMS[0] * DIMS[1];
/** Matmul FLOPs of one step: forward, weight gradients, and input gradients of layers 2..L. */
const FLOPS_PER_STEP = 2 * BATCH * (macs + macs + (macs - firstLayer));

interface ChildResult { backend: string; ok: boolean; msPerStep?: number; spread?: [number, number]; reason?: string; device?: string; blas?: string | null; threads?: number; finalLoss?: number }

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function child(name: BackendName, steps: number): Promise<ChildResult> {
  try {
    const b = await selectBackend(name);
    const rng = new Rng(3);
    const frames = Array.from({ length: BATCH }, () => rng.uniformArray(DIMS[0], 0, 1));
    const model = createFcModel({ kind: 'fc', dim: 784, width: 512, depth: 2, activation: 'relu', bias: false, init: 'torch', seed: 1 });
    const trainer = createTrainer(model, makeDataset('cycle', [frames]), { name: 'adam', lr: 1e-4 });
    const warm = name === 'cpu' || name === 'wasm' ? 2 : 5;
    for (let i = 0; i < warm; i++) trainer.step();
    const times: number[] = [];
    let loss = 0;
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      loss = trainer.step().loss;
      times.push(performance.now() - t);
    }
    const sorted = [...times].sort((x, y) => x - y);
    const q = (f: number) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))];
    return { backend: name, ok: true, msPerStep: median(times), spread: [q(0.1), q(0.9)], device: b.device, blas: b.blas, threads: b.threads, finalLoss: loss };
  } catch (e) {
    return { backend: name, ok: false, reason: (e instanceof Error ? e.message : String(e)).split('\n')[0] };
  }
}

/** sgemm GFLOP/s through the addon on square n×n matrices (best of `reps`), outside any tfjs backend. */
function sgemmGflops(n: number, reps: number): number | null {
  const blas = loadBlasAddon();
  if (!blas) return null;
  const heap = new ArrayBuffer(3 * n * n * 4);
  new Float32Array(heap).set(new Rng(5).uniformArray(2 * n * n, -1, 1));
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    blas.gemm(heap, 1, n, n, n, 0, 0, 0, 0, n * n * 4, 0, 2 * n * n * 4, 0, 0, 0, 0, 0);
    best = Math.min(best, performance.now() - t);
  }
  return (2 * n ** 3) / (best * 1e6);
}

async function main() {
  const argv = process.argv.slice(2);
  const stepsArg = argv.indexOf('--steps');
  const steps = stepsArg >= 0 ? Number(argv[stepsArg + 1]) : 60;
  const childArg = argv.indexOf('--child');
  if (childArg >= 0) {
    const name = argv[childArg + 1] as BackendName;
    const n = name === 'cpu' ? Math.min(steps, 5) : name === 'wasm' ? Math.min(steps, 10) : steps;
    process.stdout.write(JSON.stringify(await child(name, n)) + '\n');
    return;
  }

  const peak = Math.max(sgemmGflops(1024, 5) ?? 0, sgemmGflops(2048, 3) ?? 0) || null;
  const results: ChildResult[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const name of BACKEND_ORDER) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', name, '--steps', String(steps)], { encoding: 'utf8' });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      results.push(JSON.parse(line) as ChildResult);
    } catch {
      results.push({ backend: name, ok: false, reason: `child exited ${r.status}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}` });
    }
  }
  const wasm = results.find((r) => r.backend === 'wasm' && r.ok)?.msPerStep;
  const gflops = (ms: number) => FLOPS_PER_STEP / (ms * 1e6);
  console.log(`train step: FC ${DIMS.join('→')} relu no-bias, batch ${BATCH}, adam, cycle objective; ${(FLOPS_PER_STEP / 1e6).toFixed(1)} MFLOP of matmul per step`);
  console.log(`sgemm peak (native addon, OpenBLAS, best of 1024³/2048³): ${peak ? `${peak.toFixed(1)} GFLOP/s` : 'addon not built'}`);
  console.log('');
  console.log('| backend | ms/step (median) | p10–p90 | GFLOP/s | of sgemm peak | vs plain wasm |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) {
    if (!r.ok) {
      console.log(`| ${r.backend} | unavailable: ${r.reason?.slice(0, 90)} | | | | |`);
      continue;
    }
    const g = gflops(r.msPerStep!);
    console.log(`| ${r.backend} | ${r.msPerStep!.toFixed(2)} | ${r.spread!.map((x) => x.toFixed(2)).join('–')} | ${g.toFixed(1)} | ${peak ? `${((100 * g) / peak).toFixed(1)}%` : 'n/a'} | ${wasm ? `${(wasm / r.msPerStep!).toFixed(1)}×` : 'n/a'} |`);
  }
  const blas = results.find((r) => r.ok && r.blas);
  if (blas) console.log(`\nBLAS: ${blas.blas}; threads ${blas.threads}; device ${blas.device}`);
}

await main();
tf.disposeVariables();
