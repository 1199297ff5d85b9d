import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngramError } from '../../errors.ts';
import { writeVideo } from '../../sinks/video.ts';
import { readVideoFrames } from '../../sources/video.ts';
import { movingSquare } from '../fixtures/frames.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engram-sinks-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});


const meanAbs = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

describe('writeVideo', () => {
  const originals = movingSquare(6, 8);

  it.each(['mp4', 'mkv'])('round-trips gray frames through .%s in order', async (ext) => {
    const out = join(dir, `square.${ext}`);
    await writeVideo(out, originals, { width: 8, height: 8, channels: 1, scale: 4 });
    const decoded = await readVideoFrames(out, { width: 8, height: 8, gray: true });
    expect(decoded).toHaveLength(6);
    decoded.forEach((d, i) => {
      const errors = originals.map((o) => meanAbs(d.data, o));
      expect(errors[i]).toBeLessThan(0.08);
      expect(errors.indexOf(Math.min(...errors))).toBe(i);
    });
    expect((await readdir(dir)).filter((f) => f.includes('.partial'))).toEqual([]);
  });

  it('writes rgb frames', async () => {
    const out = join(dir, 'rgb.mkv');
    const frames = [new Float32Array(4 * 4 * 3).fill(0.5), new Float32Array(4 * 4 * 3).map((_, i) => (i % 3 === 0 ? 1 : 0))];
    await writeVideo(out, frames, { width: 4, height: 4, channels: 3, scale: 2 });
    const decoded = await readVideoFrames(out, { width: 4, height: 4, gray: false });
    expect(decoded).toHaveLength(2);
    expect(meanAbs(decoded[1].data, frames[1])).toBeLessThan(0.02); // ffv1 is lossless
  });

  it('refuses to overwrite unless asked', async () => {
    const out = join(dir, 'exists.mp4');
    await writeFile(out, 'keep me');
    const err = await writeVideo(out, originals, { width: 8, height: 8, channels: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngramError);
    expect((err as EngramError).code).toBe('E_OUTPUT_EXISTS');
    expect((err as EngramError).message).toContain(out);
    expect((err as EngramError).message).toContain('--force');

    await writeVideo(out, originals, { width: 8, height: 8, channels: 1, overwrite: true });
    expect(await readVideoFrames(out, { width: 8, height: 8, gray: true })).toHaveLength(6);
  });

  it('rejects frames of the wrong size and unknown extensions', async () => {
    await expect(writeVideo(join(dir, 'bad.mp4'), [new Float32Array(10)], { width: 8, height: 8, channels: 1 })).rejects.toMatchObject({
      code: 'E_BAD_ARGUMENT',
    });
    await expect(writeVideo(join(dir, 'bad.gif'), originals, { width: 8, height: 8, channels: 1 })).rejects.toMatchObject({
      code: 'E_BAD_ARGUMENT',
    });
  });

  it('removes the partial file when ffmpeg fails', async () => {
    // An absurd fps passes our checks but makes the mp4 muxer fail.
    const out = join(dir, 'fail.mp4');
    const err = await writeVideo(out, originals, { width: 8, height: 8, channels: 1, fps: 1e-9 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngramError);
    expect((err as EngramError).code).toBe('E_FFMPEG');
    expect((await readdir(dir)).filter((f) => f.startsWith('.fail') || f === 'fail.mp4')).toEqual([]);
  });

  it('pads odd sizes for yuv420p', async () => {
    const out = join(dir, 'odd.mp4');
    await writeVideo(out, [new Float32Array(25).fill(0.5)], { width: 5, height: 5, channels: 1, scale: 1 });
    expect(await readVideoFrames(out, { width: 6, height: 6, gray: true })).toHaveLength(1);
  });

  it('streams many frames through stdin backpressure', async () => {
    const out = join(dir, 'long.mkv');
    const frames = Array.from({ length: 60 }, (_, i) => new Float32Array(32 * 32).fill((i % 10) / 10));
    await writeVideo(out, frames, { width: 32, height: 32, channels: 1, scale: 8 });
    const decoded = await readVideoFrames(out, { width: 32, height: 32, gray: true });
    expect(decoded).toHaveLength(60);
    expect(decoded[7].data[0]).toBeCloseTo(0.7, 1);
  });
});
