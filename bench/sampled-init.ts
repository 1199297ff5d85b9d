/**
 * Data-sampled first layer (after "sampled networks", Bolager et al. 2023, SWIM): each hidden unit k
 * takes a pair of training inputs (x_i, x_j) and puts its kink/transition between them:
 *
 *   w_k = s·(x_j − x_i)/‖x_j − x_i‖²,   b_k = −⟨w_k, x_i⟩ − s·offset
 *
 * so the unit's pre-activation is −s·offset at x_i and s·(1 − offset) at x_j. Pairs are consecutive
 * frames (i, i+1) for a fraction `adjacent` of the units (steps along the clip) and random pairs
 * otherwise. Hidden layers after the first keep their random init; the output layer is then solved.
 */
import type { Model } from '../engine/model.ts';
import type { Dataset } from '../engine/objectives.ts';
import { Rng } from '../engine/random.ts';

export interface SampleOptions { scale?: number; offset?: number; adjacent?: number; seed?: number }

export function sampleFirstLayer(model: Model, data: Dataset, o: SampleOptions = {}): void {
  const { dim: d, width: w } = model.spec;
  const n = data.n, X = data.inputs;
  const rng = new Rng(o.seed ?? 11);
  const s = o.scale ?? 1, off = o.offset ?? 0.5, adj = o.adjacent ?? 0.5;
  const ws = model.weights();
  const W0 = ws.find((x) => x.name === 'W0')!.data; // [d, W]
  const b0 = ws.find((x) => x.name === 'b0')?.data;
  for (let k = 0; k < w; k++) {
    const i = Math.floor(rng.next() * n);
    let j = rng.next() < adj ? (i + 1) % n : Math.floor(rng.next() * n);
    if (j === i) j = (i + 1) % n;
    let nn = 0, dot = 0;
    for (let t = 0; t < d; t++) { const e = X[j * d + t] - X[i * d + t]; nn += e * e; }
    for (let t = 0; t < d; t++) {
      const wk = (s * (X[j * d + t] - X[i * d + t])) / nn;
      W0[t * w + k] = wk;
      dot += wk * X[i * d + t];
    }
    if (b0) b0[k] = -dot - s * off;
  }
  model.setWeights(ws);
}
