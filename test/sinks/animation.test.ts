import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngramError } from '../../errors.ts';
import type { TrainStepEvent } from '../../events.ts';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';
import { h264Available, writeGif, writeMp4, writeRecording } from '../../sinks/animation.ts';
import { METRICS_HEADER, openMetricsCsv } from '../../sinks/csv.ts';
import { writePngFrames } from '../../sinks/png-frames.ts';
import { readImages } from '../../sources/images.ts';
import { readVideoFrames } from '../../sources/video.ts';
import { movingSquare } from '../fixtures/frames.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engram-animation-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});


const frames = movingSquare(6, 8);
const opts = { width: 8, height: 8, channels: 1 as const, scale: 4 };
const meanAbs = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

/** Each decoded frame is closest to the original at its position, and close in absolute terms. */
async function expectRoundTrip(path: string, count = frames.length): Promise<void> {
  const decoded = await readVideoFrames(path, { width: 8, height: 8, gray: true });
  expect(decoded).toHaveLength(count);
  decoded.forEach((d, i) => {
    const errors = frames.map((o) => meanAbs(d.data, o));
    expect(errors.indexOf(Math.min(...errors))).toBe(i % frames.length);
    expect(errors[i % frames.length]).toBeLessThan(0.03);
  });
}

/** The video codec ffmpeg reports for a file ("h264", "mpeg4", "gif"). */
function codecOf(path: string): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(resolveFfmpeg().path, ['-hide_banner', '-i', path], (_err, _stdout, stderr) => done(/Video: (\w+)/.exec(stderr)?.[1]));
  });
}

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<EngramError> {
  const e = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(EngramError);
  return e as EngramError;
}

const noPartials = (d: string) => expect(readdirSync(d).filter((n) => n.includes('.partial'))).toEqual([]);

describe('writeGif', () => {
  it('round-trips frames through a looping GIF', async () => {
    const out = join(dir, 'square.gif');
    await writeGif(out, frames, opts);
    const bytes = readFileSync(out);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    expect(bytes.includes('NETSCAPE2.0')).toBe(true); // the loop extension written by -loop 0
    expect(await codecOf(out)).toBe('gif');
    await expectRoundTrip(out);
    noPartials(dir);
  });

  it('refuses to overwrite unless asked, and names a missing output directory', async () => {
    const out = join(dir, 'twice.gif');
    await writeGif(out, frames, opts);
    expect((await errorOf(writeGif(out, frames, opts))).code).toBe('E_OUTPUT_EXISTS');
    await writeGif(out, frames.slice(0, 2), { ...opts, overwrite: true });
    // GIF delays are whole centiseconds (12 fps → 8 cs); at 2 frames ffmpeg guesses no rate, so give it
    expect(await readVideoFrames(out, { width: 8, height: 8, gray: true, fps: 12.5 })).toHaveLength(2);

    const missing = join(dir, 'nope', 'x.gif');
    const e = await errorOf(writeGif(missing, frames, opts));
    expect(e.code).toBe('E_BAD_ARGUMENT');
    expect(e.message).toContain(join(dir, 'nope'));
  });
});

describe('writeMp4', () => {
  it('encodes MPEG-4 Part 2 when forced (the fallback without libx264)', async () => {
    const out = join(dir, 'fallback.mp4');
    expect(await writeMp4(out, frames, { ...opts, codec: 'mpeg4' })).toBe('mpeg4');
    expect(await codecOf(out)).toBe('mpeg4');
    await expectRoundTrip(out);
    noPartials(dir);
    expect((await errorOf(writeMp4(out, frames, { ...opts, codec: 'mpeg4' }))).code).toBe('E_OUTPUT_EXISTS');
  });

  it.runIf(h264Available())('encodes H.264 when this ffmpeg has libx264', async () => {
    const out = join(dir, 'h264.mp4');
    expect(await writeMp4(out, frames, opts)).toBe('libx264');
    expect(await codecOf(out)).toBe('h264');
    await expectRoundTrip(out);
  });

  it('names a missing output directory on both paths', async () => {
    for (const codec of ['mpeg4', 'libx264'] as const) {
      const e = await errorOf(writeMp4(join(dir, 'absent', 'x.mp4'), frames, { ...opts, codec }));
      expect(e.code).toBe('E_BAD_ARGUMENT');
      expect(e.message).toContain(join(dir, 'absent'));
    }
  });
});

