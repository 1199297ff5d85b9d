import { describe, expect, it } from 'vitest';
import { firstValueFrom, of } from 'rxjs';
import { Rng } from '../../engine/random.ts';
import type { IteratedMap } from '../../engine/limits.ts';
import { plotSvg } from '../../sinks/plot.ts';
import { recoveryPlotSpec } from '../../sinks/plots/recovery.ts';
import {
  addUniformNoise, colouredSquares, corrupt, maskFraction, nearestExample, recovery, runRecovery, settle,
} from '../../operators/recovery.ts';

/** k-step iteration of a batch of rows (packed [n·d]) under a per-vector map: [steps, n·d]. */
function rowwise(d: number, f: (x: Float32Array) => Float32Array): IteratedMap {
  return {
    spec: { dim: d },
    iterate: (x0: Float32Array, steps: number) => {
      const n = x0.length / d;
      const out = new Float32Array(steps * x0.length);
      const rows: Float32Array[] = Array.from({ length: n }, (_, i) => x0.slice(i * d, (i + 1) * d));
      for (let s = 0; s < steps; s++) {
        rows.forEach((r, i) => {
          rows[i] = f(r);
          out.set(rows[i], s * x0.length + i * d);
        });
      }
      return out;
    },
  };
}

/** f(x) = c_{next(i)} + 0.5·(x − c_i) with i the nearest centre: each centre is a stable fixed/cycle point. */
function contracting(centres: Float32Array[], next: (i: number) => number = (i) => i, rate = 0.5): IteratedMap {
  const d = centres[0].length;
  return rowwise(d, (x) => {
    const i = nearestExample(centres, x);
    return centres[next(i)].map((v, k) => v + rate * (x[k] - centres[i][k]));
  });
}

const rng = new Rng(5);
const frames = Array.from({ length: 4 }, () => rng.uniformArray(64, 0, 1));

describe('corruptions', () => {
  it('additive noise stays within ±level and uses the range', () => {
    const x = frames[0];
    const y = addUniformNoise(x, 0.3, new Rng(1));
    const diffs = Array.from(y, (v, i) => v - x[i]);
    expect(Math.max(...diffs.map(Math.abs))).toBeLessThanOrEqual(0.3 + 1e-6);
    expect(Math.max(...diffs)).toBeGreaterThan(0.2);
    expect(Math.min(...diffs)).toBeLessThan(-0.2);
  });

  it('masks exactly the stated fraction', () => {
    const x = new Float32Array(200).fill(0.7);
    for (const p of [0.1, 0.25, 0.5]) {
      const { x: y, masked } = maskFraction(x, p, new Rng(3));
      expect(masked).toHaveLength(Math.round(p * 200));
      expect(new Set(masked).size).toBe(masked.length);
      expect(y.filter((v) => v === 0)).toHaveLength(Math.round(p * 200));
      expect(y.filter((v) => Math.abs(v - 0.7) < 1e-6)).toHaveLength(200 - Math.round(p * 200));
    }
    const noisy = maskFraction(x, 0.5, new Rng(3), 'noise');
    for (const i of noisy.masked) expect(noisy.x[i]).toBeGreaterThanOrEqual(0);
  });

  it('draws k squares inside the image, and changes nothing outside them', () => {
    const f = { width: 10, height: 6, channels: 3 };
    const x = new Float32Array(10 * 6 * 3).fill(-1); // no colour is negative: every square pixel changes
    for (let seed = 1; seed < 20; seed++) {
      const { x: y, boxes } = colouredSquares(x, 3, 4, f, new Rng(seed));
      expect(boxes).toHaveLength(3);
      for (const b of boxes) {
        expect(b.x0).toBeGreaterThanOrEqual(0);
        expect(b.y0).toBeGreaterThanOrEqual(0);
        expect(b.x0 + b.w).toBeLessThanOrEqual(10);
        expect(b.y0 + b.h).toBeLessThanOrEqual(6);
      }
      for (let py = 0; py < 6; py++) {
        for (let px = 0; px < 10; px++) {
          const inside = boxes.some((b) => px >= b.x0 && px < b.x0 + b.w && py >= b.y0 && py < b.y0 + b.h);
          for (let c = 0; c < 3; c++) {
            const v = y[(py * 10 + px) * 3 + c];
            if (inside) expect(v).toBeGreaterThanOrEqual(0);
            else expect(v).toBe(-1);
          }
        }
      }
    }
    // squares larger than the image are clipped to it
    expect(colouredSquares(x, 1, 50, f, new Rng(1)).boxes[0]).toEqual({ x0: 0, y0: 0, w: 10, h: 6 });
    expect(corrupt(x, 'squares', 2, new Rng(1), { frame: f, squareSide: 2 }).filter((v) => v >= 0).length).toBeGreaterThan(0);
  });
});

