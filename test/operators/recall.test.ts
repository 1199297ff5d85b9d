import { describe, expect, it } from 'vitest';
import { firstValueFrom, of } from 'rxjs';
import { recall, runRecall } from '../../operators/recall.ts';
import { findLimits, type IteratedMap } from '../../engine/limits.ts';
import { Rng } from '../../engine/random.ts';

/** f(x) = c_{next(i)} + 0.5·(x − c_i), i = nearest centre: every centre is a stable cycle point. */
function contractingMap(centres: Float32Array[], next: (i: number) => number): IteratedMap {
  const d = centres[0].length;
  const f = (x: Float32Array) => {
    let bi = 0, bd = Infinity;
    centres.forEach((c, i) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += (x[k] - c[k]) ** 2;
      if (s < bd) [bi, bd] = [i, s];
    });
    const c = centres[bi], t = centres[next(bi)];
    return t.map((v, k) => v + 0.5 * (x[k] - c[k]));
  };
  return { spec: { dim: d }, iterate: rowwise(d, f) };
}

/** k-step iteration of a batch of rows (packed [n·d]) under a per-vector map: [steps, n·d]. */
function rowwise(d: number, f: (x: Float32Array) => Float32Array): (x0: Float32Array, steps: number) => Float32Array {
  return (x0: Float32Array, steps: number) => {
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
  };
}

const rng = new Rng(11);
const frames = Array.from({ length: 5 }, () => rng.uniformArray(16, 0, 1));

