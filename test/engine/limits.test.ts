import { describe, expect, it } from 'vitest';
import {
  findLimits, findLimitsSync, isConverged, lastState, LimitSearch, LimitSearchCancelled, matchTarget, shadow, stateAt,
  type IteratedMap, type Limit, type LimitOptions,
} from '../../engine/limits.ts';

/** A pure-JS map applied row by row to a batch (packed [n·d]) with the call log: rows per call. */
function rowwise(d: number, f: (x: Float32Array) => ArrayLike<number>): IteratedMap & { calls: number[] } {
  const calls: number[] = [];
  return {
    spec: { dim: d },
    calls,
    iterate(x0, steps) {
      const n = x0.length / d;
      calls.push(n);
      const out = new Float32Array(steps * x0.length);
      const rows = Array.from({ length: n }, (_, i) => x0.slice(i * d, (i + 1) * d));
      for (let s = 0; s < steps; s++) {
        rows.forEach((r, i) => {
          rows[i] = Float32Array.from(f(r));
          out.set(rows[i], s * x0.length + i * d);
        });
      }
      return out;
    },
  };
}

const opts = (o: Partial<LimitOptions> = {}): LimitOptions => ({ maxIterations: 2000, maxPeriod: 8, ...o });
const one = async (map: IteratedMap, x0: ArrayLike<number>, o: Partial<LimitOptions> = {}): Promise<Limit> =>
  (await findLimits(map, [Float32Array.from(x0)], opts(o)))[0];
const allFinite = (xs: Float32Array[]) => xs.every((x) => x.every(Number.isFinite));

describe('findLimits: one trajectory', () => {
  it('a linear contraction ends at its fixed point', async () => {
    // x ↦ 0.5x + c: fixed point 2c
    const c = [0.3, -0.2, 0.1];
    const l = await one(rowwise(3, (x) => x.map((v, i) => 0.5 * v + c[i])), [5, 5, 5]);
    expect(l.outcome).toBe('fixed-point');
    expect(l.period).toBe(1);
    expect(l.states).toHaveLength(1);
    l.states[0].forEach((v, i) => expect(v).toBeCloseTo(2 * c[i], 5));
    expect(l.iterations).toBeLessThan(40);
  });

  it('a trajectory shrinking to zero converges (absolute floor)', async () => {
    const l = await one(rowwise(3, (x) => x.map((v) => 0.5 * v)), [1, 2, 3]);
    expect(l.outcome).toBe('fixed-point');
    expect(l.iterations).toBeLessThan(40);
  });

  it('a permutation is an exact cycle of its period, states in iteration order', async () => {
    // cyclic shift of 5 distinct values: period 5
    const shift = (x: Float32Array) => Float32Array.from(x, (_, i) => x[(i + 1) % 5]);
    const l = await one(rowwise(5, shift), [1, 2, 3, 4, 5]);
    expect(l.outcome).toBe('cycle');
    expect(l.period).toBe(5);
    expect(l.states).toHaveLength(5);
    // each state is the image of the one before it, and the last is x_k = shift^k(x_0)
    for (let j = 1; j < 5; j++) expect(Array.from(l.states[j])).toEqual(Array.from(shift(l.states[j - 1])));
    const xk = Array.from({ length: l.iterations }).reduce<Float32Array>((x) => shift(x), Float32Array.of(1, 2, 3, 4, 5));
    expect(Array.from(lastState(l))).toEqual(Array.from(xk));
    // the cycle runs on: the state at any later iteration
    expect(Array.from(stateAt(l as Extract<Limit, { outcome: 'cycle' }>, l.iterations + 1))).toEqual(Array.from(l.states[0]));
  });

  it('a rotation by 2π/6 is a cycle of period 6', async () => {
    const th = Math.PI / 3;
    const l = await one(rowwise(2, ([a, b]) => [Math.cos(th) * a - Math.sin(th) * b, Math.sin(th) * a + Math.cos(th) * b]), [1, 0]);
    expect(l.outcome).toBe('cycle');
    expect(l.period).toBe(6);
  });

  it('a slow settle onto a fixed point is a fixed point, not a cycle', async () => {
    // x ↦ x* + 0.999 (x − x*): every period repeats within tol.cycle long before the step rule holds
    const target = [0.25, 0.5, 0.75];
    const l = await one(rowwise(3, (x) => x.map((v, i) => target[i] + 0.999 * (v - target[i]))), [1, 0, 1], { maxIterations: 50_000, maxPeriod: 20 });
    expect(l.outcome).toBe('fixed-point');
    expect(l.period).toBe(1);
    l.states[0].forEach((v, i) => expect(v).toBeCloseTo(target[i], 2));
  });

  it('x ↦ 2x + 1 diverges, keeping its last finite state below the bound', async () => {
    const f = (x: Float32Array) => x.map((v) => 2 * v + 1);
    const l = await one(rowwise(1, f), [1]);
    expect(l.outcome).toBe('diverged');
    expect(l.period).toBe(0);
    expect(l.states).toHaveLength(1);
    expect(allFinite(l.states)).toBe(true);
    // states[0] is x_{k−1} = 2^{k−1}·(x_0 + 1) − 1
    expect(l.states[0][0]).toBe(2 ** (l.iterations - 1) * 2 - 1);
    expect(l.iterations).toBeLessThan(40);
  });

  it('a step to Infinity is diverged, with the finite state before it', async () => {
    // 2x + 1 overflows float32 at once from 2e38
    const l = await one(rowwise(1, (x) => x.map((v) => 2 * v + 1)), [2e38]);
    expect(l.outcome).toBe('diverged');
    expect(l.iterations).toBe(1);
    expect(l.states[0][0]).toBeCloseTo(2e38, -33);
  });

  it('a step to NaN is diverged, with the finite state before it', async () => {
    // √x − 1 from 16: 3, 0.732…, −0.144…, NaN
    const l = await one(rowwise(1, (x) => x.map((v) => Math.sqrt(v) - 1)), [16]);
    expect(l.outcome).toBe('diverged');
    expect(l.iterations).toBe(4);
    expect(l.states[0][0]).toBeCloseTo(Math.sqrt(Math.sqrt(3) - 1) - 1, 5);
  });

  it('a non-finite start is diverged at 0 and keeps the start as its state', async () => {
    const map = rowwise(2, (x) => x);
    const l = await one(map, [Number.NaN, 1]);
    expect(l).toMatchObject({ outcome: 'diverged', iterations: 0, period: 0 });
    expect(l.states).toHaveLength(1);
    expect(map.calls).toEqual([]);
  });

  it('an irrational rotation never settles: step cap at exactly maxIterations, with the state there', async () => {
    const th = Math.sqrt(2);
    const f = ([a, b]: Float32Array) => [Math.cos(th) * a - Math.sin(th) * b, Math.sin(th) * a + Math.cos(th) * b];
    const l = await one(rowwise(2, f), [1, 0], { maxIterations: 500, maxPeriod: 20, block: 64 });
    expect(l).toMatchObject({ outcome: 'step-cap', iterations: 500, period: 0 });
    let x = Float32Array.of(1, 0);
    for (let k = 0; k < 500; k++) x = Float32Array.from(f(x));
    expect(Array.from(l.states[0])).toEqual(Array.from(x));
  });

  it('maxIterations 0: the start, undecided', async () => {
    const l = await one(rowwise(1, (x) => x), [3], { maxIterations: 0 });
    expect(l).toMatchObject({ outcome: 'step-cap', iterations: 0 });
    expect(l.states[0][0]).toBe(3);
  });
});

