/**
 * Waveforms to WAV files through wav-encoder: 16-bit PCM by default (what every player reads), or
 * 32-bit float. Written under a partial name and renamed, so a failed write never leaves a
 * complete-looking file.
 */
import { existsSync, statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { encode } from 'wav-encoder';
import { EngramError } from '../errors.ts';
import { partialOutput } from './partials.ts';

export type WriteWavOptions = {
  /** sample rate in Hz */
  rate: number;
  /** replace an existing file at `path` */
  overwrite?: boolean;
  /** write 32-bit float samples instead of 16-bit PCM */
  float?: boolean;
};

/** Write mono `samples` (clamped to [−1, 1]; NaN becomes 0) to `path`. */
export async function writeWav(path: string, samples: Float32Array, opts: WriteWavOptions): Promise<void> {
  if (existsSync(path) && opts.overwrite !== true) {
    throw new EngramError('E_OUTPUT_EXISTS', `${path} already exists; pass --force to overwrite it or choose another --out`);
  }
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new EngramError('E_BAD_ARGUMENT', `cannot write ${path}: directory ${dir} does not exist; create it first or choose another --out`);
  }
  if (!Number.isInteger(opts.rate) || opts.rate < 1) {
    throw new EngramError('E_BAD_ARGUMENT', `cannot write ${path} at ${opts.rate} Hz: the sample rate must be a positive whole number`);
  }
  if (samples.length === 0) {
    throw new EngramError('E_INPUT_EMPTY', `no samples to write to ${path}; the waveform to encode is empty`);
  }

  // wav-encoder clamps 16-bit output itself but writes floats as given; clamp once for both.
  const clamped = samples.map((v) => (Number.isNaN(v) ? 0 : Math.max(-1, Math.min(1, v))));
  const bytes = encode.sync({ sampleRate: opts.rate, channelData: [clamped] }, opts.float ? { float: true } : { bitDepth: 16 });
  const tmp = partialOutput(path);
  try {
    await writeFile(tmp, new Uint8Array(bytes));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** The recalled cycle as one waveform: the states' samples back to back, in cycle order. */
export function concatCycle(states: Float32Array[]): Float32Array {
  const out = new Float32Array(states.reduce((n, s) => n + s.length, 0));
  let offset = 0;
  for (const s of states) {
    out.set(s, offset);
    offset += s.length;
  }
  return out;
}
