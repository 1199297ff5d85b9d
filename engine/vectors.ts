/** Small float32 vector helpers shared by recall and the pipelines (plain loops over one vector). */
export function norm(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

export function dist(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}

/**
 * Index and distance of the candidate nearest to x. A NaN distance (a NaN in x or the candidate)
 * never wins; an infinite one does when nothing is nearer. i is −1 only when there is no candidate
 * or every distance is NaN, so callers that index with i must check it.
 */
export function nearest(candidates: Float32Array[], x: Float32Array): { i: number; dist: number } {
  let best = -1, bd = Infinity;
  candidates.forEach((c, i) => {
    const d = dist(c, x);
    if (!Number.isNaN(d) && (best < 0 || d < bd)) [best, bd] = [i, d];
  });
  return { i: best, dist: best < 0 ? Number.NaN : bd };
}

export function unitVector(x: Float32Array): Float32Array {
  const r = 1 / Math.max(norm(x), 1e-12);
  return x.map((v) => v * r);
}

/** PSNR of x against ref for signals whose full range is `peak` (1 for [0,1] pixels, 2 for [−1,1] audio). */
export function psnr(x: Float32Array, ref: Float32Array, peak = 1): number {
  const mse = dist(x, ref) ** 2 / x.length;
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}

/** A sample's identity at 8 bits: samples in [−1, 1] (or [0, 1]) with equal keys are equal once quantized, so no map can tell them apart. */
export function quantizedKey(v: Float32Array): string {
  const q = Buffer.alloc(v.length);
  for (let k = 0; k < v.length; k++) q[k] = Math.round(Math.min(Math.max(v[k], -1), 1) * 127.5 + 127.5);
  return q.toString('base64');
}