describe('findLimits: batches', () => {
  // 1-D: fast contraction to 0 near 0, slow contraction to 3, a 2-cycle ±10 beyond 7, ×2 beyond 20
  const piecewise = () => rowwise(1, ([x]) => [
    Math.abs(x) > 20 ? 2 * x : Math.abs(x) > 7 ? -Math.sign(x) * (10 + 0.5 * (Math.abs(x) - 10)) : x < 1.5 ? 0.1 * x : 3 + 0.9 * (x - 3),
  ]);
  const starts = [0.4, 2.5, 9, 30].map((v) => Float32Array.of(v));

  it('decides each trajectory on its own, and a decided one leaves the batch', async () => {
    const map = piecewise();
    const out = await findLimits(map, starts, opts({ maxIterations: 1000, maxPeriod: 4, block: 8 }));
    expect(out.map((l) => l.outcome)).toEqual(['fixed-point', 'fixed-point', 'cycle', 'diverged']);
    expect(out[1].states[0][0]).toBeCloseTo(3, 4);
    expect(out[2].period).toBe(2);
    expect(Math.abs(out[2].states[0][0])).toBeCloseTo(10, 3);
    // finished at different times …
    const its = out.map((l) => l.iterations);
    expect(new Set(its).size).toBe(4);
    // … and the batch shrank as they did: never grows, ends with the slowest one alone
    expect(map.calls[0]).toBe(4);
    for (let i = 1; i < map.calls.length; i++) expect(map.calls[i]).toBeLessThanOrEqual(map.calls[i - 1]);
    expect(map.calls[map.calls.length - 1]).toBe(1);
    expect(map.calls.length).toBe(Math.ceil(Math.max(...its) / 8));
  });

  it('gives every start the limit it gets alone', async () => {
    const batch = await findLimits(piecewise(), starts, opts({ maxPeriod: 4, block: 8 }));
    for (let i = 0; i < starts.length; i++) {
      const alone = await one(piecewise(), starts[i], { maxPeriod: 4, block: 8 });
      expect(batch[i].outcome).toBe(alone.outcome);
      expect(batch[i].iterations).toBe(alone.iterations);
      expect(Array.from(lastState(batch[i]))).toEqual(Array.from(lastState(alone)));
    }
  });

  it('mixes every outcome in one batch, and never leaves a state list empty', async () => {
    // d = 2; the first coordinate picks the dynamics
    const th = Math.sqrt(2);
    const map = rowwise(2, ([a, b]) => {
      if (a < 1) return [0.5 * a, 0.5 * b]; // fixed point 0
      if (a < 2) return [1.5, b === 0 ? 1 : 0]; // 2-cycle in b
      if (a < 3) return [2.5, b * 2 + 1]; // diverges
      if (a < 4) return [3.5, b - 1 < 0 ? Number.NaN : Math.sqrt(b) - 1]; // NaN
      return [4 + 0.5 * (1 + Math.cos(th * b)), b + 1]; // wanders in [4, 5] for ever
    });
    const out = await findLimits(map, [[0.5, 0.5], [1.5, 0], [2.5, 1], [3.5, 16], [4.5, 0]].map((p) => Float32Array.from(p)), opts({ maxIterations: 300, maxPeriod: 4, block: 16 }));
    expect(out.map((l) => l.outcome)).toEqual(['fixed-point', 'cycle', 'diverged', 'diverged', 'step-cap']);
    for (const l of out) {
      expect(l.states.length).toBeGreaterThan(0);
      expect(allFinite(l.states)).toBe(true);
    }
    expect(out[4].iterations).toBe(300);
    expect(out.filter(isConverged).map((l) => l.period)).toEqual([1, 2]);
  });

  it('stops at a target at the end of a block, keeping the phase of a block that is a multiple of the cycle', async () => {
    // slow contraction onto a 3-cycle through 1, 2, 3: the targets are reached long before the step rule holds
    const centres = [1, 2, 3];
    const map = rowwise(1, ([x]) => {
      const i = Math.max(0, Math.min(2, Math.round(x) - 1));
      return [centres[(i + 1) % 3] + 0.9 * (x - centres[i])];
    });
    const targets = [Float32Array.of(1), null, Float32Array.of(3)];
    const out = await findLimits(map, [Float32Array.of(1.3), Float32Array.of(2.2)], opts({ block: 9, targets, tol: { match: 1e-2 } }));
    // a block of 9 steps (3 periods) brings each start back to its own phase: 1.3 is at centre 1
    // again at every block end, 0.3·0.9^k from it, within 1e-2 first at k = 36 (0.9^27·0.3 > 1e-2)
    expect(out[0]).toMatchObject({ outcome: 'target', target: 0, iterations: 36 });
    // 2.2 is at centre 2 at every block end, and that target is null: it runs on to the cycle rule
    expect(out[1]).toMatchObject({ outcome: 'cycle', period: 3 });
  });

  it('findLimitsSync gives what findLimits gives', async () => {
    const a = await findLimits(piecewise(), starts, opts({ maxPeriod: 4, block: 8 }));
    const b = findLimitsSync(piecewise(), starts, opts({ maxPeriod: 4, block: 8 }));
    expect(b).toEqual(a);
  });

  it('matchTarget takes the nearest target within tolerance and never a null one', () => {
    const ts = [Float32Array.of(0, 0), null, Float32Array.of(1, 0), Float32Array.of(1.001, 0)];
    expect(matchTarget(Float32Array.of(1.0008, 0), ts, 1e-2)).toBe(3);
    expect(matchTarget(Float32Array.of(0.5, 0), ts, 1e-2)).toBe(-1);
    expect(matchTarget(Float32Array.of(Number.NaN, 0), ts, 1e-2)).toBe(-1);
    expect(matchTarget(Float32Array.of(0.005, 0), ts, 1e-2)).toBe(0); // absolute floor near 0
  });
});

