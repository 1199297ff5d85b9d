/**
 * Recordings people can play anywhere: looping GIFs, and MP4 that falls back from H.264 to MPEG-4
 * Part 2 when this ffmpeg build has no libx264. `writeRecording` picks the format from the path.
 * Frames are values in [0,1], HWC; every file is written under a partial name and renamed when done.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, sep } from 'node:path';
import { EngramError } from '../errors.ts';
import { ffmpegEncoders } from '../media/ffmpeg.ts';
import { writePngFrames } from './png-frames.ts';
import { encodeFrames, type WriteVideoOptions, writeVideo } from './video.ts';

export type AnimationOptions = WriteVideoOptions;
export type Mp4Codec = 'libx264' | 'mpeg4';

/** A looping GIF with one palette made for the whole clip (palettegen → paletteuse in one graph). */
export async function writeGif(path: string, frames: Float32Array[], opts: AnimationOptions): Promise<void> {
  // Blocky upscaled memories look cleaner without dither noise; stats over all frames give one
  // palette, so colours do not flicker from frame to frame.
  await encodeFrames(path, frames, opts, {
    filter: 'split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=none',
    args: ['-loop', '0'],
  });
}

let h264: boolean | undefined;

/** Whether the resolved ffmpeg can encode H.264 (libx264). Asked once per process. */
export function h264Available(): boolean {
  if (h264 === undefined) {
    try {
      h264 = ffmpegEncoders().has('libx264');
    } catch {
      h264 = false;
    }
  }
  return h264;
}

/**
 * MP4 with H.264 when available (through sinks/video.ts), else MPEG-4 Part 2, which every ffmpeg
 * build has and most players play. `codec` forces one; returns the codec used.
 */
export async function writeMp4(path: string, frames: Float32Array[], opts: AnimationOptions & { codec?: 'auto' | Mp4Codec }): Promise<Mp4Codec> {
  const codec = opts.codec === undefined || opts.codec === 'auto' ? (h264Available() ? 'libx264' : 'mpeg4') : opts.codec;
  if (codec === 'libx264') {
    await writeVideo(path, frames, opts);
  } else {
    await encodeFrames(path, frames, opts, {
      // yuv420p needs even sizes; q 2 is near-transparent quality for MPEG-4 Part 2.
      filter: 'pad=ceil(iw/2)*2:ceil(ih/2)*2,format=yuv420p',
      args: ['-c:v', 'mpeg4', '-q:v', '2', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'],
    });
  }
  return codec;
}

const ACCEPTED_OUTPUTS = "file.mp4, file.gif, file.mkv, or a directory (ending in '/') for PNG frames";

/** Write frames in the format the path asks for: .mp4, .gif, .mkv, or `dir/` (PNG frames). */
export async function writeRecording(path: string, frames: Float32Array[], opts: AnimationOptions): Promise<void> {
  if (path.endsWith('/') || path.endsWith(sep) || (existsSync(path) && statSync(path).isDirectory())) {
    writePngFrames(path, frames, opts);
    return;
  }
  switch (extname(path).toLowerCase()) {
    case '.mp4':
      await writeMp4(path, frames, opts);
      return;
    case '.gif':
      await writeGif(path, frames, opts);
      return;
    case '.mkv':
      await writeVideo(path, frames, opts);
      return;
    default:
      throw new EngramError('E_BAD_ARGUMENT', `cannot record to ${path}: unsupported output; use ${ACCEPTED_OUTPUTS}`);
  }
}
