/**
 * Recordings of what recall found, by kind of media: video and images → a video of the recalled
 * cycle (twice round) and a contact sheet (originals above recalls); audio → a WAV of the cycle
 * concatenated in cycle order.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { EngramError } from '../errors.ts';
import type { ArtifactEvent, EventBody, RecallEvent } from '../events.ts';
import type { RecallOutput } from '../operators/recall.ts';
import { contactSheet, writePng } from '../sinks/png.ts';
import { writeRecording } from '../sinks/animation.ts';
import { writePngFrames } from '../sinks/png-frames.ts';
import { unwritableWhy } from '../sinks/run-dir.ts';
import { concatCycle, writeWav } from '../sinks/wav.ts';
import type { MediaShape } from './inputs.ts';

const VISUAL = ['.mp4', '.gif', '.mkv', 'dir/'];
const AUDIO = ['.wav'];

const isDirOut = (out: string) => out.endsWith('/') || (existsSync(out) && statSync(out).isDirectory());

/**
 * Fail early (before the backend starts and any recall work) on an output the run's media cannot be
 * written to: a format it cannot take is E_BAD_ARGUMENT (exit 2); a place that cannot be written
 * (its directory missing, read-only, a file in the way) is E_OUTPUT_UNWRITABLE (exit 1), as for a
 * run directory; an existing file without --force is E_OUTPUT_EXISTS.
 */
export function checkRecordingPath(out: string, shape: Pick<MediaShape, 'kind'>, force: boolean): void {
  const ext = isDirOut(out) ? 'dir/' : extname(out).toLowerCase();
  const accepted = shape.kind === 'audio' ? AUDIO : VISUAL;
  if (!accepted.includes(ext)) {
    throw new EngramError('E_BAD_ARGUMENT', `cannot record ${shape.kind} to ${out}; --out must be one of: ${accepted.join(', ')}`);
  }
  const dir = dirname(out.replace(/\/+$/, '')) || '.';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new EngramError('E_OUTPUT_UNWRITABLE', `cannot write ${out}: its directory ${dir} does not exist; create ${dir} first or choose another --out`);
  }
  const why = unwritableWhy(ext === 'dir/' ? out : dir);
  if (why) throw new EngramError('E_OUTPUT_UNWRITABLE', `cannot write ${out} (${why}); choose another --out`);
  if (ext !== 'dir/' && existsSync(out) && !force) {
    throw new EngramError('E_OUTPUT_EXISTS', `${out} already exists; pass --force to replace it or choose another --out`);
  }
}

/**
 * The recalled cycle as media at `out`: audio → a WAV of the cycle in order; pictures → a video or
 * GIF of the cycle twice round, or PNG frames in a directory.
 */
export async function recordCycle(out: string, shape: MediaShape, states: Float32Array[], force: boolean): Promise<void> {
  if (shape.kind === 'audio') {
    await writeWav(out, concatCycle(states), { rate: shape.rate, overwrite: force });
    return;
  }
  const opts = { width: shape.width, height: shape.height, channels: shape.channels, fps: shape.fps, overwrite: force };
  if (isDirOut(out)) {
    writePngFrames(out, states, opts);
    return;
  }
  const loops = states.length > 1 ? 2 : 1;
  await writeRecording(out, Array.from({ length: loops }, () => states).flat(), opts);
}

export async function writeRecordings(
  outDir: string, shape: MediaShape, out: RecallOutput, originals: Float32Array[], force: boolean,
): Promise<EventBody<ArtifactEvent>[]> {
  if (shape.kind === 'audio') {
    const wav = join(outDir, 'recalled.wav');
    await recordCycle(wav, shape, out.states, force);
    return [{ kind: 'artifact', what: 'audio', path: wav }];
  }
  const videoPath = join(outDir, 'recalled.mp4');
  await recordCycle(videoPath, shape, out.states, force);
  const sheetPath = join(outDir, 'contact.png');
  writePng(sheetPath, contactSheet([originals, recalledPerFrame(out.event, out.states)], shape.width, shape.height, shape.channels));
  return [
    { kind: 'artifact', what: 'video', path: videoPath },
    { kind: 'artifact', what: 'contact-sheet', path: sheetPath },
  ];
}

/** For each training sample, the recalled state recall compared it with (matched, else nearest). */
export function recalledPerFrame(e: RecallEvent, states: Float32Array[]): Float32Array[] {
  return e.frames.map((f) => states[f.state]);
}
