import { Subject, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { MarginsEvent } from '../../events.ts';
import { isLogStep, marginStats, margins, selectTokens, type HeadSnapshot } from '../../operators/margins.ts';

const scheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

// three rows, three classes, checked by hand:
//   row 0: [2, 1, 0], target 0 → m = 2 − 1 = 1     (right)
//   row 1: [0, 3, 1], target 0 → m = 0 − 3 = −3    (wrong)
//   row 2: [1, 1, 0], target 1 → m = 1 − 1 = 0     (a tie counts as wrong)
const SCORES = Float32Array.of(2, 1, 0, 0, 3, 1, 1, 1, 0);
const TARGETS = [0, 0, 1];
const P = [0.5, 0.3, 0.2];

/** A one-row, two-class head whose margin is `m` (scores [m, 0], target 0). */
const snap = (step: number, m: number, extra: Partial<HeadSnapshot> = {}): HeadSnapshot =>
  ({ step, n: 1, m: 2, scores: [m, 0], targets: [0], weights: [1], ...extra });

describe('marginStats', () => {
  it('gives margins, min/median, fraction > 0 and the weighted losses of a hand-made scores matrix', () => {
    const s = marginStats(SCORES, 3, 3, TARGETS, P);
    expect(Array.from(s.margins)).toEqual([1, -3, 0]);
    expect(s.min).toBe(-3);
    expect(s.median).toBe(0);
    expect(s.fractionPositive).toBeCloseTo(1 / 3, 15);
    expect(s.loss01).toBeCloseTo(0.3 + 0.2, 15);
    const lse = (r: number[]) => Math.log(r.reduce((a, v) => a + Math.exp(v), 0));
    const loss = 0.5 * (lse([2, 1, 0]) - 2) + 0.3 * (lse([0, 3, 1]) - 0) + 0.2 * (lse([1, 1, 0]) - 1);
    expect(s.loss).toBeCloseTo(loss, 6);
  });

  it('takes the median of an even count as the mean of the middle two, and rejects a wrong shape', () => {
    expect(marginStats([3, 0, 1, 0], 2, 2, [0, 0], [0.5, 0.5]).median).toBe(2);
    expect(() => marginStats([1, 2, 3], 2, 2, [0, 0], [1, 1])).toThrow(/2×2/);
  });
});

describe('selectTokens and isLogStep', () => {
  it('lists every row when few, else the heaviest and the worst', () => {
    expect(selectTokens(Float64Array.of(1, 2, 3), [0.2, 0.3, 0.5], 4, 1)).toEqual([0, 1, 2]);
    // weights favour rows 5,4; the lowest margins among the rest are rows 1 then 0
    const chosen = selectTokens(Float64Array.of(0, -5, 2, 3, -9, 1), [0.1, 0.1, 0.1, 0.1, 0.2, 0.4], 2, 2);
    expect(chosen).toEqual([5, 4, 0, 1]);
  });

  it('puts about perDecade steps on the log grid per decade', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((s) => isLogStep(s, 10))).toEqual([1, 2, 3, 4, 5, 6, 8, 10]);
    expect(isLogStep(100, 10) && isLogStep(1000, 10) && !isLogStep(999, 10) && !isLogStep(5, 0)).toBe(true);
  });
});

describe('margins operator', () => {
  it('emits on the first snapshot, every `every` steps and the last, and counts sign flips between events', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // margins over steps 0..6: + − + + − − +  → flips at 1, 2, 4, 6
      const values = Object.fromEntries([1, -1, 1, 1, -1, -1, 1].map((m, i) => [String.fromCharCode(97 + i), snap(i, m)]));
      const out = cold('abcdefg|', values).pipe(
        margins({ runId: 'r', every: 3, perDecade: 0 }),
        map((e: MarginsEvent) => `${e.step}:${e.flips}:${e.tokens[0].flips}`),
      );
      // step 0 (first), 3 (every 3: flips at 1, 2), 6 (every 3: flips at 4, 6)
      expectObservable(out).toBe('a--b--c|', { a: '0:0:0', b: '3:2:2', c: '6:2:2' });
    });
  });

  it('emits the last snapshot at completion when the cadence missed it', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('abc|', { a: snap(0, 1), b: snap(1, -1), c: snap(2, -2) }).pipe(margins({ runId: 'r', every: 10, perDecade: 0 }), map((e) => `${e.step}:${e.min}`));
      expectObservable(out).toBe('a--(b|)', { a: '0:1', b: '2:-2' });
    });
  });

  it('asks for λ_max only when it emits, and reports η·λ_max/2', () => {
    let calls = 0;
    const lambdaMax = () => (calls++, 4);
    const src = new Subject<HeadSnapshot>();
    const seen: MarginsEvent[] = [];
    src.pipe(margins({ runId: 'r', every: 5, perDecade: 0 })).subscribe((e) => seen.push(e));
    for (let s = 0; s < 10; s++) src.next(snap(s, 1, { lr: 0.25, lambdaMax }));
    expect(calls).toBe(2); // steps 0 and 5
    expect(seen.map((e) => [e.step, e.lambdaMax, e.stability])).toEqual([[0, 4, 0.5], [5, 4, 0.5]]);
    src.next(snap(10, 1, { lambdaMax })); // no lr (e.g. Adam): λ_max but no ratio
    expect(seen.at(-1)!.stability).toBeNull();
    src.complete();
  });

  it('passes errors through, stops on unsubscribe, and emits nothing for an empty source', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<HeadSnapshot>('|').pipe(margins({ runId: 'r' }))).toBe('|');
      expectObservable(cold('a#', { a: snap(0, 1) }).pipe(margins({ runId: 'r' }), map((e) => e.step))).toBe('a#', { a: 0 });
    });
    const src = new Subject<HeadSnapshot>();
    const seen: MarginsEvent[] = [];
    const sub = src.pipe(margins({ runId: 'r', every: 1 })).subscribe((e) => seen.push(e));
    src.next(snap(0, 1));
    sub.unsubscribe();
    src.next(snap(1, 1));
    expect(seen.length).toBe(1);
    expect(src.observed).toBe(false);
  });

  it('lists at most maxTokens + worst rows of a large head', () => {
    const n = 200, m = 3;
    const scores = Float32Array.from({ length: n * m }, (_, i) => Math.sin(i));
    const p = Array.from({ length: n }, (_, i) => 1 / (i + 1));
    const seen: MarginsEvent[] = [];
    const src = new Subject<HeadSnapshot>();
    src.pipe(margins({ runId: 'r' })).subscribe((e) => seen.push(e));
    src.next({ step: 0, n, m, scores, targets: new Array(n).fill(0), weights: p });
    expect(seen[0].tokens.length).toBe(80);
    expect(seen[0].tokens.slice(0, 64).map((t) => t.token)).toEqual(Array.from({ length: 64 }, (_, i) => i));
  });
});
