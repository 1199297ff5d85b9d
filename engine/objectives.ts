/** Training pairs for the objectives of docs/math.md §3.1. Sequences are lists of equal-length vectors. */
export const OBJECTIVES = ['autoencode', 'cycle', 'multi-cycle'] as const;
export type Objective = (typeof OBJECTIVES)[number];

export interface Dataset {
  objective: Objective;
  /** Vector dimension d. */
  dim: number;
  /** Number of training pairs n. */
  n: number;
  /** Inputs x_i packed [n, d]. */
  inputs: Float32Array;
  /** Targets packed [n, d]: x_i (autoencode) or the cyclic successor of x_i. */
  targets: Float32Array;
  /** Lengths of the sequences that were concatenated (one entry unless multi-cycle). */
  sequenceLengths: number[];
}

export function isObjective(s: string): s is Objective {
  return (OBJECTIVES as readonly string[]).includes(s);
}

/** Consecutive runs of `items`, one per length (a dataset's rows or points back into their sequences). */
export function splitByLengths<T>(items: readonly T[], lengths: readonly number[]): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (const len of lengths) {
    out.push(items.slice(at, at + len));
    at += len;
  }
  return out;
}

/**
 * autoencode: f(x_i) = x_i; cycle: f(x_i) = x_{(i mod n)+1}; multi-cycle: each sequence s cycles
 * on its own, f(x_s^j) = x_s^{(j mod n_s)+1}. `cycle` with several sequences is an error.
 */
export function makeDataset(objective: Objective, sequences: Float32Array[][]): Dataset {
  if (sequences.length === 0 || sequences.some((s) => s.length === 0)) {
    throw new Error('cannot build a dataset from an empty sequence');
  }
  if (objective !== 'multi-cycle' && sequences.length > 1) {
    throw new Error(`objective '${objective}' takes one sequence; use multi-cycle for ${sequences.length}`);
  }
  const dim = sequences[0][0].length;
  for (const s of sequences) {
    for (const v of s) {
      if (v.length !== dim) throw new Error(`all vectors must have the same length (${dim}); got ${v.length}`);
    }
  }
  const n = sequences.reduce((a, s) => a + s.length, 0);
  const inputs = new Float32Array(n * dim), targets = new Float32Array(n * dim);
  let row = 0;
  for (const s of sequences) {
    s.forEach((v, j) => {
      inputs.set(v, (row + j) * dim);
      targets.set(objective === 'autoencode' ? v : s[(j + 1) % s.length], (row + j) * dim);
    });
    row += s.length;
  }
  return { objective, dim, n, inputs, targets, sequenceLengths: sequences.map((s) => s.length) };
}
