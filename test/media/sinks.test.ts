import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngramError } from '../../errors.ts';
import { contactSheet, encodePng, writePng } from '../../sinks/png.ts';
import { writeVideo } from '../../sinks/video.ts';
import { readVideoFrames } from '../../sources/video.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engram-sinks-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A 3x3 bright square on a dark background, moving one pixel right and down per frame. */
function movingSquare(n: number, size: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => {
    const f = new Float32Array(size * size).fill(0.1);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) f[((i + y) % size) * size + ((i + x) % size)] = 0.9;
    return f;
  });
}

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

describe('encodePng', () => {
  it.each([1, 3, 4] as const)('round-trips %i-channel pixels exactly through ffmpeg', async (channels) => {
    const w = 7;
    const h = 5;
    const pixels = Uint8Array.from({ length: w * h * channels }, (_, i) => (i * 37 + 11) % 256);
    if (channels === 4) for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255; // opaque, so rgb24 is exact
    const out = join(dir, `img${channels}.png`);
    writePng(out, { pixels, width: w, height: h, channels });

    const [frame] = await readVideoFrames(out, { width: w, height: h, gray: channels === 1 });
    const bytes = Array.from(frame.data, (v) => Math.round(v * 255));
    const expected = channels === 4 ? Array.from(pixels).filter((_, i) => i % 4 !== 3) : Array.from(pixels);
    expect(bytes).toEqual(expected);
  });

  it('starts with the PNG signature and rejects mismatched sizes', () => {
    const png = encodePng(new Uint8Array(4), 2, 2, 1);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(() => encodePng(new Uint8Array(5), 2, 2, 1)).toThrow(EngramError);
  });
});

describe('contactSheet', () => {
  const frame = (v: number, ch: 1 | 3) => new Float32Array(4 * 3 * ch).fill(v);

  it('wraps 2 rows x 20 frames into two bands of 16 columns, in lock-step', () => {
    const rows = [Array.from({ length: 20 }, () => frame(1, 1)), Array.from({ length: 20 }, () => frame(0, 1))];
    const sheet = contactSheet(rows, 4, 3, 1); // scale 4, gap 2 => cells 16x12
    expect(sheet.channels).toBe(1);
    expect(sheet.width).toBe(2 + 16 * (16 + 2));
    // two bands of two rows each, plus one extra gap between bands
    expect(sheet.height).toBe(2 + 2 * 2 * (12 + 2) + 2);
    expect(sheet.pixels).toHaveLength(sheet.width * sheet.height);

    const at = (x: number, y: number) => sheet.pixels[y * sheet.width + x];
    expect(at(0, 0)).toBe(128); // background
    expect(at(2, 2)).toBe(255); // row 0 (originals), frame 0
    expect(at(2, 2 + 14)).toBe(0); // row 1 (recalls), frame 0
    const band2 = 2 + 2 * 14 + 2;
    expect(at(2 + 3 * 18, band2)).toBe(255); // frame 19 of row 0 sits in column 3 of the second band
    expect(at(2 + 3 * 18, band2 + 14)).toBe(0); // and its recall directly below
    expect(at(2 + 4 * 18, band2)).toBe(128); // nothing after frame 19
  });

  it('upscales by nearest neighbour, clamps values, and keeps rgb', () => {
    const f = new Float32Array([2, -1, 0.5, 0, 0, 0]); // 2x1 rgb: clamped red/black/half, then black
    const sheet = contactSheet([[f]], 2, 1, 3, { scale: 3, gap: 0 });
    expect([sheet.width, sheet.height, sheet.channels]).toEqual([6, 3, 3]);
    expect(Array.from(sheet.pixels.subarray(0, 3))).toEqual([255, 0, 128]);
    expect(Array.from(sheet.pixels.subarray(2 * 3, 3 * 3))).toEqual([255, 0, 128]);
    expect(Array.from(sheet.pixels.subarray(3 * 3, 4 * 3))).toEqual([0, 0, 0]);
  });

  it('rejects empty input and wrong frame sizes', () => {
    expect(() => contactSheet([[]], 4, 3, 1)).toThrow(EngramError);
    expect(() => contactSheet([[new Float32Array(5)]], 4, 3, 1)).toThrow(EngramError);
  });
});