describe('1-NN baseline', () => {
  it('picks the nearest example on a hand-made set', () => {
    const ex = [[0, 0], [1, 0], [0, 1], [5, 5]].map((p) => Float32Array.from(p));
    expect(nearestExample(ex, Float32Array.from([0.1, 0.2]))).toBe(0);
    expect(nearestExample(ex, Float32Array.from([0.6, 0.1]))).toBe(1);
    expect(nearestExample(ex, Float32Array.from([0.3, 0.7]))).toBe(2);
    expect(nearestExample(ex, Float32Array.from([3.1, 3]))).toBe(3);
  });
});

describe('settle', () => {
  it('tells stored patterns, other fixed points, cycles and divergence apart in one batch', async () => {
    // 1-D: x → 0.5x near 0 (stored), → 3 + 0.5(x − 3) near 3 (not stored), a 2-cycle ±10 near |x| ≈ 10, ×2 beyond 20
    const map = rowwise(1, ([x]) => Float32Array.of(
      Math.abs(x) > 20 ? 2 * x : Math.abs(x) > 7 ? -Math.sign(x) * (10 + 0.5 * (Math.abs(x) - 10)) : x < 1.5 ? 0.5 * x : 3 + 0.5 * (x - 3)));
    const starts = [0.4, 2.5, 9, 30].map((v) => Float32Array.of(v));
    const out = await settle(map, starts, [Float32Array.of(0)], { maxIterations: 2000, block: 32, tolStep: 1e-6, tolCycle: 1e-5, tolMatch: 1e-3, maxPeriod: 4 });
    expect(out.map((s) => s.outcome)).toEqual(['stored', 'limit', 'limit', 'diverged']);
    expect(out[0].hit).toBe(0);
    expect(out[1].limit![0][0]).toBeCloseTo(3, 4);
    expect(out[2].limit).toHaveLength(2);
    expect(Math.abs(out[2].limit![0][0])).toBeCloseTo(10, 3);
  });
});

describe('settle on trajectories that turn NaN', () => {
  it('counts them as diverged, next to the ones that reach a stored pattern', async () => {
    const map = rowwise(1, ([x]) => Float32Array.of(x > 5 ? Math.sqrt(5 - x) : 0.5 * x));
    const out = await settle(map, [0.4, 6, Number.NaN].map((v) => Float32Array.of(v)), [Float32Array.of(0)], { maxIterations: 100, block: 8, tolStep: 1e-6, tolCycle: 1e-5, tolMatch: 1e-3, maxPeriod: 4 });
    expect(out.map((s) => s.outcome)).toEqual(['stored', 'diverged', 'diverged']);
    expect(out.map((s) => s.iterations)).toEqual([16, 1, 0]); // 0.4·0.5^k ≤ 1e-3 first at k = 9, seen at the block end
  });
});

