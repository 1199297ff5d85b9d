/**
 * The dashboard's view of a recall: a small picture of the recalled state (≤ 64×64, 8-bit, base64)
 * or, for audio, a min/max waveform strip and its correlation with the original, as a `preview`
 * event small enough for events.jsonl; and "recall now" on an operator's command during training.
 */
import { Observable, concat, connect, exhaustMap, filter, ignoreElements, merge, of, takeUntil } from 'rxjs';
import type { ControlCommand, EventBody, PreviewEvent } from '../events.ts';
import type { RecallOutput } from '../operators/recall.ts';
import type { MediaShape } from './inputs.ts';

export const PREVIEW_MAX = 64;
export const WAVEFORM_BUCKETS = 128;

export function previewOf(shape: MediaShape, out: RecallOutput, originals: Float32Array[]): EventBody<PreviewEvent> {
  const x = out.states[0];
  const f = out.event.frames.find((fr) => fr.state === 0) ?? out.event.frames[0];
  const frame = f ? f.index : -1;
  const psnr = f && Number.isFinite(f.psnr) ? Math.round(f.psnr * 10) / 10 : undefined;
  if (!x) {
    return shape.kind === 'audio'
      ? { kind: 'preview', media: 'audio', frame: -1, width: 0, height: 1, channels: 1, waveform: [] }
      : { kind: 'preview', media: 'image', frame: -1, width: 0, height: 0, channels: 1, pixels: '' };
  }
  if (shape.kind === 'audio') {
    const orig = frame >= 0 ? originals[frame] : undefined;
    return {
      kind: 'preview', media: 'audio', frame, width: Math.min(WAVEFORM_BUCKETS, x.length), height: 1, channels: 1,
      waveform: waveform(x, WAVEFORM_BUCKETS), ...(orig ? { correlation: Math.round(correlation(x, orig) * 1e4) / 1e4 } : {}),
      ...(psnr !== undefined ? { psnr } : {}),
    };
  }
  const { width, height, channels } = shape;
  const k = Math.max(1, Math.ceil(Math.max(width, height) / PREVIEW_MAX));
  const w = Math.floor(width / k), h = Math.floor(height / k);
  const bytes = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) sum += x[((y * k + dy) * width + xx * k + dx) * channels + c];
        bytes[(y * w + xx) * channels + c] = Math.round(Math.min(Math.max(sum / (k * k), 0), 1) * 255);
      }
    }
  }
  return { kind: 'preview', media: 'image', frame, width: w, height: h, channels, pixels: bytes.toString('base64'), ...(psnr !== undefined ? { psnr } : {}) };
}

/** Per bucket [min, max] of x, rounded to 3 decimals. */
export function waveform(x: Float32Array, buckets: number): [number, number][] {
  const n = Math.min(buckets, x.length);
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return Array.from({ length: n }, (_, b) => {
    const from = Math.floor((b * x.length) / n), to = Math.floor(((b + 1) * x.length) / n);
    let lo = Infinity, hi = -Infinity;
    for (let i = from; i < to; i++) {
      lo = Math.min(lo, x[i]);
      hi = Math.max(hi, x[i]);
    }
    return [r(lo), r(hi)];
  });
}

export function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i]), (mb += b[i]);
  ma /= n;
  mb /= n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * Training with "recall now": each `recall` command on `control` runs `recallNow()` alongside the
 * training stream (one at a time; commands during a recall are dropped), until training completes.
 *
 *   training: --s-s-s-s-s-s-E|
 *   control:  ----r-----------
 *   result:   --s-s-s-R-s-s-E|   (R = the recall's events)
 */
export function withRecallNow<T>(training$: Observable<T>, control: Observable<ControlCommand> | undefined, recallNow: () => Observable<T>): Observable<T> {
  if (!control) return training$;
  return training$.pipe(
    connect((shared) => {
      const done$ = concat(shared.pipe(ignoreElements()), of(0));
      return merge(shared, control.pipe(filter((c) => c === 'recall'), exhaustMap(recallNow), takeUntil(done$)));
    }),
  );
}
