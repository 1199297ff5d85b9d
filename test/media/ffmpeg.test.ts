import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseContainerInfo, partialPathFor, probeContainer, resolveFfmpeg } from '../../media/ffmpeg.ts';

describe('partialPathFor', () => {
  it('keeps the extension last, and is absolute: an output named -x/… must not reach ffmpeg as an option', () => {
    expect(partialPathFor('/a/b/clip.mp4')).toBe('/a/b/.clip.partial.mp4');
    expect(partialPathFor('-x/recalled.mp4')).toBe(join(resolve('-x'), '.recalled.partial.mp4'));
  });
});

describe('resolveFfmpeg', () => {
  it('finds a binary that exists', () => {
    const { path, source } = resolveFfmpeg();
    expect(existsSync(path)).toBe(true);
    expect(['FFMPEG_PATH', 'PATH', '@ffmpeg-installer/ffmpeg']).toContain(source);
  });
});

describe('parseContainerInfo: what `ffmpeg -i FILE` says of a container', () => {
  it("reads the duration and the first video stream's rate", () => {
    const report = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'clip.mp4':",
      '  Duration: 00:01:04.50, start: 0.000000, bitrate: 256 kb/s',
      '  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 128x128 [SAR 1:1 DAR 1:1], 252 kb/s, 29.97 fps, 29.97 tbr, 30k tbn (default)',
      '  Stream #0:1[0x2](und): Audio: aac (LC), 44100 Hz, stereo, fltp, 128 kb/s (default)',
    ].join('\n');
    expect(parseContainerInfo(report)).toEqual({
      duration: 64.5, fps: 29.97, format: 'mov,mp4,m4a,3gp,3g2,mj2',
      streams: [{ type: 'video', codec: 'h264' }, { type: 'audio', codec: 'aac' }],
    });
  });

  it('lists the streams and the demuxer, so a WAV read as video is told by what it holds', () => {
    const wav = [
      "Input #0, wav, from 'six.wav':",
      '  Duration: 00:00:01.91, bitrate: 352 kb/s',
      '  Stream #0:0: Audio: pcm_s16le ([1][0][0][0] / 0x0001), 22050 Hz, mono, s16, 352 kb/s',
    ].join('\n');
    expect(parseContainerInfo(wav)).toEqual({ duration: 1.91, format: 'wav', streams: [{ type: 'audio', codec: 'pcm_s16le' }] });
    const png = "Input #0, png_pipe, from 'a.png':\n  Duration: N/A, bitrate: N/A\n  Stream #0:0: Video: png, rgb24(pc), 8x8 [SAR 1:1 DAR 1:1], 25 fps, 25 tbr, 25 tbn";
    expect(parseContainerInfo(png)).toMatchObject({ format: 'png_pipe', streams: [{ type: 'video', codec: 'png' }] });
    const cover = "Input #0, mp3, from 'a.mp3':\n  Stream #0:0: Audio: mp3, 44100 Hz, stereo, fltp, 128 kb/s\n  Stream #0:1: Video: mjpeg (Baseline), yuvj420p, 300x300, 90k tbr, 90k tbn (attached pic)";
    expect(parseContainerInfo(cover).streams).toEqual([{ type: 'audio', codec: 'mp3' }, { type: 'video', codec: 'mjpeg', picture: true }]);
  });

  it('skips a cover picture, falls back to tbr, and leaves out what is not said', () => {
    const report = [
      '  Duration: N/A, bitrate: N/A',
      '    Stream #0:0: Video: mjpeg, yuvj420p, 300x300, 90k tbr, 90k tbn (attached pic)',
      '    Stream #0:1: Video: h264, yuv420p, 64x64, 25 tbr, 1200k tbn',
    ].join('\n');
    expect(parseContainerInfo(report)).toEqual({ fps: 25, streams: [{ type: 'video', codec: 'mjpeg', picture: true }, { type: 'video', codec: 'h264' }] });
    expect(parseContainerInfo('')).toEqual({});
  });

  it('asks the resolved ffmpeg (no ffprobe needed); a file it cannot read gives {}', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-probe-'));
    try {
      const clip = join(dir, 'c.mkv');
      execFileSync(resolveFfmpeg().path, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=16x16:r=12:d=1', '-c:v', 'ffv1', clip]);
      expect(await probeContainer(clip)).toEqual({ duration: 1, fps: 12, format: 'matroska,webm', streams: [{ type: 'video', codec: 'ffv1' }] });
      expect(await probeContainer(join(dir, 'absent.mkv'))).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
