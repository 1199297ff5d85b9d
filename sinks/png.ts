/**
 * PNG output without dependencies: 8-bit gray, RGB or RGBA, unfiltered rows, zlib-deflated. Plus a
 * contact sheet that lays frames out in rows (e.g. originals above their recalls) for a glance.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { EngramError } from '../errors.ts';
import { partialOutput } from './partials.ts';

export type Image = { pixels: Uint8Array; width: number; height: number; channels: 1 | 3 | 4 };

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOR_TYPE = { 1: 0, 3: 2, 4: 6 } as const;

// Node 20 has no zlib.crc32, so the standard table-driven CRC-32 lives here.
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  typed.copy(out, 4);
  out.writeUInt32BE(crc32(typed), 8 + data.length);
  return out;
}

export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Buffer {
  const stride = width * channels;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || pixels.length !== stride * height) {
    throw new EngramError(
      'E_BAD_ARGUMENT',
      `cannot encode PNG: ${pixels.length} bytes do not make a ${width}x${height}x${channels} image; pass width*height*channels bytes`,
    );
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  // compression, filter and interlace methods stay 0
  const raw = Buffer.alloc((stride + 1) * height); // each row: filter byte 0 ("none"), then pixels
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** Write atomically: a reader never sees a half-written PNG under the final name. */
export function writePng(path: string, img: Image): void {
  const tmp = partialOutput(path);
  try {
    writeFileSync(tmp, encodePng(img.pixels, img.width, img.height, img.channels));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof EngramError) throw e;
    throw new EngramError('E_OUTPUT_UNWRITABLE', `cannot write ${path}: ${(e as Error).message}; check the directory exists and is writable`, { cause: e });
  }
}

/** `images` as `dir/<name>-<i>.png` (the directory made first when there is any); returns the paths. */
export function writePngSeries(dir: string, name: string, images: Image[]): string[] {
  if (images.length === 0) return [];
  mkdirSync(dir, { recursive: true });
  return images.map((img, i) => {
    const path = join(dir, `${name}-${i}.png`);
    writePng(path, img);
    return path;
  });
}

const MAX_PER_LINE = 16;
const BACKGROUND = 128;

/**
 * Lay out rows of frames (values in [0,1], HWC) as a grid, each frame upscaled by nearest neighbour.
 * Rows longer than 16 frames wrap; all rows wrap in lock-step so frame i of every row stays in one
 * column, and each wrapped band is set apart by an extra gap.
 */
export function contactSheet(
  rows: Float32Array[][],
  frameW: number,
  frameH: number,
  channels: 1 | 3,
  opts: { scale?: number; gap?: number } = {},
): Image {
  const scale = opts.scale ?? 4;
  const gap = opts.gap ?? 2;
  if (!Number.isInteger(scale) || scale < 1 || !Number.isInteger(gap) || gap < 0) {
    throw new EngramError('E_BAD_ARGUMENT', `contact sheet scale ${scale} / gap ${gap}: scale must be a positive integer and gap a non-negative integer`);
  }
  const longest = Math.max(0, ...rows.map((r) => r.length));
  if (longest === 0) {
    throw new EngramError('E_INPUT_EMPTY', 'contact sheet has no frames; pass at least one row with at least one frame');
  }
  const frameLen = frameW * frameH * channels;
  for (const row of rows) {
    for (const f of row) {
      if (f.length !== frameLen) {
        throw new EngramError('E_BAD_ARGUMENT', `contact sheet frame has ${f.length} values, expected ${frameW}x${frameH}x${channels} = ${frameLen}; pass matching frame sizes`);
      }
    }
  }

  const cellW = frameW * scale;
  const cellH = frameH * scale;
  const cols = Math.min(longest, MAX_PER_LINE);
  const bands = Math.ceil(longest / MAX_PER_LINE);
  const bandH = rows.length * (cellH + gap);
  const width = gap + cols * (cellW + gap);
  const height = gap + bands * bandH + (bands - 1) * gap;
  const pixels = new Uint8Array(width * height * channels).fill(BACKGROUND);

  rows.forEach((row, r) => {
    row.forEach((frame, i) => {
      const band = Math.floor(i / MAX_PER_LINE);
      const x0 = gap + (i % MAX_PER_LINE) * (cellW + gap);
      const y0 = gap + band * (bandH + gap) + r * (cellH + gap);
      for (let y = 0; y < cellH; y++) {
        const src = Math.floor(y / scale) * frameW;
        const dst = ((y0 + y) * width + x0) * channels;
        for (let x = 0; x < cellW; x++) {
          const s = (src + Math.floor(x / scale)) * channels;
          for (let c = 0; c < channels; c++) pixels[dst + x * channels + c] = toByte(frame[s + c]);
        }
      }
    });
  });
  return { pixels, width, height, channels };
}

function toByte(v: number): number {
  // NaN shows as black rather than poisoning the sheet.
  return v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
}
