/**
 * Frames as numbered PNG files (frame-000000.png, …) in a directory: lossless, and readable back as
 * an image source (sources/images.ts sorts them in the same order). Each file is written atomically.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EngramError } from '../errors.ts';
import { contactSheet, writePng } from './png.ts';

export type PngFramesOptions = {
  width: number;
  height: number;
  channels: 1 | 3;
  /** integer nearest-neighbour upscale; default 1 (the frames as they are) */
  scale?: number;
  /** replace the frame-*.png files already in the directory */
  overwrite?: boolean;
};

const FRAME_FILE = /^frame-\d+\.png$/;

export function framePngName(i: number): string {
  return `frame-${String(i).padStart(6, '0')}.png`;
}

/** Writes one PNG per frame into `dir`, creating it when its parent exists. Returns the file paths. */
export function writePngFrames(dir: string, frames: Float32Array[], opts: PngFramesOptions): string[] {
  const target = dir.length > 1 ? dir.replace(/[\\/]+$/, '') : dir;
  if (!existsSync(target)) {
    const parent = dirname(target);
    if (!existsSync(parent) || !statSync(parent).isDirectory()) {
      throw new EngramError('E_BAD_ARGUMENT', `cannot write PNG frames to ${dir}: ${parent} does not exist; create it first or choose another output`);
    }
    mkdirSync(target);
  } else if (!statSync(target).isDirectory()) {
    throw new EngramError('E_BAD_ARGUMENT', `cannot write PNG frames to ${dir}: it is a file, not a directory; choose a directory`);
  }
  if (frames.length === 0) {
    throw new EngramError('E_INPUT_EMPTY', `no frames to write to ${dir}; the sequence to write is empty`);
  }
  const old = readdirSync(target).filter((n) => FRAME_FILE.test(n));
  if (old.length > 0) {
    if (opts.overwrite !== true) {
      throw new EngramError('E_OUTPUT_EXISTS', `${dir} already holds ${old.length} frame-*.png files; pass --force to replace them or choose another directory`);
    }
    // Stale frames from a longer earlier recording would otherwise play on after the new ones.
    for (const n of old) rmSync(join(target, n), { force: true });
  }
  const scale = opts.scale ?? 1;
  return frames.map((frame, i) => {
    const path = join(target, framePngName(i));
    // A one-frame contact sheet without gaps is exactly the frame upscaled by nearest neighbour.
    writePng(path, contactSheet([[frame]], opts.width, opts.height, opts.channels, { scale, gap: 0 }));
    return path;
  });
}
