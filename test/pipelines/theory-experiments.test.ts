/** The catapult experiment's phase rule and edge finder, and the MNIST digits the theory experiments read. */
import { describe, expect, it } from 'vitest';
import { catapultPhase, mnistDigit, phaseEdge, type Phase } from '../../pipelines/experiments/theory.ts';

describe('catapult phases', () => {
  it('lazy: the loss never rises over its running minimum; catapult: it rises and comes back; divergent: it does not', () => {
    expect(catapultPhase([1, 0.5, 0.3, 0.2], false)).toMatchObject({ phase: 'lazy', rise: 1, maxLoss: 1, finalLoss: 0.2 });
    // a rise of 0.5% over the running minimum is float noise, not a spike
    expect(catapultPhase([1, 0.5, 0.5025, 0.1], false).phase).toBe('lazy');
    const c = catapultPhase([1, 3, 6, 0.5, 0.01], false);
    expect(c).toMatchObject({ phase: 'catapult', maxLoss: 6, finalLoss: 0.01 });
    expect(c.rise).toBe(6);
    // a late spike counts against the running minimum, not the start
    expect(catapultPhase([1, 0.1, 0.3, 0.05], false)).toMatchObject({ phase: 'catapult', maxLoss: 1 });
    expect(catapultPhase([1, 5, 50, Number.POSITIVE_INFINITY], true)).toMatchObject({ phase: 'divergent', maxLoss: 50 });
    expect(catapultPhase([1, 5, 2, 1.5], false).phase).toBe('divergent'); // finite but no lower than at the start
    expect(catapultPhase([1, 0.5, Number.NaN], false).phase).toBe('divergent');
  });

  it('finds the edges between neighbouring ratios, ignoring an out-of-order phase above the edge', () => {
    const runs: { r: number; phase: Phase }[] = [
      { r: 0.5, phase: 'lazy' }, { r: 0.9, phase: 'lazy' }, { r: 1.1, phase: 'catapult' }, { r: 1.5, phase: 'catapult' },
      { r: 2, phase: 'divergent' }, { r: 2.5, phase: 'lazy' }, { r: 4, phase: 'divergent' },
    ];
    expect(phaseEdge(runs, (p) => p === 'lazy')).toEqual({ lo: 0.9, hi: 1.1 });
    expect(phaseEdge(runs, (p) => p !== 'divergent')).toEqual({ lo: 1.5, hi: 2 });
    expect(phaseEdge(runs.slice(0, 4), (p) => p !== 'divergent')).toEqual({ lo: 1.5, hi: null });
    expect(phaseEdge(runs.slice(4, 5), (p) => p !== 'divergent')).toEqual({ lo: null, hi: 2 });
  });
});

describe('MNIST digits from the mnist package', () => {
  it('are 28×28 bytes, the same on every call, different across classes', () => {
    const a = mnistDigit(3, 0), b = mnistDigit(3, 0), c = mnistDigit(7, 0);
    expect(a.length).toBe(784);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(Math.max(...a)).toBe(255);
    expect(() => mnistDigit(3, 5000)).toThrow(/digits of class 3/);
  });
});
