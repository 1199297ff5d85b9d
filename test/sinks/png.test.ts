import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngramError } from '../../errors.ts';
import { contactSheet, encodePng, writePng } from '../../sinks/png.ts';
import { readVideoFrames } from '../../sources/video.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engram-png-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
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
