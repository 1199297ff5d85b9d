/**
 * Input honesty at the source (issue 9): a video or audio file says how much it holds; the decode
 * reports how much came out. Lossy media (H.264, MP3) are the normal case: intact ones decode in
 * full, truncated ones (cut at 60% of their bytes) come up short, and the report says by how much.
 * All media are made here with ffmpeg's lavfi sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';
import { readAudioSeconds } from '../../sources/audio.ts';
import { expectedFrames, partialDecode, readVideoFrames, type DecodeReport, type VideoFrameOptions } from '../../sources/video.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-decode-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
const ffmpeg = (...args: string[]) => execFileSync(resolveFfmpeg().path, ['-hide_banner', '-v', 'error', '-nostdin', '-y', ...args]);
const encoders = execFileSync(resolveFfmpeg().path, ['-hide_banner', '-encoders'], { encoding: 'utf8' });
const hasEncoder = (name: string) => new RegExp(`^\\s*[VA]\\S*\\s+${name}\\s`, 'm').test(encoders);

/** The first `fraction` of a file's bytes, as a new file: what an interrupted download or copy leaves. */
function truncated(path: string, name: string, fraction = 0.6): string {
  const bytes = readFileSync(path);
  writeFileSync(at(name), bytes.subarray(0, Math.floor(bytes.length * fraction)));
  return at(name);
}

/** 12 frames of testsrc2 at 12 fps in lossy H.264 (every frame a keyframe, so a cut file still decodes up to the cut). */
function h264(name: string, extra: string[] = []): string {
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=s=64x64:r=12:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '1', '-pix_fmt', 'yuv420p', ...extra, at(name));
  return at(name);
}

async function decode(path: string, opts: Partial<VideoFrameOptions> = {}): Promise<{ frames: number; report: DecodeReport }> {
  let report: DecodeReport | undefined;
  const frames = await readVideoFrames(path, { width: 16, height: 16, gray: true, ...opts, onReport: (r) => (report = r) });
  expect(report).toBeDefined();
  return { frames: frames.length, report: report! };
}

describe('expectedFrames and partialDecode', () => {
  it("expect the container's duration × fps, lowered by --start, --duration, --fps and --frames", () => {
    const info = { duration: 4, fps: 24 };
    expect(expectedFrames(info, {})).toEqual({ frames: 96, from: "the container's duration 4 s × 24 fps" });
    expect(expectedFrames(info, { start: 1 })?.frames).toBe(72);
    expect(expectedFrames(info, { start: 1, duration: 2 })?.frames).toBe(48);
    expect(expectedFrames(info, { fps: 10 })).toEqual({ frames: 40, from: "the container's duration 4 s × 10 fps (--fps)" });
    expect(expectedFrames(info, { frames: 10 })).toEqual({ frames: 10, from: '--frames 10 (the container has ~96)' });
    expect(expectedFrames(info, { frames: 500 })?.frames).toBe(96);
    expect(expectedFrames({ fps: 24 }, {})).toBeUndefined();
    expect(expectedFrames({ duration: 4 }, {})).toBeUndefined();
    expect(expectedFrames({ duration: 4 }, { fps: 5 })?.frames).toBe(20);
  });

  it('allow 1 frame or 2% (whichever is more) for rounding of duration × fps', () => {
    const r = (framesDecoded: number, frames: number): DecodeReport => ({ framesDecoded, expected: { frames, from: 'x' }, errors: [] });
    expect(partialDecode(r(11, 12))).toBe(false);
    expect(partialDecode(r(10, 12))).toBe(true);
    expect(partialDecode(r(98, 100))).toBe(false);
    expect(partialDecode(r(97, 100))).toBe(true);
    expect(partialDecode(r(13, 12))).toBe(false);
    expect(partialDecode({ framesDecoded: 1, errors: [] })).toBe(false); // nothing said what to expect
  });
});