describe('recovery monitor', () => {
  it('recovers an autoencoder at low corruption, beats nothing it should not, and reports rates in [0,1]', async () => {
    const map = contracting(frames);
    const out = await firstValueFrom(of({ map, sequences: [frames], objective: 'autoencode' as const, stored: frames, frame: { width: 8, height: 8, channels: 1 } })
      .pipe(recovery({ runId: 'r', trials: 6, probes: 4 })));
    const e = out.recovery;
    expect(e.kind).toBe('recovery');
    expect(e.levels).toHaveLength(9);
    for (const l of e.levels) {
      for (const r of [l.model, l.nn, l.wrong]) {
        expect(r).toBeGreaterThanOrEqual(0);
        expect(r).toBeLessThanOrEqual(1);
      }
      expect(l.phase).toBeNull();
      expect(l.trials).toBe(6);
    }
    // the contracting map's basins are exactly the 1-NN cells: the network matches the baseline
    for (const l of e.levels) expect(l.model).toBeCloseTo(l.nn, 10);
    expect(e.levels.find((l) => l.corruption === 'noise' && l.level === 0.1)!.model).toBe(1);
    expect(e.levels.find((l) => l.corruption === 'mask' && l.level === 0.1)!.model).toBe(1);
    // every probe ends at a stored memory: nothing spurious
    for (const nz of e.noise) expect(nz.stored).toBe(1);
    expect(out.spurious.count).toBe(0);
  });

  it('reports the phase for cycles', async () => {
    const map = contracting(frames, (i) => (i + 1) % 4);
    const out = await runRecovery({ map, sequences: [frames], objective: 'cycle', stored: frames }, { runId: 'r', trials: 4, probes: 2, noise: [0.05], squares: [], mask: [0.1] });
    for (const l of out.recovery.levels) {
      expect(l.model).toBe(1);
      expect(l.phase).toBe(1);
    }
  });

  it('finds, deduplicates and certifies a spurious attractor the map was built with', async () => {
    // a stub map with an extra attractor at 0.5·1 that is no training sample
    const extra = new Float32Array(64).fill(0.5);
    const map = contracting([...frames, extra]);
    let certified = 0;
    const out = await runRecovery(
      { map, sequences: [frames], objective: 'autoencode', stored: frames, certify: (pts) => (certified++, { rho: 0.5, attractor: pts.length === 1 }) },
      { runId: 'r', trials: 2, probes: 24, seed: 3 },
    );
    const s = out.spurious;
    expect(s.count).toBe(1);
    expect(certified).toBe(1);
    expect(s.items[0]).toMatchObject({ period: 1, rho: 0.5, attractor: true });
    expect(s.items[0].hits).toBeGreaterThan(1);
    expect(s.attractors).toBe(1);
    expect(out.spuriousLimits[0][0][0]).toBeCloseTo(0.5, 4);
    // uniform noise around 0.5 mostly lands on the extra point: those probes did not end at a memory
    expect(out.recovery.noise.find((n) => n.from === 'uniform')!.stored).toBeLessThan(1);
  });
});

describe('slow contraction and the plot', () => {
  it('counts probes undecided at the cap, and where they were heading', async () => {
    const map = contracting(frames, (i) => i, 0.999);
    const out = await runRecovery({ map, sequences: [frames], objective: 'autoencode', stored: frames }, { runId: 'r', trials: 4, probes: 2, maxIterations: 64, noise: [0.1], squares: [], mask: [] });
    const [l] = out.recovery.levels;
    expect(l).toMatchObject({ model: 0, unresolved: 4, heading: 1, nn: 1 });
  });

  it('plots rate against level with the 1-NN line, from the events alone', async () => {
    expect(recoveryPlotSpec([])).toBeNull();
    const out = await runRecovery({ map: contracting(frames), sequences: [frames], objective: 'autoencode', stored: frames }, { runId: 'r', trials: 2, probes: 1 });
    const svg = await plotSvg(recoveryPlotSpec([out.recovery, out.spurious])!);
    for (const text of ['1-NN baseline', 'network (recall)', 'masked fraction', 'recovery rate']) expect(svg).toContain(text);
  });
});
