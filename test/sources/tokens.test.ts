import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/random.ts';
import { createTokenSampler, makeTokenTask, parseFrequencies, tokenBatches, tokenFrequencies } from '../../sources/tokens.ts';

describe('token source', () => {
  it('gives Zipf and two-token frequencies that sum to 1', () => {
    const z = tokenFrequencies({ kind: 'zipf', alpha: 1 }, 4);
    const h = 1 + 1 / 2 + 1 / 3 + 1 / 4;
    expect(Array.from(z)).toEqual([1, 1 / 2, 1 / 3, 1 / 4].map((v) => v / h));
    expect(Array.from(tokenFrequencies({ kind: 'two', p1: 0.9 }, 2))).toEqual([0.9, 1 - 0.9]);
    expect(() => tokenFrequencies({ kind: 'two', p1: 0.9 }, 3)).toThrow(/--n 2/);
  });

  it('parses --frequencies and names the option when it is wrong', () => {
    expect(parseFrequencies('zipf:1.5')).toEqual({ kind: 'zipf', alpha: 1.5 });
    expect(parseFrequencies('two:0.95')).toEqual({ kind: 'two', p1: 0.95 });
    expect(() => parseFrequencies('two:1.5')).toThrow(/--frequencies/);
    expect(() => parseFrequencies('pareto')).toThrow(/zipf:ALPHA/);
  });

  it('draws a fixed random target map from the seed: injective when N ≤ M', () => {
    const a = makeTokenTask({ n: 10, m: 12, frequencies: { kind: 'zipf', alpha: 1 }, seed: 3 });
    expect(new Set(a.targets).size).toBe(10);
    expect(Array.from(makeTokenTask({ n: 10, m: 12, frequencies: { kind: 'zipf', alpha: 1 }, seed: 3 }).targets)).toEqual(Array.from(a.targets));
    const b = makeTokenTask({ n: 50, m: 4, frequencies: { kind: 'zipf', alpha: 1 }, seed: 3 });
    expect(b.targets.every((y) => y >= 0 && y < 4)).toBe(true);
    expect(Array.from(makeTokenTask({ n: 2, m: 3, frequencies: { kind: 'two', p1: 0.8 }, seed: 1, targets: Int32Array.of(2, 0) }).targets)).toEqual([2, 0]);
  });

  it('samples batches from p (frequencies within 1% over 40k draws), seeded', () => {
    const p = tokenFrequencies({ kind: 'zipf', alpha: 1 }, 5);
    const s = createTokenSampler(p, new Rng(7));
    const counts = new Float64Array(5);
    for (const x of s.sample(40_000)) counts[x]++;
    counts.forEach((c, i) => expect(Math.abs(c / 40_000 - p[i])).toBeLessThan(0.01));
    const w = createTokenSampler(p, new Rng(7)).weights(8);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Array.from(w).every((v) => Number.isInteger(v * 8))).toBe(true);
  });

  it('streams batch weights', async () => {
    const p = Float64Array.of(0.5, 0.5);
    const bs = await firstValueFrom(tokenBatches(p, 4, 1).pipe(take(3), toArray()));
    expect(bs.length).toBe(3);
    expect(bs.every((w) => Math.abs(w[0] + w[1] - 1) < 1e-12)).toBe(true);
  });
});
