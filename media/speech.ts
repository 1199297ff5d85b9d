/**
 * Speech from text with espeak-ng (when installed): the speech experiment's real voice, made on the
 * spot instead of shipped. espeak-ng writes the WAV to a pipe; sinks/ put it in a file.
 */
import { execFile } from 'node:child_process';
import { EngramError } from '../errors.ts';
import { findOnPath } from './ffmpeg.ts';

/** The espeak-ng executable, or undefined when it is not installed. */
export const espeakPath = (): string | undefined => findOnPath('espeak-ng');

/** `text` spoken by espeak-ng at `wordsPerMinute`, as the bytes of a WAV file (its own rate, mono). */
export function speakToWav(text: string, o: { wordsPerMinute?: number; voice?: string } = {}): Promise<Buffer> {
  const bin = espeakPath();
  if (!bin) return Promise.reject(new EngramError('E_INPUT_MISSING', 'espeak-ng is not installed; install it (Debian: apt-get install espeak-ng) to synthesize speech'));
  const args = ['--stdout', '-s', String(o.wordsPerMinute ?? 140), ...(o.voice ? ['-v', o.voice] : []), text];
  return new Promise((res, rej) => {
    execFile(bin, args, { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err || stdout.length < 44) {
        rej(new EngramError('E_INPUT_INVALID', `espeak-ng could not synthesize speech: ${err?.message ?? ''} ${stderr.toString().trim()}`.trim()));
      } else res(stdout);
    });
  });
}
