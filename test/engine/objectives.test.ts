import { describe, expect, it } from 'vitest';
import { OBJECTIVES, isObjective, makeDataset, type Dataset } from '../../engine/objectives.ts';

const vec = (...v: number[]) => Float32Array.from(v);
/** Row i of a packed [n, d] array. */
const row = (a: Float32Array, d: number, i: number) => Array.from(a.subarray(i * d, (i + 1) * d));
const rows = (ds: Dataset, which: 'inputs' | 'targets') => Array.from({ length: ds.n }, (_, i) => row(ds[which], ds.dim, i));

describe('makeDataset', () => {
  const seq = [vec(1, 2, 3), vec(4, 5, 6), vec(7, 8, 9), vec(10, 11, 12)];

  it('autoencode: targets are the inputs', () => {
    const ds = makeDataset('autoencode', [seq]);
    expect(ds).toMatchObject({ objective: 'autoencode', dim: 3, n: 4, sequenceLengths: [4] });
    expect(rows(ds, 'inputs')).toEqual(seq.map((v) => Array.from(v)));
    expect(rows(ds, 'targets')).toEqual(seq.map((v) => Array.from(v)));
    expect(ds.inputs).toHaveLength(12);
  });

  it('cycle: f(x_i) = x_{(i mod n)+1}, the last wraps to the first', () => {
    const ds = makeDataset('cycle', [seq]);
    expect(ds).toMatchObject({ objective: 'cycle', dim: 3, n: 4, sequenceLengths: [4] });
    expect(rows(ds, 'inputs')).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);
    expect(rows(ds, 'targets')).toEqual([[4, 5, 6], [7, 8, 9], [10, 11, 12], [1, 2, 3]]);
  });

  it('cycle of length 1 maps the vector to itself', () => {
    const ds = makeDataset('cycle', [[vec(0.5, -0.5)]]);
    expect(rows(ds, 'targets')).toEqual([[0.5, -0.5]]);
  });

  it('multi-cycle: each sequence cycles on its own', () => {
    const a = [vec(1, 1), vec(2, 2), vec(3, 3)];
    const b = [vec(10, 10), vec(20, 20)];
    const c = [vec(-1, -1)];
    const ds = makeDataset('multi-cycle', [a, b, c]);
    expect(ds).toMatchObject({ objective: 'multi-cycle', dim: 2, n: 6, sequenceLengths: [3, 2, 1] });
    expect(rows(ds, 'inputs')).toEqual([[1, 1], [2, 2], [3, 3], [10, 10], [20, 20], [-1, -1]]);
    expect(rows(ds, 'targets')).toEqual([[2, 2], [3, 3], [1, 1], [20, 20], [10, 10], [-1, -1]]);
  });

  it('multi-cycle with one sequence equals cycle', () => {
    const m = makeDataset('multi-cycle', [seq]), c = makeDataset('cycle', [seq]);
    expect(Array.from(m.targets)).toEqual(Array.from(c.targets));
    expect(Array.from(m.inputs)).toEqual(Array.from(c.inputs));
  });

  it('copies the vectors (later edits of the sources do not change the dataset)', () => {
    const s = [vec(1, 2), vec(3, 4)];
    const ds = makeDataset('cycle', [s]);
    s[0][0] = 99;
    expect(Array.from(ds.inputs)).toEqual([1, 2, 3, 4]);
    expect(Array.from(ds.targets)).toEqual([3, 4, 1, 2]);
  });

  it('rejects empty input', () => {
    for (const o of OBJECTIVES) {
      expect(() => makeDataset(o, [])).toThrow(/empty/);
      expect(() => makeDataset(o, [[]])).toThrow(/empty/);
    }
    expect(() => makeDataset('multi-cycle', [[vec(1)], []])).toThrow(/empty/);
  });

  it('rejects vectors of mismatched lengths, within and across sequences', () => {
    expect(() => makeDataset('autoencode', [[vec(1, 2), vec(1, 2, 3)]])).toThrow(/same length \(2\); got 3/);
    expect(() => makeDataset('cycle', [[vec(1, 2, 3), vec(1)]])).toThrow(/same length/);
    expect(() => makeDataset('multi-cycle', [[vec(1, 2)], [vec(1, 2, 3)]])).toThrow(/same length/);
  });

  it('rejects several sequences unless multi-cycle', () => {
    expect(() => makeDataset('cycle', [[vec(1)], [vec(2)]])).toThrow(/'cycle' takes one sequence; use multi-cycle for 2/);
    expect(() => makeDataset('autoencode', [[vec(1)], [vec(2)]])).toThrow(/takes one sequence/);
  });

  it('isObjective recognises exactly the three objectives', () => {
    expect(OBJECTIVES).toEqual(['autoencode', 'cycle', 'multi-cycle']);
    for (const o of OBJECTIVES) expect(isObjective(o)).toBe(true);
    for (const o of ['Cycle', 'multicycle', '', 'reverse']) expect(isObjective(o)).toBe(false);
  });
});
