/**
 * Prototype for issue 9 part 2 — the recommended default, as one call:
 *
 *   const model = createFcModel({ kind: 'fc', dim: d, width: 1024, depth: 2, activation: 'relu', bias: true, init: 'torch', seed });
 *   const fit = contractiveFit(model, makeDataset('cycle', [frames]));   // no gradient steps
 *   // fit.mse ≈ 1e-14 (float32 forward), the cycle is an attractor (check with certifyCycle / runRecall)
 *
 * 1. first layer sampled from the data (bench/sampled-init.ts: each unit's kink between a pair of
 *    frames; 20 % consecutive pairs, 80 % random pairs), hidden layers 2…D keep the torch init;
 * 2. output layer = the exact interpolant with the smallest Σ_i ‖J_f(x_i)‖_F² (+ 1e-3 ridge), solved in
 *    float64 with three float32 refinement passes (bench/lsq-head.ts contractiveOutputLayer).
 * Requirements: FC, relu (any activation works mechanically; only relu was measured), bias on,
 * depth ≥ 2 (depth 1 stored stable cycles but noise fell into spurious fixed points), width + 1 ≥ n.
 * Afterwards Adam may continue from this state (the train loop then starts at MSE ~1e-14).
 */
import type { Model } from '../engine/model.ts';
import type { Dataset } from '../engine/objectives.ts';
import { contractiveOutputLayer, type ContractiveResult } from './lsq-head.ts';
import { sampleFirstLayer } from './sampled-init.ts';

export interface ContractiveFitOptions {
  /** Fraction of first-layer units placed between consecutive frames (default 0.2). */
  adjacent?: number;
  /** Ridge on ‖W_out‖² relative to tr(C)/W (default 1e-3; 1e-1 was measured worse). */
  mu?: number;
  /** Seed of the pair sampling (default model seed + 10). */
  seed?: number;
}

export interface ContractiveFitResult extends ContractiveResult {
  /** Final full-data MSE (float32 forward). */
  finalMse: number;
  seconds: number;
}

export function contractiveFit(model: Model, data: Dataset, o: ContractiveFitOptions = {}): ContractiveFitResult {
  if (model.spec.kind !== 'fc' || !model.spec.bias) throw new Error('contractiveFit needs an FC net with biases');
  if (model.spec.width + 1 < data.n) throw new Error(`width ${model.spec.width} is too small to interpolate ${data.n} samples exactly (needs width ≥ n − 1)`);
  const t0 = performance.now();
  sampleFirstLayer(model, data, { adjacent: o.adjacent ?? 0.2, seed: o.seed ?? model.spec.seed + 10 });
  const r = contractiveOutputLayer(model, data, { mu: o.mu ?? 1e-3 });
  return { ...r, finalMse: r.mse[r.mse.length - 1], seconds: (performance.now() - t0) / 1000 };
}