describe('findLimits: cancellation', () => {
  it('stops between blocks once cancelled, and says so', async () => {
    const th = Math.sqrt(2);
    const map = rowwise(2, ([a, b]) => [Math.cos(th) * a - Math.sin(th) * b, Math.sin(th) * a + Math.cos(th) * b]);
    let cancel = false;
    const run = findLimits(map, [Float32Array.of(1, 0)], opts({ maxIterations: 1e9, block: 4 }), () => cancel);
    while (map.calls.length < 3) await new Promise<void>((r) => setImmediate(r));
    cancel = true;
    await expect(run).rejects.toBeInstanceOf(LimitSearchCancelled);
    const calls = map.calls.length;
    await new Promise<void>((r) => setImmediate(r));
    expect(map.calls.length).toBe(calls);
    expect(calls).toBeLessThanOrEqual(4);
  });

  it('is not called before it has to be: a search is a sequence of blocks', () => {
    const map = rowwise(1, (x) => x.map((v) => 0.5 * v));
    const s = new LimitSearch(map, [Float32Array.of(1), Float32Array.of(1e-3)], opts({ block: 5 }));
    expect(s.done).toBe(false);
    s.advance();
    expect(map.calls).toEqual([2]);
    expect(s.iterations).toBe(5);
    expect(() => s.limits()).toThrow(/before the search is done/);
    while (!s.done) s.advance();
    expect(s.limits().map((l) => l.outcome)).toEqual(['fixed-point', 'fixed-point']);
  });
});

