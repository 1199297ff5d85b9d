/**
 * A synthetic clip from one of ffmpeg's filter sources, written losslessly to a file: the demo's
 * input, and test media that need no committed files.
 */
import { renameSync, rmSync } from 'node:fs';
import { extname } from 'node:path';
import { EngramError } from '../errors.ts';
import { ffmpegCommand, runFfmpeg } from '../media/ffmpeg.ts';
import { partialOutput } from './partials.ts';

export type LavfiClipOptions = { source: 'life' | 'testsrc2' | string; width: number; height: number; frames: number; fps?: number };

/**
 * Render a synthetic lavfi source to `outPath` (.mkv → ffv1, .mp4 → lossless libx264), for demos and
 * tests without committed media. `source` is 'life', 'testsrc2', or any lavfi graph used verbatim.
 */
export async function makeLavfiClip(outPath: string, opts: LavfiClipOptions, signal?: AbortSignal): Promise<void> {
  const { width: w, height: h, frames } = opts;
  const fps = opts.fps ?? 12;
  const graph =
    opts.source === 'life'
      ? `life=s=${w}x${h}:mold=10:r=${fps}:ratio=0.5:death_color=#000000:life_color=#ffffff`
      : opts.source === 'testsrc2'
        ? `testsrc2=s=${w}x${h}:r=${fps}`
        : opts.source;
  const ext = extname(outPath).toLowerCase();
  // Both choices are lossless so tests compare against what the source drew, not codec noise.
  const codec =
    ext === '.mkv' ? ['-c:v', 'ffv1', '-pix_fmt', 'gbrp'] : ext === '.mp4' ? ['-c:v', 'libx264', '-qp', '0', '-pix_fmt', 'yuv444p'] : undefined;
  if (!codec) {
    throw new EngramError('E_BAD_ARGUMENT', `cannot write ${outPath}: unsupported extension '${ext}'; use .mkv or .mp4`);
  }
  const tmp = partialOutput(outPath);
  const cmd = ffmpegCommand(graph)
    .inputOptions(['-f', 'lavfi', '-nostdin', '-hide_banner', '-loglevel', 'error'])
    .outputOptions([...codec, '-frames:v', String(frames), '-y'])
    .output(tmp);
  // stopped: the half-written clip goes at once (the process may exit before ffmpeg's end is heard)
  signal?.addEventListener('abort', () => rmSync(tmp, { force: true }), { once: true });
  try {
    await runFfmpeg(cmd, `rendering lavfi source '${graph}' to ${outPath}`, signal);
    renameSync(tmp, outPath);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
