import { describe, expect, it } from 'vitest';
import { digits, MNIST_DIM, mnistCount, mnistFile } from '../../sources/mnist.ts';

describe('MNIST source (the mnist package, offline)', () => {
  it('holds about 1,000 digits of every class, in files inside the package', () => {
    for (let d = 0; d <= 9; d++) {
      expect(mnistFile(d)).toMatch(/mnist[/\\]src[/\\]digits[/\\]\d\.json$/);
      expect(mnistCount(d)).toBeGreaterThan(800);
      expect(mnistCount(d)).toBeLessThan(1300);
    }
  });

  it('gives 28×28 gray digits in [0, 1], class by class, labelled, and the same ones every time', () => {
    const a = digits([3, 0, 9], 2, 5);
    expect(a.map((x) => [x.label, x.index])).toEqual([[3, 5], [3, 6], [0, 5], [0, 6], [9, 5], [9, 6]]);
    for (const x of a) {
      expect(x.pixels).toBeInstanceOf(Float32Array);
      expect(x.pixels.length).toBe(MNIST_DIM);
      expect(Math.min(...x.pixels)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...x.pixels)).toBeLessThanOrEqual(1);
      // a handwritten stroke: some ink, mostly background
      const ink = x.pixels.filter((v) => v > 0.5).length;
      expect(ink).toBeGreaterThan(20);
      expect(ink).toBeLessThan(400);
    }
    const b = digits([3, 0, 9], 2, 5);
    expect(b.map((x) => Array.from(x.pixels))).toEqual(a.map((x) => Array.from(x.pixels)));
    // the offset moves along the class; different positions are different digits
    expect(Array.from(digits([3], 1, 6)[0].pixels)).toEqual(Array.from(a[1].pixels));
    expect(Array.from(a[0].pixels)).not.toEqual(Array.from(a[1].pixels));
    // a copy: changing it does not change the next read
    a[0].pixels.fill(0);
    expect(Math.max(...digits([3], 1, 5)[0].pixels)).toBeGreaterThan(0);
  });

  it('refuses what the package does not hold, naming the limit', () => {
    expect(() => digits([10], 1)).toThrow(/classes are 0 to 9/);
    expect(() => digits([1], -1)).toThrow(/whole number/);
    expect(() => digits([1], 1, 0.5)).toThrow(/offset/);
    const n = mnistCount(1);
    expect(() => digits([1], 2, n - 1)).toThrow(new RegExp(`holds ${n} digits of class 1; ask for at most 1`));
    expect(digits([], 3)).toEqual([]);
    expect(digits([2], 0)).toEqual([]);
  });
});