describe('tails and shadowing', () => {
  it('a step-cap or diverged limit keeps its last `tail` states in iteration order', async () => {
    const drift = await one(rowwise(2, (x) => [x[0] + 1, x[1]]), [0, 0], { maxIterations: 20, tail: 4 });
    expect(drift.outcome).toBe('step-cap');
    expect(drift.states.map((s) => s[0])).toEqual([17, 18, 19, 20]);
    expect(lastState(drift)[0]).toBe(20);
    const blow = await one(rowwise(1, (x) => [x[0] * 10]), [1], { maxIterations: 100, tail: 3 });
    expect(blow.outcome).toBe('diverged');
    expect(blow.states.map((s) => s[0])).toEqual([1e4, 1e5, 1e6]);
    const short = await one(rowwise(1, (x) => [x[0] + 1]), [0], { maxIterations: 5 });
    expect(short.states).toHaveLength(1); // the default keeps one state
  });

  it('shadow: nearest frames, best PSNR per frame, coverage and steps that advance in order', () => {
    const frames = [Float32Array.of(0, 0), Float32Array.of(1, 0), Float32Array.of(0, 1)];
    const succ = [1, 2, 0];
    const states = [Float32Array.of(0.01, 0), Float32Array.of(1, 0.01), Float32Array.of(0.5, 0.5), Float32Array.of(0, 0.99)];
    const sh = shadow(states, frames, succ, { minPsnr: 30, peak: 1, cyclic: false });
    expect(sh.nearest.slice(0, 2)).toEqual([0, 1]);
    expect(sh.nearest[3]).toBe(2);
    expect(sh.close).toBe(3);
    expect(sh.coverage).toBe(3);
    expect(sh.pairs).toBe(1); // 0 → 1; the far state breaks the chain
    expect(sh.advanced).toBe(1);
    expect(sh.best[0]).toBeCloseTo(10 * Math.log10(1 / (0.0001 / 2)), 3);
    expect(sh.bestState).toEqual([0, 1, 3]);
    const cyc = shadow([frames[0], frames[1], frames[2]], frames, succ, { minPsnr: 30, peak: 1, cyclic: true });
    expect([cyc.pairs, cyc.advanced, cyc.forward]).toEqual([3, 3, 3]);
    // five frames walked backwards: never forward (with three, one back would be two forward)
    const five = Array.from({ length: 5 }, (_, i) => Float32Array.from({ length: 5 }, (_, k) => (k === i ? 1 : 0)));
    const back = shadow([4, 3, 2, 1, 0].map((i) => five[i]), five, [1, 2, 3, 4, 0], { minPsnr: 30, peak: 1, cyclic: false });
    expect([back.pairs, back.advanced, back.forward]).toEqual([4, 0, 0]);
  });

  it('shadow: one state within the threshold of every frame (near-silence against quiet speech) passes only its nearest', () => {
    // three "seconds" of quiet audio (rms ≈ 0.1, peak-to-peak 2): silence is ~26 dB from each
    const quiet = [0, 1, 2].map((k) => Float32Array.from({ length: 400 }, (_, t) => 0.1 * Math.sqrt(2) * Math.sin((t + 1) * (k + 1) * 0.37)));
    const silence = new Float32Array(400).fill(0.001);
    const sh = shadow([silence], quiet, [1, 2, 0], { minPsnr: 20, peak: 2, cyclic: true });
    expect(sh.psnr[0]).toBeGreaterThan(20);
    expect(sh.close).toBe(1);
    expect(sh.coverage).toBe(1);
    expect(sh.passed.filter(Boolean)).toHaveLength(1);
    expect(sh.best.every((b) => b > 20)).toBe(true); // its real PSNR against each is still reported
  });
});
