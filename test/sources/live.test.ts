import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngramError } from '../../errors.ts';
import { liveVideo$, type LiveItem } from '../../sources/live.ts';
import { ffmpegChildren, freePort, kill, killStarted, noFfmpegChildren, startFfmpeg } from '../fixtures/processes.ts';

afterEach(killStarted);

/** ffmpeg serving an endless 64x64 test pattern at 10 fps as MPEG-TS over HTTP, to one client. */
function serve(port: number) {
  return startFfmpeg(['-re', '-f', 'lavfi', '-i', 'testsrc2=s=64x64:r=10', '-f', 'mpegts', '-listen', '1', `http://127.0.0.1:${port}`]);
}

const summary = (items: LiveItem[]) => items.map((i) => (i.kind === 'frame' ? 'f' : i.kind === 'connected' ? `c${i.attempt}` : `g${i.attempt}`));

describe('liveVideo$', () => {
  it('plays a lavfi graph: frames of the right shape, counting up, then completes', async () => {
    const items = await lastValueFrom(liveVideo$('lavfi:testsrc2=s=32x32:r=25:d=1', { width: 16, height: 8, gray: false }).pipe(toArray()));
    expect(items[0]).toMatchObject({ kind: 'connected', attempt: 1 });
    const frames = items.flatMap((i) => (i.kind === 'frame' ? [i.frame] : []));
    expect(items.filter((i) => i.kind === 'gap')).toEqual([]);
    expect(frames).toHaveLength(25);
    frames.forEach((f, i) => {
      expect(f).toMatchObject({ index: i, width: 16, height: 8, channels: 3 });
      expect(f.data).toHaveLength(16 * 8 * 3);
    });
    // wall-clock timestamps never go back
    for (let i = 1; i < frames.length; i++) expect(frames[i].timestamp).toBeGreaterThanOrEqual(frames[i - 1].timestamp);
  });

  it('reconnects to an HTTP stream that goes away and comes back, counting frames on', async () => {
    const port = await freePort();
    let server = serve(port);
    const items: LiveItem[] = [];
    let restarted = false;
    let killedAt = -1; // how many items had come when the server was killed
    const done = new Promise<void>((resolve, reject) => {
      const sub = liveVideo$(`http://127.0.0.1:${port}`, { width: 8, height: 8, gray: true, reconnect: { firstMs: 100, maxMs: 400 } }).subscribe({
        next: (item) => {
          items.push(item);
          const frames = items.filter((i) => i.kind === 'frame').length;
          if (!restarted && frames === 5) {
            restarted = true;
            killedAt = items.length;
            // the server goes away; a new one listens on the same port a second later
            void kill(server).then(() => setTimeout(() => (server = serve(port)), 1000));
          }
          const reconnected = restarted ? items.findIndex((i, k) => k >= killedAt && i.kind === 'connected') : -1;
          if (reconnected >= 0 && items.slice(reconnected).filter((i) => i.kind === 'frame').length >= 5) {
            sub.unsubscribe();
            resolve();
          }
        },
        error: reject,
        complete: () => reject(new Error('a network source completed')),
      });
    });
    await done;
    const kinds = summary(items);
    const firstFrame = kinds.indexOf('f');
    expect(kinds[firstFrame - 1]).toMatch(/^c\d+$/);
    // after the frames of the first connection: at least one gap, then a later connection and its frames
    const s = kinds.join(' ');
    expect(s).toMatch(/^(g\d+ )*c\d+ (f ){5,}(g\d+ )+c\d+ (f ?){5,}$/);
    const gapAfterFrames = items.find((i, k) => i.kind === 'gap' && k > firstFrame);
    expect(gapAfterFrames).toMatchObject({ kind: 'gap', retryInMs: 100 });
    expect((gapAfterFrames as { reason: string }).reason).toMatch(/ended|broke|no data/);
    const connects = items.filter((i) => i.kind === 'connected') as { attempt: number }[];
    expect(connects.at(-1)!.attempt).toBeGreaterThanOrEqual(2);
    const indices = items.flatMap((i) => (i.kind === 'frame' ? [i.frame.index] : []));
    expect(indices).toEqual(indices.map((_, k) => k));
    await noFfmpegChildren();
  });

  it('gives up on a URL nobody serves after maxAttempts gaps, naming it', async () => {
    const url = `http://127.0.0.1:${await freePort()}/feed`;
    const items: LiveItem[] = [];
    const err = await new Promise<unknown>((resolve) => {
      liveVideo$(url, { width: 8, height: 8, gray: true, reconnect: { firstMs: 20, factor: 2, maxAttempts: 3 } }).subscribe({
        next: (i) => items.push(i),
        error: resolve,
        complete: () => resolve(undefined),
      });
    });
    expect(err).toBeInstanceOf(EngramError);
    expect((err as EngramError).code).toBe('E_INPUT_UNREADABLE');
    expect((err as EngramError).message).toContain(url);
    expect((err as EngramError).message).toMatch(/3 attempts/);
    expect(summary(items)).toEqual(['g1', 'g2', 'g3']);
    expect(items.map((i) => (i as { retryInMs: number }).retryInMs)).toEqual([20, 40, 0]);
    expect((items[0] as { reason: string }).reason).toMatch(/^could not connect: .*refused/i);
  });

  it('refuses a file: it is not a live input', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engram-live-'));
    try {
      const file = join(dir, 'clip.mp4');
      await writeFile(file, 'not really a video');
      const err = await lastValueFrom(liveVideo$(file, { width: 8, height: 8, gray: true })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngramError);
      expect((err as EngramError).code).toBe('E_BAD_ARGUMENT');
      expect((err as EngramError).message).toContain(file);
      expect((err as EngramError).message).toMatch(/without --live.*lavfi:movie=/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('kills ffmpeg when unsubscribed mid-stream', async () => {
    expect(ffmpegChildren()).toEqual([]);
    let running: number[] = [];
    const third = new Promise<void>((resolve) => {
      const sub = liveVideo$('lavfi:testsrc2=s=32x32:r=25', { width: 8, height: 8, gray: true }).subscribe((item) => {
        if (item.kind !== 'frame' || item.frame.index !== 2) return;
        running = ffmpegChildren();
        sub.unsubscribe();
        resolve();
      });
    });
    await third;
    expect(running).toHaveLength(1);
    await noFfmpegChildren();
  });

  it('cancels the backoff timer when unsubscribed between attempts', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    // the wait before the next attempt is the one 10-minute timer: it must be cleared
    const waits: unknown[] = [];
    let cleared: unknown[] = [];
    const set = vi.spyOn(globalThis, 'setTimeout');
    const clear = vi.spyOn(globalThis, 'clearTimeout');
    const items: LiveItem[] = [];
    try {
      await new Promise<void>((resolve) => {
        const sub = liveVideo$(url, { width: 8, height: 8, gray: true, reconnect: { firstMs: 600_000 } }).subscribe((item) => {
          items.push(item);
          // once the wait has begun
          setImmediate(() => {
            waits.push(...set.mock.results.filter((_, k) => set.mock.calls[k][1] === 600_000).map((r) => r.value));
            sub.unsubscribe();
            cleared = clear.mock.calls.map((c) => c[0]);
            resolve();
          });
        });
      });
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
    expect(summary(items)).toEqual(['g1']);
    expect(waits).toHaveLength(1);
    expect(cleared).toContain(waits[0]);
    await noFfmpegChildren();
  });
});
