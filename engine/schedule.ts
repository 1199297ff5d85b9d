/**
 * Learning-rate schedules as pure functions of the step: `lrAt(s, t)` is the rate of update t
 * (0-based, counted from the start of the run, so a resumed run continues the same curve).
 *
 *   warmup   t < w:   lr·(t + 1)/w                       (linear, reaching lr at t = w − 1)
 *   constant t ≥ w:   lr
 *   step     t ≥ w:   lr·factor^⌊(t − w)/every⌋
 *   cosine   t ≥ w:   min + (lr − min)·(1 + cos(π·min(t − w, T)/T))/2,  T = steps − w
 *                     (lr at the end of the warmup, min from step `steps` on)
 */
import { EngramError } from '../errors.ts';

export type LrSchedule =
  | { kind: 'constant'; lr: number; warmup?: number }
  | { kind: 'step'; lr: number; every: number; factor: number; warmup?: number }
  | { kind: 'cosine'; lr: number; steps: number; minLr?: number; warmup?: number };

export function lrAt(s: LrSchedule, t: number): number {
  const w = s.warmup ?? 0;
  if (t < w) return (s.lr * (t + 1)) / w;
  const u = t - w;
  switch (s.kind) {
    case 'constant':
      return s.lr;
    case 'step':
      return s.lr * s.factor ** Math.floor(u / s.every);
    case 'cosine': {
      const min = s.minLr ?? 0;
      const span = Math.max(1, s.steps - w);
      return min + ((s.lr - min) * (1 + Math.cos((Math.PI * Math.min(u, span)) / span))) / 2;
    }
  }
}

/** Throws a usage error naming the bad field (checked before training starts). */
export function checkLrSchedule(s: LrSchedule): void {
  const bad = (what: string) => new EngramError('E_BAD_ARGUMENT', `learning-rate schedule ${s.kind}: ${what}`);
  if (!(s.lr > 0)) throw bad(`lr must be > 0 (got ${s.lr})`);
  if (s.warmup !== undefined && !(Number.isInteger(s.warmup) && s.warmup >= 0)) throw bad(`warmup must be a whole number ≥ 0 (got ${s.warmup})`);
  if (s.kind === 'step') {
    if (!(Number.isInteger(s.every) && s.every >= 1)) throw bad(`every must be a whole number ≥ 1 (got ${s.every})`);
    if (!(s.factor > 0)) throw bad(`factor must be > 0 (got ${s.factor})`);
  }
  if (s.kind === 'cosine') {
    if (!(Number.isInteger(s.steps) && s.steps >= 1)) throw bad(`steps must be a whole number ≥ 1 (got ${s.steps})`);
    if (s.minLr !== undefined && !(s.minLr >= 0 && s.minLr <= s.lr)) throw bad(`minLr must lie in [0, lr] (got ${s.minLr})`);
  }
}