describe('recall', () => {
  it('replays a stable cycle from Gaussian noise, all frames in order', async () => {
    const map = contractingMap(frames, (i) => (i + 1) % 5);
    const out = await firstValueFrom(of({ map, sequences: [frames], objective: 'cycle' as const }).pipe(recall({ runId: 'r', from: 'gaussian', seed: 3 })));
    expect(out.event.rule).toBe('cycle');
    expect(out.event.period).toBe(5);
    expect(out.event.framesMatched).toBe(5);
    expect(out.event.orderCorrect).toBe(true);
    expect(out.event.cycle).toEqual([0, 1, 2, 3, 4]);
    expect(out.states).toHaveLength(5);
    for (const f of out.event.frames) expect(f.psnr).toBeGreaterThan(60);
  });

  it('reports its progress: the stored memories first, then the noise starts, with the iteration cap', async () => {
    const map = contractingMap(frames, (i) => (i + 1) % 5);
    const calls: [string, number, number][] = [];
    const out = await runRecall({ map, sequences: [frames], objective: 'cycle' }, { runId: 'r', from: 'gaussian', maxIterations: 5000, progress: (s, k, cap) => calls.push([s, k, cap]) });
    expect(out.event.framesMatched).toBe(5);
    const stages = [...new Set(calls.map(([s]) => s))];
    expect(stages).toEqual(['stored memories', 'noise starts']);
    for (const [, k, cap] of calls) {
      expect(k).toBeGreaterThan(0);
      expect(cap).toBe(5000);
    }
  });

  it('detects a wrong order', async () => {
    const perm = [2, 3, 4, 1, 0]; // two cycles: 0→2→4→0 and 1→3→1
    const map = contractingMap(frames, (i) => perm[i]);
    const out = await runRecall({ map, sequences: [frames], objective: 'cycle' }, { runId: 'r', from: frames[0] });
    expect(out.event.rule).toBe('cycle');
    expect(out.event.period).toBe(3);
    expect(out.event.cycle).toEqual([0, 2, 4]);
    expect(out.event.framesMatched).toBe(3);
    expect(out.event.orderCorrect).toBe(false);
  });

  it('detects a full cycle visited in the wrong order', async () => {
    const next = [2, 4, 1, 0, 3]; // 0→2→1→4→3→0: every frame, wrong successor
    const map = contractingMap(frames, (i) => next[i]);
    const out = await runRecall({ map, sequences: [frames], objective: 'cycle' }, { runId: 'r', from: 'gaussian' });
    expect(out.event.rule).toBe('cycle');
    expect(out.event.period).toBe(5);
    expect(out.event.framesStored).toBe(5);
    expect(out.event.framesMatched).toBe(5);
    expect(out.event.cycle).toEqual([0, 2, 1, 4, 3]);
    expect(out.event.orderCorrect).toBe(false);
  });

  it('finds fixed points for autoencoders', async () => {
    const map = contractingMap(frames, (i) => i);
    const out = await runRecall({ map, sequences: [frames], objective: 'autoencode' }, { runId: 'r', from: frames[3].map((v) => v + 0.01) });
    expect(out.event.rule).toBe('fixed-point');
    expect(out.event.period).toBe(1);
    expect(out.event.cycle).toEqual([3]);
    expect(out.event.framesStored).toBe(5);
    expect(out.event.orderCorrect).toBeNull(); // autoencoders have no order
  });

  it('does not count a lone fixed point of an untrained cycle network as a recalled frame', async () => {
    // every start collapses onto one point that is none of the frames
    const target = frames[0].map((v) => v + 0.3);
    const map: IteratedMap = { spec: { dim: 16 }, iterate: rowwise(16, () => target) };
    const out = await runRecall({ map, sequences: [frames], objective: 'cycle' }, { runId: 'r', from: 'gaussian' });
    expect(out.event.rule).toBe('fixed-point');
    expect(out.event.framesStored).toBe(0);
    expect(out.event.framesMatched).toBe(0);
    expect(out.event.orderCorrect).toBe(false);
  });

  it('counts a fixed point at a frame as that one frame, but not as the sequence', async () => {
    const target = frames[0].map((v) => v + 1e-4);
    const map: IteratedMap = { spec: { dim: 16 }, iterate: rowwise(16, () => target) };
    const out = await runRecall({ map, sequences: [frames], objective: 'cycle' }, { runId: 'r', from: 'gaussian' });
    expect(out.event.cycle).toEqual([0]);
    expect(out.event.framesMatched).toBe(1);
    expect(out.event.orderCorrect).toBe(false);
  });

  it('a near-silent fixed point within the threshold of every quiet second of audio matches one second at most, and is not a recall', async () => {
    // four "seconds" of quiet audio (rms ≈ 0.1; peak-to-peak 2): silence is ~26 dB from each, above the 20 dB threshold
    const seconds = [0, 1, 2, 3].map((k) => Float32Array.from({ length: 400 }, (_, t) => 0.1 * Math.sqrt(2) * Math.sin((t + 1) * (k + 1) * 0.37)));
    const hush = new Float32Array(400).fill(0.001);
    const map: IteratedMap = { spec: { dim: 400 }, iterate: rowwise(400, () => hush) };
    const out = await runRecall({ map, sequences: [seconds], objective: 'cycle' }, { runId: 'r', from: 'gaussian', peak: 2 });
    expect(out.event.rule).toBe('fixed-point');
    expect(out.event.framesMatched).toBeLessThanOrEqual(1);
    expect(out.event.outcome?.coverage).toBeLessThanOrEqual(1);
    expect(out.event.outcome?.recalled).toBe(false);
  });

  it('stops at the iteration cap when nothing converges and says so', async () => {
    // rotation by an irrational angle: no fixed point, no cycle
    const th = Math.sqrt(2);
    const map: IteratedMap = {
      spec: { dim: 2 },
      iterate(x0, steps) {
        const out = new Float32Array(2 * steps);
        let [a, b] = [x0[0], x0[1]];
        for (let s = 0; s < steps; s++) {
          [a, b] = [Math.cos(th) * a - Math.sin(th) * b, Math.sin(th) * a + Math.cos(th) * b];
          out[2 * s] = a;
          out[2 * s + 1] = b;
        }
        return out;
      },
    };
    const [lim] = await findLimits(map, [Float32Array.of(1, 0)], { maxIterations: 500, tol: { step: 1e-6, cycle: 1e-6 }, maxPeriod: 20 });
    expect(lim.outcome).toBe('step-cap');
    expect(lim.iterations).toBe(500);
    const out = await runRecall({ map, sequences: [[Float32Array.of(1, 0), Float32Array.of(0, 1)]], objective: 'cycle' }, { runId: 'r', from: 'uniform', maxIterations: 300 });
    expect(out.event.rule).toBe('step-cap');
    expect(out.event.orderCorrect).toBe(false);
  });

  it('stops iterating when unsubscribed', async () => {
    let calls = 0;
    const map: IteratedMap = { spec: { dim: 1 }, iterate: (_x, steps) => { calls++; return Float32Array.from({ length: steps }, () => Math.random()); } };
    const sub = of({ map, sequences: [[Float32Array.of(0), Float32Array.of(1)]], objective: 'cycle' as const })
      .pipe(recall({ runId: 'r', from: 'gaussian', maxIterations: 1e7 }))
      .subscribe();
    // The search yields to the event loop once per block (one call of the map): count turns, not ms.
    const turn = () => new Promise<void>((r) => setImmediate(r));
    while (calls < 3) await turn();
    sub.unsubscribe();
    const after = calls;
    for (let i = 0; i < 20; i++) await turn(); // a search still running would make ~20 more calls
    expect(calls - after).toBeLessThanOrEqual(1);
  });

  it('does not accept an attractor far from its training sample as that sample', async () => {
    // fixed points sit 20% away from every sample: attractors exist but do not store the data
    const off = frames.map((f) => f.map((v) => v * 1.2 + 0.1));
    const map: IteratedMap = {
      spec: { dim: 16 },
      iterate: rowwise(16, (x) => {
        let bi = 0, bd = Infinity;
        frames.forEach((f, i) => { const dd = f.reduce((a, v, k) => a + (v - x[k]) ** 2, 0); if (dd < bd) [bi, bd] = [i, dd]; });
        return off[bi].map((v, k) => v + 0.5 * (x[k] - frames[bi][k]));
      }),
    };
    const out = await runRecall({ map, sequences: [frames], objective: 'autoencode' }, { runId: 'r', from: frames[2] });
    expect(out.event.framesStored).toBe(0);
    expect(out.event.framesMatched).toBe(0);
    expect(out.event.frames.every((f) => !f.stored && Number.isNaN(f.l2Stored))).toBe(true);
  });

  it('reports a trajectory that blows up as diverged, not as a step cap', async () => {
    const map: IteratedMap = {
      spec: { dim: 2 },
      iterate(x0, steps) {
        const o = new Float32Array(2 * steps);
        let a = x0[0];
        for (let s = 0; s < steps; s++) { a = a * 1e6; o[2 * s] = a; o[2 * s + 1] = a; }
        return o;
      },
    };
    const [lim] = await findLimits(map, [Float32Array.of(1, 1)], { maxIterations: 1000, tol: { step: 1e-6, cycle: 1e-5 }, maxPeriod: 4 });
    expect(lim.outcome).toBe('diverged');
    expect(lim.iterations).toBeLessThan(20);
  });

  it('finds the fixed points of many starts in one batched iteration', async () => {
    const map = contractingMap(frames, (i) => i);
    let calls = 0;
    const counted: IteratedMap = { spec: map.spec, iterate: (x, s) => (calls++, map.iterate(x, s)) };
    const fps = await findLimits(counted, frames.map((f) => f.map((v) => v + 0.05)), { maxIterations: 5000, tol: { step: 1e-6, cycle: 1e-5 }, maxPeriod: 4 });
    fps.forEach((p) => expect(p.outcome).toBe('fixed-point'));
    fps.forEach((p, i) => expect(Math.max(...p.states[0].map((v, k) => Math.abs(v - frames[i][k])))).toBeLessThan(1e-5));
    expect(calls).toBe(1); // all five converge within the first block of the one batched trajectory
  });

  it('treats a trajectory shrinking to zero as converged (absolute floor)', async () => {
    const map: IteratedMap = { spec: { dim: 3 }, iterate: (x0, steps) => { const o = new Float32Array(3 * steps); let x = x0; for (let s = 0; s < steps; s++) { x = x.map((v) => v * 0.5); o.set(x, 3 * s); } return o; } };
    const [lim] = await findLimits(map, [Float32Array.of(1, 2, 3)], { maxIterations: 1000, tol: { step: 1e-6, cycle: 1e-5 }, maxPeriod: 4 });
    expect(lim.outcome).toBe('fixed-point');
    expect(lim.iterations).toBeLessThan(40);
  });
});

