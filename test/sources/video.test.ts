import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngramError } from '../../errors.ts';
import { makeLavfiClip } from '../../sinks/lavfi-clip.ts';
import { readVideoFrames, videoFrames$ } from '../../sources/video.ts';

let dir: string;
let clip: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engram-video-'));
  clip = join(dir, 'testsrc2.mkv');
  await makeLavfiClip(clip, { source: 'testsrc2', width: 16, height: 16, frames: 10 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Live (non-zombie) ffmpeg processes whose parent is this test process; Linux only. */
function ffmpegChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) (\S) (\d+)/.exec(stat);
      if (m && m[1].includes('ffmpeg') && m[2] !== 'Z' && Number(m[3]) === process.pid) pids.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}

/**
 * Resolves once no ffmpeg child of this process is left: a condition on the processes, checked
 * until it holds. The bound is only for a child that never goes away (a failure), not a speed.
 */
async function noFfmpegChildren(boundMs = 60_000): Promise<void> {
  const start = performance.now();
  while (ffmpegChildren().length > 0) {
    if (performance.now() - start > boundMs) throw new Error(`ffmpeg still running ${boundMs / 1000} s after it should have been killed`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('makeLavfiClip', () => {
  it('renders atomically, leaving no partial file', async () => {
    const files = await readdir(dir);
    expect(files).toContain('testsrc2.mkv');
    expect(files.filter((f) => f.includes('.partial'))).toEqual([]);
  });

  it('renders life to lossless mp4', async () => {
    const out = join(dir, 'life.mp4');
    await makeLavfiClip(out, { source: 'life', width: 16, height: 16, frames: 5 });
    const frames = await readVideoFrames(out, { width: 16, height: 16, gray: true });
    expect(frames).toHaveLength(5);
    // life is black and white; lossless coding keeps it (almost exactly) binary
    for (const v of frames[0].data) expect(Math.min(v, 1 - v)).toBeLessThan(0.05);
  });

  it('rejects an unknown extension', async () => {
    await expect(makeLavfiClip(join(dir, 'x.gif'), { source: 'life', width: 8, height: 8, frames: 1 })).rejects.toMatchObject({
      code: 'E_BAD_ARGUMENT',
    });
  });
});

describe('readVideoFrames', () => {
  it('decodes gray frames in [0,1]', async () => {
    const frames = await readVideoFrames(clip, { width: 16, height: 16, gray: true });
    expect(frames).toHaveLength(10);
    frames.forEach((f, i) => {
      expect(f).toMatchObject({ index: i, width: 16, height: 16, channels: 1 });
      expect(f.data).toHaveLength(256);
      for (const v of f.data) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    });
    expect(new Set(frames[0].data).size).toBeGreaterThan(1);
  });

  it('decodes rgb frames', async () => {
    const frames = await readVideoFrames(clip, { width: 16, height: 16, gray: false });
    expect(frames).toHaveLength(10);
    expect(frames[0].channels).toBe(3);
    expect(frames[0].data).toHaveLength(16 * 16 * 3);
  });

  it('splits frames exactly even when they straddle pipe chunks', async () => {
    // 33x17x3 bytes per frame never lines up with pipe buffer sizes
    const frames = await readVideoFrames(clip, { width: 33, height: 17, gray: false });
    expect(frames).toHaveLength(10);
    const again = await readVideoFrames(clip, { width: 33, height: 17, gray: false, frames: 10 });
    expect(again.map((f) => Array.from(f.data))).toEqual(frames.map((f) => Array.from(f.data)));
  });

  it('limits the frame count', async () => {
    expect(await readVideoFrames(clip, { width: 16, height: 16, gray: true, frames: 4 })).toHaveLength(4);
  });

  it('resamples to a lower fps', async () => {
    // 10 frames at 12 fps resampled to 6 fps keeps about half of them
    const frames = await readVideoFrames(clip, { width: 8, height: 8, gray: true, fps: 6 });
    expect(frames.length).toBeGreaterThanOrEqual(4);
    expect(frames.length).toBeLessThanOrEqual(6);
  });

  it('names a missing file', async () => {
    const missing = join(dir, 'nope.mp4');
    const err = await readVideoFrames(missing, { width: 8, height: 8, gray: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngramError);
    expect((err as EngramError).code).toBe('E_INPUT_MISSING');
    expect((err as EngramError).message).toContain(missing);
  });

  it('rejects a non-video file', async () => {
    const fake = join(dir, 'notes.mp4');
    await writeFile(fake, 'this is not a video\n'.repeat(20));
    const err = await readVideoFrames(fake, { width: 8, height: 8, gray: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngramError);
    expect(['E_FFMPEG', 'E_INPUT_EMPTY']).toContain((err as EngramError).code);
    expect((err as EngramError).message).toContain(fake);
  });

  it('rejects bad sizes', async () => {
    await expect(readVideoFrames(clip, { width: 0, height: 8, gray: true })).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
  });
});

describe('videoFrames$ teardown', () => {
  it.runIf(existsSync('/proc/self/stat'))('kills ffmpeg when unsubscribed early', async () => {
    const long = join(dir, 'long.mkv');
    await makeLavfiClip(long, { source: 'testsrc2', width: 128, height: 128, frames: 600 });
    expect(ffmpegChildren()).toEqual([]);

    // Looked at while frame 0 is handled: the loop reads no more meanwhile, so ffmpeg is held by the
    // pipe's backpressure, 600 frames from done, however fast this machine decodes.
    let running: number[] = [];
    let handled!: () => void;
    const first = new Promise<void>((r) => (handled = r));
    const sub = videoFrames$(long, { width: 128, height: 128, gray: false }).subscribe((f) => {
      if (f.index !== 0) return;
      running = ffmpegChildren();
      sub.unsubscribe();
      handled();
    });
    await first;
    expect(running.length).toBe(1);
    await noFfmpegChildren();
  });

  it.runIf(existsSync('/proc/self/stat'))('stops emitting after unsubscribe', async () => {
    const seen: number[] = [];
    let unsubscribed!: () => void;
    const done = new Promise<void>((r) => (unsubscribed = r));
    const sub = videoFrames$(clip, { width: 16, height: 16, gray: true }).subscribe((f) => {
      seen.push(f.index);
      if (f.index === 1) {
        sub.unsubscribe();
        unsubscribed();
      }
    });
    await done;
    // the decode is over once its ffmpeg has gone (killed, or done with the whole clip)
    await noFfmpegChildren();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([0, 1]);
  });
});
