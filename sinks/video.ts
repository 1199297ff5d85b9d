/**
 * Frames (values in [0,1], HWC) to a video file: raw gray/rgb24 bytes are piped into ffmpeg's stdin,
 * upscaled there by nearest neighbour so tiny memories are viewable, and encoded by extension
 * (.mp4 → H.264 yuv420p for players, .mkv → lossless FFV1). Written under a partial name and renamed,
 * so a failed or interrupted write never leaves a complete-looking file.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, extname } from 'node:path';
import { PassThrough } from 'node:stream';
import { EngramError } from '../errors.ts';
import { ffmpegCommand, runFfmpeg } from '../media/ffmpeg.ts';
import { partialOutput } from './partials.ts';

export type WriteVideoOptions = {
  width: number;
  height: number;
  channels: 1 | 3;
  /** frames per second; default 12 */
  fps?: number;
  /** integer nearest-neighbour upscale; default 8 so 32x32 becomes 256x256 */
  scale?: number;
  /** replace an existing file at `path` */
  overwrite?: boolean;
};

/** How one container/codec is written: filters after the upscale (may be empty) and output args. */
export interface FrameEncoder {
  filter: string;
  args: string[];
}

/** .mp4 (H.264) and .mkv (FFV1, lossless). */
export async function writeVideo(path: string, frames: Float32Array[], opts: WriteVideoOptions): Promise<void> {
  const ext = extname(path).toLowerCase();
  const encoder = ENCODERS[ext];
  if (!encoder) {
    throw new EngramError('E_BAD_ARGUMENT', `cannot write ${path}: unsupported extension '${ext}'; use .mp4 or .mkv`);
  }
  await encodeFrames(path, frames, opts, encoder);
}

/** The checks every output shares, done before ffmpeg starts so failures read plainly. */
export function checkOutput(path: string, overwrite: boolean | undefined): void {
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new EngramError('E_BAD_ARGUMENT', `the directory of ${path} does not exist; create ${dir} first or choose another output`);
  }
  if (existsSync(path) && overwrite !== true) {
    throw new EngramError('E_OUTPUT_EXISTS', `${path} already exists; pass --force to overwrite it or choose another --out`);
  }
}

/**
 * Pipe raw frames into ffmpeg (nearest-neighbour upscale, then the encoder's filters), encode to a
 * partial name and rename; on failure the partial file is removed.
 */
export async function encodeFrames(path: string, frames: Float32Array[], opts: WriteVideoOptions, encoder: FrameEncoder): Promise<void> {
  const { width, height, channels } = opts;
  const fps = opts.fps ?? 12;
  const scale = opts.scale ?? 8;
  checkOutput(path, opts.overwrite);
  if (frames.length === 0) {
    throw new EngramError('E_INPUT_EMPTY', `no frames to write to ${path}; the sequence to encode is empty`);
  }
  if (!(Number.isInteger(scale) && scale >= 1) || !(fps > 0)) {
    throw new EngramError('E_BAD_ARGUMENT', `cannot write ${path} with scale ${scale} and fps ${fps}: scale must be a positive integer and fps positive`);
  }
  const frameLen = width * height * channels;
  const bad = frames.findIndex((f) => f.length !== frameLen);
  if (bad >= 0) {
    throw new EngramError(
      'E_BAD_ARGUMENT',
      `frame ${bad} for ${path} has ${frames[bad].length} values, expected ${width}x${height}x${channels} = ${frameLen}; pass matching width, height and channels`,
    );
  }

  const tmp = partialOutput(path);
  const input = new PassThrough();
  const filters = [`scale=iw*${scale}:ih*${scale}:flags=neighbor`, ...(encoder.filter ? [encoder.filter] : [])].join(',');
  const cmd = ffmpegCommand(input)
    .inputOptions(['-hide_banner', '-loglevel', 'error'])
    .inputOptions(['-f', 'rawvideo', '-pix_fmt', channels === 1 ? 'gray' : 'rgb24', '-s', `${width}x${height}`, '-r', String(fps)])
    .outputOptions(['-vf', filters, ...encoder.args, '-y'])
    .output(tmp);
  const done = runFfmpeg(cmd, `encoding ${frames.length} frames to ${path}`);
  done.catch(() => {}); // observed below; this only stops an early failure counting as unhandled

  try {
    for (const frame of frames) {
      // Respect stdin backpressure; if ffmpeg dies meanwhile, `done` rejects and ends the wait.
      if (!input.write(toBytes(frame))) await Promise.race([once(input, 'drain'), done]);
    }
    input.end();
    await done;
    renameSync(tmp, path);
  } catch (e) {
    input.destroy();
    cmd.kill('SIGKILL');
    rmSync(tmp, { force: true });
    throw e;
  }
}

const ENCODERS: Record<string, FrameEncoder> = {
  // yuv420p and even dimensions are what browsers and phones play; crf 16 keeps tiny frames crisp.
  '.mp4': {
    filter: 'pad=ceil(iw/2)*2:ceil(ih/2)*2,format=yuv420p',
    args: ['-c:v', 'libx264', '-crf', '16', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'],
  },
  '.mkv': { filter: '', args: ['-c:v', 'ffv1'] },
};

function toBytes(frame: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(frame.length);
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i];
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0; // NaN → 0
  }
  return out;
}
