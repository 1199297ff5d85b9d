import { describe, expect, it } from 'vitest';
import { checkLrSchedule, lrAt, type LrSchedule } from '../../engine/schedule.ts';

const at = (s: LrSchedule, ts: number[]) => ts.map((t) => lrAt(s, t));

describe('learning-rate schedules', () => {
  it('constant: lr at every step', () => {
    expect(at({ kind: 'constant', lr: 0.1 }, [0, 1, 10, 1e6])).toEqual([0.1, 0.1, 0.1, 0.1]);
  });

  it('warmup: linear from lr/w at step 0 to lr at step w − 1, then the schedule', () => {
    const s: LrSchedule = { kind: 'constant', lr: 1, warmup: 4 };
    expect(at(s, [0, 1, 2, 3, 4, 100])).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
  });

  it('step decay: lr·factor^⌊(t − warmup)/every⌋', () => {
    const s: LrSchedule = { kind: 'step', lr: 1, every: 10, factor: 0.5 };
    expect(at(s, [0, 9, 10, 19, 20, 35])).toEqual([1, 1, 0.5, 0.5, 0.25, 0.125]);
    const w: LrSchedule = { ...s, warmup: 2 };
    expect(at(w, [0, 1, 2, 11, 12])).toEqual([0.5, 1, 1, 1, 0.5]);
  });

  it('cosine: lr after the warmup, half-way down at the middle, minLr at the end and after', () => {
    const s: LrSchedule = { kind: 'cosine', lr: 1, steps: 100, minLr: 0.1 };
    expect(lrAt(s, 0)).toBe(1);
    expect(lrAt(s, 50)).toBeCloseTo(0.55, 12);
    expect(lrAt(s, 25)).toBeCloseTo(0.1 + 0.9 * (1 + Math.SQRT1_2) / 2, 12);
    expect(lrAt(s, 100)).toBeCloseTo(0.1, 12);
    expect(lrAt(s, 1000)).toBeCloseTo(0.1, 12);
    const w: LrSchedule = { kind: 'cosine', lr: 2, steps: 110, warmup: 10 };
    expect(at(w, [0, 9])).toEqual([0.2, 2]);
    expect(lrAt(w, 10)).toBe(2);
    expect(lrAt(w, 60)).toBeCloseTo(1, 12);
    expect(lrAt(w, 110)).toBeCloseTo(0, 12);
    // monotone non-increasing after the warmup
    const xs = Array.from({ length: 101 }, (_, i) => lrAt(w, 10 + i));
    expect(xs.every((x, i) => i === 0 || x <= xs[i - 1])).toBe(true);
  });

  it('is a pure function of the step (a resumed run continues the same curve)', () => {
    const s: LrSchedule = { kind: 'cosine', lr: 1e-3, steps: 500, warmup: 20 };
    expect(at(s, [0, 7, 300, 499])).toEqual(at(s, [0, 7, 300, 499]));
  });

  it.each([
    [{ kind: 'constant', lr: 0 }, /lr must be > 0/],
    [{ kind: 'constant', lr: 1, warmup: 1.5 }, /warmup/],
    [{ kind: 'step', lr: 1, every: 0, factor: 0.5 }, /every/],
    [{ kind: 'step', lr: 1, every: 5, factor: 0 }, /factor/],
    [{ kind: 'cosine', lr: 1, steps: 0 }, /steps/],
    [{ kind: 'cosine', lr: 1, steps: 10, minLr: 2 }, /minLr/],
  ] as [LrSchedule, RegExp][])('rejects %j with a usage error', (s, msg) => {
    expect(() => checkLrSchedule(s)).toThrow(msg);
  });
});
