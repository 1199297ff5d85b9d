import { firstValueFrom, from, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/random.ts';
import { cosine, identityProbe, identityRows, labelRows, probeInputs, rhoGrid, type ProbedMap } from '../../operators/identity-probe.ts';

const d = 64;
const xhat = new Rng(7).uniformArray(d, 0, 1);
const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const rhos = rhoGrid(11);
const opts = { rhos, perRho: 6, seed: 3 };

const identity: ProbedMap = { apply: (x) => x.slice() };
const constant: ProbedMap = {
  apply: (x) => {
    const y = new Float32Array(x.length);
    for (let r = 0; r < x.length / d; r++) y.set(xhat, r * d);
    return y;
  },
};
/** Answers every input with one fixed random vector: like neither baseline. */
const junk = new Rng(99).normalArray(d, 0, 1);
const fixedJunk: ProbedMap = {
  apply: (x) => {
    const y = new Float32Array(x.length);
    for (let r = 0; r < x.length / d; r++) y.set(junk, r * d);
    return y;
  },
};

describe('x_ρ construction', () => {
  it('keeps the norm of x̂ and has correlation exactly ρ with it, with a different r⊥ per probe', () => {
    const x = probeInputs(xhat, rhos, 5, 1);
    expect(x.length).toBe(rhos.length * 5 * d);
    rhos.forEach((rho, j) => {
      for (let k = 0; k < 5; k++) {
        const o = (j * 5 + k) * d, p = x.subarray(o, o + d);
        expect(norm(p)).toBeCloseTo(norm(xhat), 4);
        expect(cosine(p, xhat)).toBeCloseTo(rho, 5);
      }
    });
    // two probes at ρ = 0 are two different random directions, both orthogonal to x̂
    const a = x.subarray(0, d), b = x.subarray(d, 2 * d);
    expect(Math.abs(cosine(a, b))).toBeLessThan(0.6);
    expect(probeInputs(xhat, rhos, 5, 1)).toEqual(x); // seeded
  });

  it('rejects ρ outside [0, 1] and a zero example', () => {
    expect(() => probeInputs(xhat, [1.5], 1, 1)).toThrow(/\[0, 1\]/);
    expect(() => probeInputs(new Float32Array(4), [0.5], 1, 1)).toThrow(/non-zero/);
  });
});

describe('identity probe scores and labels', () => {
  it('the exact identity map: corrI = 1, corrC = ρ, equal to its baseline, labelled identity', () => {
    const rows = identityRows(identity, xhat, opts);
    for (const r of rows) {
      expect(r.corrI).toBeCloseTo(1, 5);
      expect(r.corrC).toBeCloseTo(r.rho, 5);
      expect(r.corrIStd).toBeLessThan(1e-5);
      expect(r.identity).toEqual({ corrI: r.corrI, corrC: r.corrC });
      expect(r.constant.corrC).toBeCloseTo(1, 5);
      expect(r.constant.corrI).toBeCloseTo(r.rho, 5);
    }
    const l = labelRows(rows);
    expect(l.label).toBe('identity');
    expect(l.distance.identity).toBeCloseTo(0, 5);
    expect(l.distance.constant).toBeCloseTo(1, 5);
  });

  it('the constant map x ↦ x̂: corrC = 1, corrI = ρ, labelled constant', () => {
    const rows = identityRows(constant, xhat, opts);
    for (const r of rows) {
      expect(r.corrC).toBeCloseTo(1, 5);
      expect(r.corrI).toBeCloseTo(r.rho, 5);
    }
    const l = labelRows(rows);
    expect(l.label).toBe('constant');
    expect(l.distance.constant).toBeCloseTo(0, 5);
    expect(l.distance.identity).toBeCloseTo(1, 5);
  });

  it('a map like neither (a fixed unrelated output, or a 50/50 blend) is labelled neither', () => {
    expect(labelRows(identityRows(fixedJunk, xhat, opts)).label).toBe('neither');
    const blend: ProbedMap = {
      apply: (x) => {
        const c = constant.apply(x);
        return x.map((v, i) => 0.5 * v + 0.5 * c[i]);
      },
    };
    expect(labelRows(identityRows(blend, xhat, opts)).label).toBe('neither');
  });

  it('a slightly noisy identity is still identity; the threshold decides borderline cases', () => {
    const rng = new Rng(5);
    const noisy: ProbedMap = { apply: (x) => x.map((v) => v + 0.05 * rng.normal()) };
    const rows = identityRows(noisy, xhat, opts);
    const l = labelRows(rows);
    expect(l.label).toBe('identity');
    expect(labelRows(rows, l.distance.identity / 2).label).toBe('neither');
  });

  it('needs a ρ below 1', () => {
    expect(() => labelRows(identityRows(identity, xhat, { rhos: [1], perRho: 2, seed: 1 }))).toThrow(/ρ < 1/);
  });
});

describe('identityProbe operator', () => {
  const train = { steps: 10, loss: 1e-9, reason: 'loss-target' as const, wallMs: 1 };
  it('emits one identity event per trained map, in order', async () => {
    const events = await firstValueFrom(from([
      { arch: 'fc' as const, depth: 1, params: 10, map: identity, xhat, train },
      { arch: 'cnn' as const, depth: 3, params: 20, map: constant, xhat, train },
    ]).pipe(identityProbe({ runId: 'r', ...opts }), toArray()));
    expect(events.map((e) => [e.kind, e.arch, e.depth, e.label])).toEqual([['identity', 'fc', 1, 'identity'], ['identity', 'cnn', 3, 'constant']]);
    expect(events[0]).toMatchObject({ runId: 'r', step: 10, params: 10, corr: 'cosine', probesPerRho: 6, threshold: 0.25, train });
    expect(events[0].rows.map((r) => r.rho)).toEqual(rhos);
  });

  it('completes on an empty source and errors when the map fails', async () => {
    expect(await firstValueFrom(from([]).pipe(identityProbe({ runId: 'r', ...opts }), toArray()))).toEqual([]);
    const broken: ProbedMap = { apply: () => new Float32Array(3) };
    await expect(firstValueFrom(of({ arch: 'fc' as const, depth: 1, params: 1, map: broken, xhat, train }).pipe(identityProbe({ runId: 'r', ...opts }))))
      .rejects.toThrow(/returned 3 values/);
  });
});
