/** Weight initializers of docs/math.md §2. Weights are stored [fanIn, fanOut] (row-vector convention). */
import { Rng } from './random.ts';

export type InitSpec =
  | { kind: 'torch' }
  | { kind: 'uniform'; a: number }
  | { kind: 'rank1'; u0: number; v0: number };

/** Parse `torch`, `uniform:a` or `rank1:u0,v0`. */
export function parseInit(s: string): InitSpec {
  if (s === 'torch') return { kind: 'torch' };
  const u = /^uniform:([0-9.eE+-]+)$/.exec(s);
  if (u && Number(u[1]) > 0) return { kind: 'uniform', a: Number(u[1]) };
  const r = /^rank1:([0-9.eE+-]+),([0-9.eE+-]+)$/.exec(s);
  if (r && Number.isFinite(Number(r[1])) && Number.isFinite(Number(r[2]))) {
    return { kind: 'rank1', u0: Number(r[1]), v0: Number(r[2]) };
  }
  throw new Error(`unknown initializer '${s}'; use torch, uniform:A (A > 0) or rank1:U0,V0`);
}

export function formatInit(i: InitSpec): string {
  return i.kind === 'torch' ? 'torch' : i.kind === 'uniform' ? `uniform:${i.a}` : `rank1:${i.u0},${i.v0}`;
}

export interface LayerInit {
  w: Float32Array;
  b: Float32Array | null;
}

/**
 * Initial values for layers of sizes dims[0] → dims[1] → … ; `x` is the unit vector the rank1
 * initializer is built from (required for rank1).
 */
export function initLayers(init: InitSpec, dims: number[], bias: boolean, rng: Rng, x?: Float32Array): LayerInit[] {
  const layers: LayerInit[] = [];
  if (init.kind === 'rank1') {
    if (dims.length !== 3) throw new Error('rank1 initializer needs a network with exactly one hidden layer (--depth 1)');
    if (!x || x.length !== dims[0]) throw new Error('rank1 initializer needs a unit vector x of the input dimension');
    const [d, w] = dims;
    // f(z) = A φ(B z) with B = v0·1·xᵀ (W×d) and A = x·(u0·1)ᵀ (d×W); stored transposed.
    const w1 = new Float32Array(d * w), w2 = new Float32Array(w * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < w; j++) w1[i * w + j] = init.v0 * x[i];
    for (let j = 0; j < w; j++) for (let i = 0; i < d; i++) w2[j * d + i] = init.u0 * x[i];
    return [
      { w: w1, b: bias ? new Float32Array(w) : null },
      { w: w2, b: bias ? new Float32Array(d) : null },
    ];
  }
  for (let l = 0; l + 1 < dims.length; l++) {
    const fanIn = dims[l], fanOut = dims[l + 1];
    const a = init.kind === 'torch' ? 1 / Math.sqrt(fanIn) : init.a;
    layers.push({ w: rng.uniformArray(fanIn * fanOut, -a, a), b: bias ? rng.uniformArray(fanOut, -a, a) : null });
  }
  return layers;
}
