import { Subject, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ControlCommand, EventBody, PreviewEvent, RecallEvent } from '../../events.ts';
import type { RecallOutput } from '../../operators/recall.ts';
import { correlation, previewOf, withRecallNow } from '../../pipelines/preview.ts';

/** The preview of one media kind (the test fails if it is the other). */
function as<M extends PreviewEvent['media']>(p: EventBody<PreviewEvent>, media: M): Extract<EventBody<PreviewEvent>, { media: M }> {
  expect(p.media).toBe(media);
  return p as Extract<EventBody<PreviewEvent>, { media: M }>;
}

const recallEvent = (frames: { index: number; state: number; psnr: number }[]) =>
  ({ kind: 'recall', frames: frames.map((f) => ({ ...f, matched: true, stored: true, l2: 0, l2Stored: 0 })) }) as unknown as RecallEvent;

describe('previewOf', () => {
  it('downsamples a frame to at most 64×64 bytes (box average), base64', () => {
    const w = 128, h = 96, x = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let i = 0; i < w; i++) x[y * w + i] = i < w / 2 ? 0 : (i + y) % 2; // left black, right 50% gray on average
    const out: RecallOutput = { event: recallEvent([{ index: 5, state: 0, psnr: 33.333 }]), states: [x], stored: [], starts: [] };
    const p = as(previewOf({ kind: 'video', width: w, height: h, channels: 1, fps: 12 }, out, []), 'image');
    expect(p).toMatchObject({ kind: 'preview', media: 'image', frame: 5, width: 64, height: 48, channels: 1, psnr: 33.3 });
    const px = Buffer.from(p.pixels, 'base64');
    expect(px.length).toBe(64 * 48);
    expect(px[0]).toBe(0);
    expect(px[63]).toBe(128); // round(0.5 · 255)
    expect(JSON.stringify(p).length).toBeLessThan(4400); // one line of events.jsonl per recall
  });

  it('keeps small frames as they are', () => {
    const x = Float32Array.from({ length: 8 * 4 * 3 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const p = as(previewOf({ kind: 'images', width: 8, height: 4, channels: 3, fps: 1 }, { event: recallEvent([]), states: [x], stored: [], starts: [] }, []), 'image');
    expect(p).toMatchObject({ width: 8, height: 4, channels: 3, frame: -1 });
    expect([...Buffer.from(p.pixels, 'base64').subarray(0, 3)]).toEqual([255, 0, 0]);
  });

  it('gives audio a min/max waveform and its correlation with the original', () => {
    const n = 4000;
    const orig = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 20));
    const rec = Float32Array.from(orig, (v) => 0.5 * v);
    const out: RecallOutput = { event: recallEvent([{ index: 0, state: 0, psnr: 12 }]), states: [rec], stored: [], starts: [] };
    const p = as(previewOf({ kind: 'audio', rate: 4000, samples: n }, out, [orig]), 'audio');
    expect(p.waveform).toHaveLength(128);
    expect(p.waveform[10][0]).toBeLessThanOrEqual(p.waveform[10][1]);
    expect(Math.max(...p.waveform.map((b) => b[1]))).toBeCloseTo(0.5, 2);
    expect(p.correlation).toBeCloseTo(1, 4);
    expect(correlation(orig, Float32Array.from(orig, (v) => -v))).toBeCloseTo(-1, 6);
  });

  it('an empty preview still carries its media data (no pixels, no buckets) when recall reached no state', () => {
    const none: RecallOutput = { event: recallEvent([]), states: [], stored: [], starts: [] };
    expect(previewOf({ kind: 'video', width: 8, height: 8, channels: 1, fps: 1 }, none, [])).toEqual({ kind: 'preview', media: 'image', frame: -1, width: 0, height: 0, channels: 1, pixels: '' });
    expect(previewOf({ kind: 'audio', rate: 8000, samples: 8000 }, none, [])).toEqual({ kind: 'preview', media: 'audio', frame: -1, width: 0, height: 1, channels: 1, waveform: [] });
  });
});

describe('withRecallNow', () => {
  it('runs a recall per recall command while training runs, one at a time, and stops with training', () => {
    const training = new Subject<string>(), control = new Subject<ControlCommand>();
    const recalls: Subject<string>[] = [];
    const got: string[] = [];
    let done = false;
    withRecallNow<string>(training, control, () => {
      const r = new Subject<string>();
      recalls.push(r);
      return r as Observable<string>;
    }).subscribe({ next: (x) => got.push(x), complete: () => (done = true) });
    training.next('s1');
    control.next('pause'); // not ours
    control.next('recall');
    control.next('recall'); // dropped: one is running
    expect(recalls).toHaveLength(1);
    training.next('s2');
    recalls[0].next('R');
    recalls[0].complete();
    control.next('recall');
    expect(recalls).toHaveLength(2);
    training.next('E');
    training.complete(); // the running recall is cut short with training
    expect(recalls[1].observed).toBe(false);
    expect(done).toBe(true);
    expect(got).toEqual(['s1', 's2', 'R', 'E']);
  });

  it('is the training stream itself without a control stream', () => {
    const t = new Subject<number>();
    expect(withRecallNow(t, undefined, () => t)).toBe(t);
  });
});
