/**
 * Recall check used by the footage benchmarks: iterate K Gaussian starts (N(0,1), as `engram recall`)
 * in one batch, burn in, then read 2n states per start and match each to its nearest frame.
 * A start "replays" when its last n states are all ≥ 30 dB from their nearest frame, cover all n
 * frames and step through them in order. `jitter` = max ‖x_{k+n} − x_k‖ / max(‖x_k‖, 1) over the
 * last period (what operators/recall.ts compares with tolCycle = 1e-5 to call a cycle exact).
 */
import type { Model } from '../engine/model.ts';
import { Rng } from '../engine/random.ts';
import { nearest, psnr, dist, norm } from '../engine/vectors.ts';

export interface StartResult { replays: boolean; covered: number; inOrder: number; psnrMin: number; psnrMedian: number; jitter: number; diverged: boolean }

export function recallFromNoise(model: Model, frames: Float32Array[], starts = 8, burn = 3000, seed = 100): StartResult[] {
  const d = model.spec.dim, n = frames.length;
  const rng = new Rng(seed);
  let x = new Float32Array(starts * d);
  for (let s = 0; s < starts; s++) x.set(rng.normalArray(d, 0, 1), s * d);
  const block = 250;
  for (let k = 0; k < burn; k += block) {
    const tr = model.iterate(x, block);
    x = tr.slice((block - 1) * starts * d, block * starts * d);
  }
  const tr = model.iterate(x, 2 * n);
  const res: StartResult[] = [];
  for (let s = 0; s < starts; s++) {
    const st = (k: number) => tr.subarray((k * starts + s) * d, (k * starts + s + 1) * d);
    if (!Number.isFinite(norm(st(2 * n - 1)))) {
      res.push({ replays: false, covered: 0, inOrder: 0, psnrMin: NaN, psnrMedian: NaN, jitter: NaN, diverged: true });
      continue;
    }
    const idx: number[] = [], ps: number[] = [];
    let jitter = 0;
    for (let k = n; k < 2 * n; k++) {
      const v = st(k);
      const nn = nearest(frames, v);
      idx.push(nn.i);
      ps.push(psnr(v, frames[nn.i]));
      jitter = Math.max(jitter, dist(v, st(k - n)) / Math.max(norm(v), 1));
    }
    let inOrder = 0;
    for (let k = 0; k + 1 < n; k++) if (idx[k + 1] === (idx[k] + 1) % n) inOrder++;
    const covered = new Set(idx.filter((_, k) => ps[k] >= 30)).size;
    const sorted = [...ps].sort((a, b) => a - b);
    res.push({ replays: covered === n && inOrder === n - 1, covered, inOrder, psnrMin: sorted[0], psnrMedian: sorted[n >> 1], jitter, diverged: false });
  }
  return res;
}

export function summarize(r: StartResult[], n: number): string {
  const ok = r.filter((x) => x.replays);
  const worst = ok.length ? Math.min(...ok.map((x) => x.psnrMin)) : NaN;
  const jit = ok.length ? Math.max(...ok.map((x) => x.jitter)) : NaN;
  const others = r.filter((x) => !x.replays).map((x) => (x.diverged ? 'div' : `${x.covered}/${n},ord ${x.inOrder},med ${x.psnrMedian.toFixed(0)}dB`));
  return `replay ${ok.length}/${r.length} starts (min PSNR ${worst.toFixed(1)} dB, jitter ${jit.toExponential(1)})${others.length ? ` others: ${others.join('; ')}` : ''}`;
}