describe('writeRecording', () => {
  it.each(['mp4', 'gif', 'mkv'])('writes .%s by extension', async (ext) => {
    const out = join(dir, `rec.${ext}`);
    await writeRecording(out, frames, opts);
    expect(await codecOf(out)).toBe({ mp4: h264Available() ? 'h264' : 'mpeg4', gif: 'gif', mkv: 'ffv1' }[ext]);
    await expectRoundTrip(out);
  });

  it("writes PNG frames to a path ending in '/' and to an existing directory", async () => {
    const out = join(dir, 'frames') + '/';
    await writeRecording(out, frames, { ...opts, scale: 1 });
    expect(readdirSync(out).sort()).toEqual(frames.map((_, i) => `frame-${String(i).padStart(6, '0')}.png`));
    // lossless: the frames read back exactly (values are multiples of 1/255 after rounding)
    const { samples } = await readImages(out, { width: 8, height: 8, gray: true });
    samples.forEach((s, i) => expect(Array.from(s.data, (v) => Math.round(v * 255))).toEqual(Array.from(frames[i], (v) => Math.round(v * 255))));

    const existing = join(dir, 'existing-dir');
    mkdirSync(existing);
    await writeRecording(existing, frames, opts);
    expect(readdirSync(existing)).toHaveLength(frames.length);
  });

  it('rejects other outputs, listing the accepted ones', async () => {
    const e = await errorOf(writeRecording(join(dir, 'rec.avi'), frames, opts));
    expect(e.code).toBe('E_BAD_ARGUMENT');
    expect(e.message).toMatch(/\.mp4.*\.gif.*\.mkv.*PNG frames/);
    expect(existsSync(join(dir, 'rec.avi'))).toBe(false);
  });
});

describe('writePngFrames', () => {
  it('upscales, refuses existing frames unless overwriting, and replaces all old frames', async () => {
    const out = join(dir, 'pngs');
    writePngFrames(out, frames, { width: 8, height: 8, channels: 1, scale: 2 });
    const { info } = await readImages(out, { width: 16, height: 16, gray: true });
    expect(info.sizes).toEqual({ '16x16': 6 });

    expect((await errorOf(() => writePngFrames(out, frames, opts))).code).toBe('E_OUTPUT_EXISTS');
    writePngFrames(out, frames.slice(0, 2), { ...opts, overwrite: true });
    expect(readdirSync(out)).toEqual(['frame-000000.png', 'frame-000001.png']);
  });

  it('names a missing parent directory', async () => {
    const e = await errorOf(() => writePngFrames(join(dir, 'absent', 'frames'), frames, opts));
    expect(e.code).toBe('E_BAD_ARGUMENT');
    expect(e.message).toContain(join(dir, 'absent'));
  });
});

describe('openMetricsCsv', () => {
  const step = (s: number, loss: number): TrainStepEvent => ({
    kind: 'train-step', runId: 'r', step: s, time: 1_700_000_000_000 + s, loss, lr: 1e-4, gradNorm: 0.1 + 0.2, stepMs: 3.5, samplesPerSec: 1234.5,
  });

  it('writes one header and one full-precision row per train-step event, appending on resume', () => {
    const path = join(dir, 'metrics.csv');
    const csv = openMetricsCsv(path);
    csv.write(step(1, 0.123456789012345));
    csv.write({ kind: 'log', runId: 'r', step: 1, time: 0, level: 'info', message: 'not a metric' });
    csv.write(step(2, Number.NaN));
    csv.close();

    const resumed = openMetricsCsv(path);
    resumed.write(step(3, Number.POSITIVE_INFINITY));
    resumed.close();

    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toEqual([
      METRICS_HEADER,
      '1,1700000000001,train-step,0.123456789012345,0.0001,0.30000000000000004,3.5,1234.5',
      '2,1700000000002,train-step,NaN,0.0001,0.30000000000000004,3.5,1234.5',
      '3,1700000000003,train-step,Infinity,0.0001,0.30000000000000004,3.5,1234.5',
    ]);
    expect(METRICS_HEADER).toBe('step,time,kind,loss,lr,grad_norm,step_ms,samples_per_sec');
  });

  it('refuses to append to a file that is not a metrics CSV', async () => {
    const path = join(dir, 'other.csv');
    writeFileSync(path, 'a,b\n1,2\n');
    expect((await errorOf(() => openMetricsCsv(path))).code).toBe('E_OUTPUT_EXISTS');
  });
});