describe('recall that does not converge', () => {
  // the memorize → recall crash: a network whose iteration blows up (uniform:5 init, one step of training)
  const blowUp = (to: (x: number, k: number) => number): IteratedMap => ({
    spec: { dim: 16 },
    iterate: (x0, steps) => {
      const out = new Float32Array(steps * x0.length);
      let x = x0;
      for (let s = 0; s < steps; s++) {
        x = x.map((v) => to(v, s));
        out.set(x, s * x0.length);
      }
      return out;
    },
  });

  for (const [name, map, rule] of [
    ['overflows to Infinity', blowUp((v) => 2 * v + 1), 'diverged'],
    ['turns NaN', blowUp((v) => (Math.abs(v) > 1e3 ? Number.NaN : 3 * v + 0.1)), 'diverged'],
    ['turns NaN at once', blowUp(() => Number.NaN), 'diverged'],
    ['never settles', blowUp((v) => v + 0.01), 'step-cap'],
  ] as const) {
    it(`a trajectory that ${name} is reported as ${rule}, with PSNR against the state it has`, async () => {
      for (const objective of ['cycle', 'autoencode'] as const) {
        const out = await runRecall({ map, sequences: [frames], objective }, { runId: 'r', from: 'gaussian', maxIterations: 300 });
        expect(out.event.rule).toBe(rule);
        expect(out.event.period).toBe(0);
        expect(out.event.framesMatched).toBe(0);
        expect(out.event.framesStored).toBe(0);
        // the nearest-frame PSNR, never a 0.0 placeholder
        const mean = out.event.frames.reduce((a, f) => a + f.psnr, 0) / out.event.frames.length;
        expect(out.event.meanPsnr).toBeCloseTo(mean, 6);
        expect(out.event.outcome).toMatchObject({ kind: rule === 'diverged' ? 'diverged' : 'undecided', recalled: false, coverage: 0 });
        expect(out.event.outcome!.why).toMatch(/train longer/);
        expect(out.states.length).toBeGreaterThan(0);
        for (const s of out.states) expect(s.every(Number.isFinite)).toBe(true);
        for (const f of out.event.frames) {
          expect(f.state).toBeLessThan(out.states.length);
          expect(Number.isFinite(f.psnr)).toBe(true);
          expect(Number.isFinite(f.l2)).toBe(true);
        }
      }
    });
  }
});