describe.skipIf(!hasEncoder('libx264'))('video: lossy H.264 files', () => {
  it('an intact H.264 MP4 decodes all 12 frames the container promises, with no decode errors', async () => {
    const { frames, report } = await decode(h264('intact.mp4'));
    expect(frames).toBe(12);
    expect(report).toEqual({ framesDecoded: 12, expected: { frames: 12, from: "the container's duration 1 s × 12 fps" }, errors: [] });
    expect(partialDecode(report)).toBe(false);
  });

  it('the expectation follows --fps, --start and --frames on an intact clip, which still decodes in full', async () => {
    const clip = h264('intact-options.mp4');
    for (const opts of [{ fps: 6 }, { start: 0.5 }, { frames: 5 }]) {
      const { frames, report } = await decode(clip, opts);
      expect(report.expected?.frames, JSON.stringify(opts)).toBe(opts.fps ? 6 : opts.start ? 6 : 5);
      expect(Math.abs(frames - report.expected!.frames), JSON.stringify(opts)).toBeLessThanOrEqual(1);
      expect(partialDecode(report), JSON.stringify(opts)).toBe(false);
    }
  });

  it('an MP4 cut at 60% of its bytes (moov at the front) decodes short of 12 frames: partial, with ffmpeg\'s errors as evidence', async () => {
    const cut = truncated(h264('whole.mp4', ['-movflags', '+faststart']), 'cut.mp4');
    const { frames, report } = await decode(cut);
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThan(11);
    expect(report.framesDecoded).toBe(frames);
    expect(report.expected).toEqual({ frames: 12, from: "the container's duration 1 s × 12 fps" });
    expect(partialDecode(report)).toBe(true);
    expect(report.errors.join('\n')).toMatch(/partial file|Invalid NAL|corrupt|Truncat|ended prematurely|Read error/i);
    expect(report.errors.join('\n')).not.toMatch(/ @ 0x/); // addresses stripped
  });

  it('a Matroska file cut the same way is partial too (its header says the duration)', async () => {
    const { frames, report } = await decode(truncated(h264('whole.mkv'), 'cut.mkv'));
    expect(frames).toBeLessThan(11);
    expect(report.expected?.frames).toBe(12);
    expect(partialDecode(report)).toBe(true);
  });

  it('a lavfi source promises nothing: no expectation, never partial', async () => {
    const { frames, report } = await decode('lavfi:testsrc2=s=16x16:r=12:d=1');
    expect(frames).toBe(12);
    expect(report.expected).toBeUndefined();
    expect(partialDecode(report)).toBe(false);
  });
});

const footage = join(import.meta.dirname, '../../../shared/media/astronaut-orbit.mp4');
describe.skipIf(!existsSync(footage))(`natural footage${existsSync(footage) ? '' : ` (skipped: ${footage} is absent)`}`, () => {
  it('astronaut-orbit.mp4 at 32x32 gray decodes all 96 frames its container promises', async () => {
    const { frames, report } = await decode(footage, { width: 32, height: 32 });
    expect(frames).toBe(96);
    expect(report).toEqual({ framesDecoded: 96, expected: { frames: 96, from: "the container's duration 4 s × 24 fps" }, errors: [] });
    expect(partialDecode(report)).toBe(false);
  });
});

describe('audio: what the file says against what decodes', () => {
  it('an intact WAV: its header promises 2 s and 2 s decode (natively)', async () => {
    ffmpeg('-f', 'lavfi', '-i', 'sine=f=440:r=22050:d=2', '-c:a', 'pcm_s16le', at('tone.wav'));
    const { info } = await readAudioSeconds(at('tone.wav'), { rate: 22050, expectLength: true });
    expect(info.decodedVia).toBe('wav-decoder');
    expect(info.decodedSeconds).toBeCloseTo(2, 3);
    expect(info.expected).toEqual({ seconds: 2, from: "the WAV header's data size (88200 bytes)" });
  });

  it('a WAV cut at 60%: the header still promises 2 s, about 1.2 s decode', async () => {
    const { info } = await readAudioSeconds(truncated(at('tone.wav'), 'tone-cut.wav'), { rate: 22050, expectLength: true });
    expect(info.expected?.seconds).toBe(2);
    expect(info.decodedSeconds).toBeGreaterThan(1);
    expect(info.decodedSeconds).toBeLessThan(1.4);
  });

  it.skipIf(!hasEncoder('libmp3lame'))('an MP3 promises its duration; intact it decodes within MP3 padding of it, cut it comes up short', async () => {
    ffmpeg('-f', 'lavfi', '-i', 'sine=f=440:r=44100:d=2', '-c:a', 'libmp3lame', at('tone.mp3'));
    const whole = (await readAudioSeconds(at('tone.mp3'), { rate: 22050, expectLength: true })).info;
    expect(whole.expected?.from).toMatch(/^the container's duration 2\.0\d* s$/);
    expect(Math.abs(whole.expected!.seconds - whole.decodedSeconds)).toBeLessThan(0.1);
    const cut = (await readAudioSeconds(truncated(at('tone.mp3'), 'tone-cut.mp3'), { rate: 22050, expectLength: true })).info;
    expect(cut.expected?.seconds).toBe(whole.expected!.seconds);
    expect(cut.decodedSeconds).toBeLessThan(1.5);
  });

  it('--frames lowers the expectation to the chunks asked for; without expectLength nothing is probed', async () => {
    const { info } = await readAudioSeconds(at('tone.wav'), { rate: 22050, chunkSeconds: 0.5, maxChunks: 2, expectLength: true });
    expect(info.expected).toEqual({ seconds: 1, from: '--frames 2 chunks of 0.5 s (the file has 2 s)' });
    expect((await readAudioSeconds(at('tone.wav'), { rate: 22050 })).info.expected).toBeUndefined();
  });
});
