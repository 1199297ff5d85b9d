/**
 * Progress while an input decodes (issue 10: a long decode showed nothing until training began):
 * the video and audio sources say how far they have come, at most every progressMs, with what the
 * input promises when that is known. Media are made here with ffmpeg's lavfi sources.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';
import { readAudioSeconds, type AudioProgress } from '../../sources/audio.ts';
import { readVideoFrames, type DecodeProgress } from '../../sources/video.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-decode-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
const ffmpeg = (...args: string[]) => execFileSync(resolveFfmpeg().path, ['-hide_banner', '-v', 'error', '-nostdin', '-y', ...args]);

beforeAll(() => {
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=s=32x32:r=12:d=1', '-c:v', 'ffv1', at('twelve.mkv'));
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=3', '-c:a', 'pcm_s16le', at('tone.wav'));
});

describe('video decode progress', () => {
  it('counts frames as they decode, with the container\'s promise when it is known', async () => {
    const seen: DecodeProgress[] = [];
    const frames = await readVideoFrames(at('twelve.mkv'), { width: 8, height: 8, gray: true, onProgress: (p) => seen.push(p), progressMs: 0 });
    expect(frames).toHaveLength(12);
    expect(seen.map((p) => p.frames)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // the container is asked alongside the decode: once it has answered, every report carries its 12 frames
    for (const p of seen) expect(p.expected === undefined || p.expected === 12, JSON.stringify(p)).toBe(true);
    expect(seen.every((p, i) => i === 0 || p.elapsedMs >= seen[i - 1].elapsedMs)).toBe(true);
  });

  it('takes --frames as the promise of a source that states no length (lavfi)', async () => {
    const seen: DecodeProgress[] = [];
    await readVideoFrames('lavfi:testsrc2=s=16x16:r=10', { width: 8, height: 8, gray: true, frames: 5, onProgress: (p) => seen.push(p), progressMs: 0 });
    expect(seen.map((p) => [p.frames, p.expected])).toEqual([[1, 5], [2, 5], [3, 5], [4, 5], [5, 5]]);
  });

  it('says nothing for a decode quicker than progressMs (the default is a second)', async () => {
    const seen: DecodeProgress[] = [];
    await readVideoFrames(at('twelve.mkv'), { width: 8, height: 8, gray: true, onProgress: (p) => seen.push(p), progressMs: 60_000 });
    expect(seen).toEqual([]);
  });
});

describe('audio decode progress', () => {
  it('counts seconds of sound as ffmpeg transcodes, against the WAV header\'s length', async () => {
    const seen: AudioProgress[] = [];
    const { info } = await readAudioSeconds(at('tone.wav'), { rate: 8000, expectLength: true, onProgress: (p) => seen.push(p), progressMs: 0 });
    expect(info.decodedVia).toBe('ffmpeg');
    expect(seen.length).toBeGreaterThan(0);
    for (const [i, p] of seen.entries()) {
      expect(p.seconds).toBeGreaterThanOrEqual(i === 0 ? 0 : seen[i - 1].seconds);
      expect(p.seconds).toBeLessThanOrEqual(3);
      expect(p.expected === undefined || Math.abs(p.expected - 3) < 1e-9, JSON.stringify(p)).toBe(true);
    }
  });

  it('a WAV read in-process (already at the rate) is quick and says nothing', async () => {
    const seen: AudioProgress[] = [];
    const { info } = await readAudioSeconds(at('tone.wav'), { rate: 44100, onProgress: (p) => seen.push(p), progressMs: 0 });
    expect(info.decodedVia).toBe('wav-decoder');
    expect(seen).toEqual([]);
  });
});
