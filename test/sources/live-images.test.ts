import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, type Subscription } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { EngramError } from '../../errors.ts';
import { liveImages$, type LiveImageItem } from '../../sources/live.ts';
import { tempDirs, writeGray } from '../fixtures/images.ts';
import { ffmpegChildren, noFfmpegChildren } from '../fixtures/processes.ts';

const { freshDir } = tempDirs('engram-live-images-');

const summary = (items: LiveImageItem[]) =>
  items.map((i) => (i.kind === 'frame' ? i.frame.path.split('/').pop() : i.kind === 'connected' ? `c${i.attempt}` : `skipped ${i.path.split('/').pop()}`));

/** Items of a subscription, and a wait for the first one `pred` accepts (at most `ms`: a failure, not a speed). */
function collect(dir: string, pollMs = 50) {
  const items: LiveImageItem[] = [];
  const waiters: { pred: (i: LiveImageItem) => boolean; resolve: () => void }[] = [];
  let failed: unknown;
  const sub: Subscription = liveImages$(dir, { width: 8, height: 8, gray: true, pollMs }).subscribe({
    next: (item) => {
      items.push(item);
      for (const w of waiters.splice(0)) (w.pred(item) ? w.resolve() : waiters.push(w));
    },
    error: (e: unknown) => (failed = e),
  });
  const until = (pred: (i: LiveImageItem) => boolean, ms = 5000) =>
    items.some(pred)
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`waited ${ms} ms; got ${summary(items).join(', ')}; ${String(failed)}`)), ms);
          waiters.push({ pred, resolve: () => (clearTimeout(t), resolve()) });
        });
  const frame = (name: string) => until((i) => i.kind === 'frame' && i.frame.path.endsWith(`/${name}`));
  return { items, sub, until, frame, failed: () => failed };
}

/** Resolves once this process holds no directory watcher and no child process; the bound is for one that stays (a failure), not a speed. */
async function noWatcherOrChild(boundMs = 5000): Promise<void> {
  const held = () => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'ProcessWrap');
  const start = performance.now();
  while (held().length > 0) {
    if (performance.now() - start > boundMs) throw new Error(`still held ${boundMs / 1000} s after unsubscribing: ${held().join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('liveImages$', { timeout: 20_000 }, () => {
  it('emits the images already there in name order, then each new one as it appears; a broken one is skipped', async () => {
    const dir = freshDir();
    const pixels = new Map<string, Uint8Array>();
    for (const [name, seed] of [['b2.png', 1], ['a10.png', 2], ['a1.png', 3]] as const) pixels.set(name, writeGray(join(dir, name), 8, 8, seed));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    const c = collect(dir);
    try {
      await c.frame('b2.png');
      // new ones, one at a time: each comes out after the ones before it
      pixels.set('c1.png', writeGray(join(dir, 'c1.png'), 16, 16, 4)); // another size: resized
      await c.frame('c1.png');
      writeFileSync(join(dir, 'c2.png'), 'a damaged image');
      await c.until((i) => i.kind === 'skipped');
      pixels.set('c3.png', writeGray(join(dir, 'c3.png'), 8, 8, 5));
      await c.frame('c3.png');
    } finally {
      c.sub.unsubscribe();
    }
    expect(c.failed()).toBeUndefined();
    expect(summary(c.items)).toEqual(['c1', 'a1.png', 'a10.png', 'b2.png', 'c1.png', 'skipped c2.png', 'c3.png']);
    const frames = c.items.flatMap((i) => (i.kind === 'frame' ? [i] : []));
    frames.forEach(({ frame }, k) => {
      expect(frame.index).toBe(k);
      expect(frame.data).toHaveLength(8 * 8);
      const name = frame.path.split('/').pop()!;
      if (name !== 'c1.png') expect(Array.from(frame.data, (v) => Math.round(v * 255))).toEqual(Array.from(pixels.get(name)!));
    });
    expect(frames[3].frame.originalSize).toEqual({ width: 16, height: 16 });
    for (let k = 1; k < frames.length; k++) {
      expect(frames[k].frame.timestamp).toBeGreaterThanOrEqual(frames[k - 1].frame.timestamp);
      expect(frames[k].arrivedMs).toBeGreaterThanOrEqual(frames[k - 1].arrivedMs);
    }
    const skipped = c.items.find((i) => i.kind === 'skipped')!;
    expect(skipped).toMatchObject({ kind: 'skipped', path: join(dir, 'c2.png'), code: 'E_FFMPEG' });
    expect((skipped as { reason: string }).reason).toMatch(/could not decode image .*c2\.png/);
  });

  it('waits on an empty directory; its first image is the connection', async () => {
    const dir = freshDir();
    const c = collect(dir);
    try {
      await new Promise((r) => setTimeout(r, 200)); // polls of an empty directory: nothing, no error
      expect(c.items).toEqual([]);
      writeGray(join(dir, 'x.png'), 8, 8, 1);
      await c.frame('x.png');
    } finally {
      c.sub.unsubscribe();
    }
    expect(summary(c.items)).toEqual(['c1', 'x.png']);
    expect(c.failed()).toBeUndefined();
  });

  it('leaves no timer, watcher or ffmpeg behind when unsubscribed, even mid-decode', async () => {
    const dir = freshDir();
    for (let k = 0; k < 5; k++) writeGray(join(dir, `i${k}.png`), 8, 8, k);
    await noWatcherOrChild(); // what earlier tests left is going (a killed ffmpeg is reaped, a watcher closes, a moment later)
    const set = vi.spyOn(globalThis, 'setInterval');
    const clear = vi.spyOn(globalThis, 'clearInterval');
    try {
      const c = collect(dir);
      await c.frame('i1.png');
      // the next images are being decoded one after the other: stop in the middle of one
      expect(ffmpegChildren()).toHaveLength(1);
      c.sub.unsubscribe();
      const polls = set.mock.results.map((r) => r.value as unknown);
      expect(polls).toHaveLength(1);
      expect(clear.mock.calls.map((call) => call[0])).toContain(polls[0]);
      await noFfmpegChildren();
      await noWatcherOrChild();
      const got = c.items.length;
      writeGray(join(dir, 'late.png'), 8, 8, 9);
      await new Promise((r) => setTimeout(r, 200));
      expect(c.items).toHaveLength(got);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it('refuses a missing directory and a file', async () => {
    const dir = freshDir();
    const missing = await lastValueFrom(liveImages$(join(dir, 'nope'), { width: 8, height: 8, gray: true })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(EngramError);
    expect((missing as EngramError).code).toBe('E_INPUT_MISSING');
    const file = join(dir, 'one.png');
    writeGray(file, 8, 8, 1);
    const err = await lastValueFrom(liveImages$(file, { width: 8, height: 8, gray: true })).catch((e: unknown) => e);
    expect((err as EngramError).code).toBe('E_BAD_ARGUMENT');
    expect((err as EngramError).message).toMatch(/is a file.*without --live/);
  });
});