describe('recall outcomes: exact, approximate orbit, spurious, and the best of several tries', () => {
  const n = 5, d = 16;
  const seq = Array.from({ length: n }, () => rng.uniformArray(d, 0, 1));
  const e = Float32Array.from({ length: d }, (_, k) => (k % 2 ? 1 : -1) / 4); // unit direction
  const nearestOf = (x: Float32Array) => {
    let bi = 0, bd = Infinity;
    seq.forEach((c, i) => { const dd = c.reduce((a, v, k) => a + (v - x[k]) ** 2, 0); if (dd < bd) [bi, bd] = [i, dd]; });
    return bi;
  };
  /**
   * Frame i goes to a slightly perturbed frame next(i): c_next + 0.02·a'·e with a' = 3.9·a·(1 − a), a read
   * off the state (the logistic map is chaotic), so the trajectory shadows the frames and never repeats.
   */
  const shadowing = (next: (i: number) => number, trap?: { when: (x: Float32Array) => boolean; at: Float32Array }): IteratedMap => ({
    spec: { dim: d },
    iterate: rowwise(d, (x) => {
      if (trap?.when(x)) return trap.at.map((v, k) => v + 0.5 * (x[k] - v));
      const i = nearestOf(x);
      const a = Math.min(0.99, Math.max(0.01, Math.abs(seq[i].reduce((s, v, k) => s + (x[k] - v) * e[k], 0) / 0.02) || 0.3));
      const a2 = 3.9 * a * (1 - a);
      return seq[next(i)].map((v, k) => v + 0.02 * a2 * e[k]);
    }),
  });

  it('an orbit that shadows the whole sequence without repeating is an approximate orbit, n/n in order, recorded one pass round', async () => {
    const out = await runRecall({ map: shadowing((i) => (i + 1) % n), sequences: [seq], objective: 'cycle' }, { runId: 'r', from: 'gaussian', maxIterations: 400 });
    expect(out.event.rule).toBe('step-cap');
    expect(out.event.outcome).toMatchObject({ kind: 'approximate-orbit', recalled: true, coverage: n, of: n, inOrder: true, tries: 1 });
    expect(out.event.outcome!.worstPsnr).toBeGreaterThan(40);
    expect(out.event.outcome!.medianPsnr).toBeGreaterThanOrEqual(out.event.outcome!.worstPsnr);
    expect(out.event.framesMatched).toBe(n);
    expect(out.event.orderCorrect).toBe(true);
    expect(out.event.meanPsnr).toBeGreaterThan(40);
    expect(out.states).toHaveLength(n);
    expect(out.event.cycle).toEqual([0, 1, 2, 3, 4]); // starts where it passes frame 0
    for (const f of out.event.frames) expect(f.psnr).toBeGreaterThan(40);
  });

  it('an orbit that shadows only part of the sequence reports its coverage and that the order is wrong, and is no stored memory', async () => {
    const out = await runRecall({ map: shadowing((i) => (i < 2 ? i + 1 : 0)), sequences: [seq], objective: 'cycle' }, { runId: 'r', from: 'gaussian', maxIterations: 400 });
    expect(out.event.outcome).toMatchObject({ kind: 'approximate-orbit', recalled: false, coverage: 3, of: n, inOrder: false });
    expect(out.event.outcome!.why).toMatch(/shadows part .*train longer/);
    expect(out.event.frames.filter((f) => f.matched).map((f) => f.index)).toEqual([0, 1, 2]);
    expect(out.states.length).toBeGreaterThan(1);
  });

  it('a fixed point that matches no stored pattern is spurious, with its real PSNR', async () => {
    const p = new Float32Array(d).fill(3);
    const out = await runRecall({ map: contractingMap([p], () => 0), sequences: [seq], objective: 'cycle' }, { runId: 'r', from: 'gaussian', maxIterations: 400 });
    expect(out.event.rule).toBe('fixed-point');
    expect(out.event.outcome).toMatchObject({ kind: 'spurious', recalled: false, coverage: 0 });
    expect(out.event.meanPsnr).toBeLessThan(0);
    expect(out.event.meanPsnr).toBeCloseTo(out.event.outcome!.medianPsnr, 0);
    expect(out.states).toHaveLength(1);
  });

  it('an exact stored cycle is exact and recalled', async () => {
    const out = await runRecall({ map: contractingMap(seq, (i) => (i + 1) % n), sequences: [seq], objective: 'cycle' }, { runId: 'r', from: 'gaussian' });
    expect(out.event.outcome).toMatchObject({ kind: 'exact', recalled: true, coverage: n, of: n, inOrder: true });
    expect(out.states).toHaveLength(n);
  });

  it('--tries 3 keeps the best of three noise starts (seeds seed, seed+1, seed+2)', async () => {
    // starts with x[0] > 0.5 and x[1] < 0 (no frame is there) fall into a spurious fixed point; the others shadow the sequence
    const inTrap = (x: ArrayLike<number>) => x[0] > 0.5 && x[1] < 0;
    const trapped = (s: number) => inTrap(new Rng(s).normalArray(d, 0, 1));
    let seed = 1;
    while (!(trapped(seed) && (!trapped(seed + 1) || !trapped(seed + 2)))) seed++;
    const map = shadowing((i) => (i + 1) % n, { when: inTrap, at: Float32Array.from({ length: d }, (_, k) => (k === 1 ? -3 : 3)) });
    const input = { map, sequences: [seq], objective: 'cycle' as const };
    const one = await runRecall(input, { runId: 'r', from: 'gaussian', seed, maxIterations: 400 });
    expect(one.event.outcome).toMatchObject({ kind: 'spurious', tries: 1, seed });
    const three = await runRecall(input, { runId: 'r', from: 'gaussian', seed, tries: 3, maxIterations: 400 });
    expect(three.event.outcome).toMatchObject({ kind: 'approximate-orbit', recalled: true, tries: 3, coverage: n });
    expect(three.event.outcome!.seed).not.toBe(seed);
    expect(trapped(three.event.outcome!.seed)).toBe(false);
  });

  it('several sequences: says which one came back, and classifies every noise start on its own', async () => {
    // two cycles of 3 (frames 0-2 and 3-5), each stable; a start lands on the cycle of its nearest centre
    const six = Array.from({ length: 6 }, (_, i) => (i < 3 ? rng.uniformArray(16, 0, 1) : rng.uniformArray(16, -1, 0)));
    const map = contractingMap(six, (i) => (i < 3 ? (i + 1) % 3 : 3 + ((i - 3 + 1) % 3)));
    const input = { map, sequences: [six.slice(0, 3), six.slice(3)], objective: 'multi-cycle' as const };
    const out = await runRecall(input, { runId: 'r', from: 'gaussian', seed: 1, tries: 12 });
    expect(out.starts.map((s) => s.seed)).toEqual(Array.from({ length: 12 }, (_, t) => 1 + t));
    for (const s of out.starts) {
      expect(s).toMatchObject({ kind: 'exact', recalled: true, period: 3, of: 3, coverage: 3 });
      expect([...s.matched].sort()).toEqual(s.sequence === 0 ? [0, 1, 2] : [3, 4, 5]);
    }
    expect(new Set(out.starts.map((s) => s.sequence))).toEqual(new Set([0, 1]));
    // the event reports the best start, and the sequence that one came back to
    const best = out.starts.find((s) => s.seed === out.event.outcome!.seed)!;
    expect(out.event.outcome).toMatchObject({ kind: 'exact', recalled: true, sequences: 2, sequence: best.sequence });
    expect(out.event.outcome!.why).toMatch(/is a stored memory \(sequence [01] of 2\)/);
    // from a sample of the second sequence, the second one
    const from4 = await runRecall(input, { runId: 'r', from: six[4] });
    expect(from4.event.outcome).toMatchObject({ sequence: 1, sequences: 2, recalled: true });
    expect(from4.event.cycle).toEqual([3, 4, 5]);
    // one sequence: no sequence index in the outcome (as before)
    const single = await runRecall({ map: contractingMap(frames, (i) => (i + 1) % 5), sequences: [frames], objective: 'cycle' }, { runId: 'r', from: 'gaussian' });
    expect(single.event.outcome!.sequence).toBeUndefined();
    expect(single.starts).toHaveLength(1);
  });
});
