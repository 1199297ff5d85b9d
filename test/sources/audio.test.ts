import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngramError } from '../../errors.ts';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';
import { audioSeconds$, readAudioSeconds, type AudioInfo, type AudioOptions } from '../../sources/audio.ts';
import { concatCycle, writeWav } from '../../sinks/wav.ts';

const RATE = 22050;
const dir = mkdtempSync(join(tmpdir(), 'engram-audio-test-'));
const at = (name: string) => join(dir, name);

function ffmpeg(...args: string[]): void {
  execFileSync(resolveFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args]);
}

/** Which encoders the ffmpeg we decode with has, so a missing one skips only its format. */
const encoders = execFileSync(resolveFfmpeg().path, ['-hide_banner', '-encoders'], { encoding: 'utf8' });
const hasEncoder = (name: string) => new RegExp(`^\\s*A\\S*\\s+${name}\\s`, 'm').test(encoders);

/** chmod 000 does not stop root from reading; find out rather than guess from the uid. */
const unreadablePath = at('unreadable.wav');
writeFileSync(unreadablePath, 'RIFF');
chmodSync(unreadablePath, 0o000);
const chmodBlocksReads = (() => {
  try {
    readFileSync(unreadablePath);
    return false;
  } catch {
    return true;
  }
})();

/** The ideal test tone: sin(2π·f·i/rate), the same phase lavfi's sine source starts at. */
function sine(n: number, rate = RATE, freq = 440, amp = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));
}

function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma;
    const y = b[i] - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

type HandWav = { rate: number; bits: 8 | 16 | 24 | 32; float?: boolean; extensible?: boolean; channels: Float32Array[] };

/**
 * A WAV written byte by byte, so the edge cases do not depend on any encoder. Integers use the
 * asymmetric scale wav-decoder reads back (×128 below zero, ×127 above for 8 bits, and so on).
 */
function handWav(path: string, w: HandWav): void {
  const nch = w.channels.length;
  const frames = w.channels[0]?.length ?? 0;
  const bytes = w.bits / 8;
  const fmtSize = w.extensible ? 40 : 16;
  const dataSize = frames * nch * bytes;
  const buf = new ArrayBuffer(12 + 8 + fmtSize + 8 + dataSize);
  const v = new DataView(buf);
  const str = (pos: number, s: string) => [...s].forEach((c, i) => v.setUint8(pos + i, c.charCodeAt(0)));
  str(0, 'RIFF');
  v.setUint32(4, buf.byteLength - 8, true);
  str(8, 'WAVE');
  str(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  const tag = w.float ? 3 : 1;
  v.setUint16(20, w.extensible ? 0xfffe : tag, true);
  v.setUint16(22, nch, true);
  v.setUint32(24, w.rate, true);
  v.setUint32(28, w.rate * nch * bytes, true);
  v.setUint16(32, nch * bytes, true);
  v.setUint16(34, w.bits, true);
  if (w.extensible) {
    v.setUint16(36, 22, true); // cbSize
    v.setUint16(38, w.bits, true); // valid bits
    v.setUint32(40, nch === 1 ? 0x4 : 0x3, true); // channel mask: FC, or FL|FR
    // subformat GUID 0000000x-0000-0010-8000-00aa00389b71, x = PCM (1) or IEEE float (3)
    [tag, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71].forEach((b, i) => v.setUint8(44 + i, b));
  }
  const data = 20 + fmtSize;
  str(data, 'data');
  v.setUint32(data + 4, dataSize, true);
  let pos = data + 8;
  for (let i = 0; i < frames; i++) {
    for (const ch of w.channels) {
      const x = ch[i];
      const scaled = (full: number) => Math.round(x < 0 ? x * full : x * (full - 1));
      if (w.float) v.setFloat32(pos, x, true);
      else if (w.bits === 8) v.setUint8(pos, scaled(128) + 128);
      else if (w.bits === 16) v.setInt16(pos, scaled(32768), true);
      else if (w.bits === 24) {
        const s = scaled(8388608) & 0xffffff;
        v.setUint8(pos, s & 0xff);
        v.setUint8(pos + 1, (s >> 8) & 0xff);
        v.setUint8(pos + 2, (s >> 16) & 0xff);
      } else v.setInt32(pos, scaled(2147483648), true);
      pos += bytes;
    }
  }
  writeFileSync(path, new Uint8Array(buf));
}

const joined = (chunks: { data: Float32Array }[]) => concatCycle(chunks.map((c) => c.data));

async function expectError(p: Promise<unknown>, code: string, ...inMessage: string[]): Promise<EngramError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EngramError);
  const e = err as EngramError;
  expect(e.code).toBe(code);
  for (const s of inMessage) expect(e.message).toContain(s);
  return e;
}

beforeAll(() => {
  ffmpeg('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${RATE}:duration=3`, '-c:a', 'pcm_s16le', at('sine.wav'));
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=3', '-c:a', 'pcm_s16le', at('sine44k.wav'));
  ffmpeg('-f', 'lavfi', '-i', 'anoisesrc=d=2:c=pink:r=44100:a=0.5', '-c:a', 'pcm_s16le', at('pink44k.wav'));
});

afterAll(() => {
  chmodSync(unreadablePath, 0o644);
  rmSync(dir, { recursive: true, force: true });
});

describe('audioSeconds$: native WAV decoding', () => {
  it('decodes a 16-bit 22,050 Hz mono WAV with wav-decoder into 1 s chunks of the sine', async () => {
    let info: AudioInfo | undefined;
    const chunks = await lastValueFrom(audioSeconds$(at('sine.wav'), { onInfo: (i) => (info = i) }).pipe(toArray()));
    expect(info).toMatchObject({ decodedVia: 'wav-decoder', sampleRate: RATE, chunks: 3, samplesPerChunk: RATE, dropped: 0, padded: 0 });
    expect(chunks.map((c) => [c.index, c.timestamp, c.data.length])).toEqual([
      [0, 0, RATE],
      [1, 1, RATE],
      [2, 2, RATE],
    ]);
    expect(correlation(joined(chunks), sine(3 * RATE))).toBeGreaterThan(0.999);
  });

  const wave = sine(RATE, RATE, 440, 0.8);
  for (const [name, bits, float, tol] of [
    ['8-bit', 8, false, 1 / 127],
    ['24-bit', 24, false, 1 / 8388607],
    ['32-bit int', 32, false, 1e-7],
    ['float32', 32, true, 1e-7],
  ] as const) {
    it(`decodes a hand-written ${name} WAV natively to the same values within quantization`, async () => {
      const path = at(`hand-${name}.wav`);
      handWav(path, { rate: RATE, bits, float, channels: [wave] });
      const { chunks, info } = await readAudioSeconds(path);
      expect(info.decodedVia).toBe('wav-decoder');
      expect(maxAbsDiff(chunks[0].data, wave)).toBeLessThanOrEqual(tol);
    });
  }

  it('mixes stereo to mono as the mean of the channels', async () => {
    const left = sine(RATE);
    const right = Float32Array.from({ length: RATE }, (_, i) => (i % 100) / 100 - 0.5);
    handWav(at('stereo.wav'), { rate: RATE, bits: 16, channels: [left, right] });
    const { chunks, info } = await readAudioSeconds(at('stereo.wav'));
    expect(info.decodedVia).toBe('wav-decoder');
    const mean = left.map((l, i) => (l + right[i]) / 2);
    expect(maxAbsDiff(chunks[0].data, mean)).toBeLessThanOrEqual(1 / 32767);
  });
});

describe('audioSeconds$: through ffmpeg', () => {
  it('resamples a 44.1 kHz WAV to 22,050 Hz', async () => {
    const { chunks, info } = await readAudioSeconds(at('sine44k.wav'));
    expect(info).toMatchObject({ decodedVia: 'ffmpeg', sampleRate: RATE, chunks: 3, dropped: 0 });
    expect(correlation(joined(chunks), sine(3 * RATE))).toBeGreaterThan(0.99);
  });

  it('resamples 44.1 kHz pink noise, keeping samples in [−1, 1]', async () => {
    const { chunks, info } = await readAudioSeconds(at('pink44k.wav'));
    expect(info).toMatchObject({ decodedVia: 'ffmpeg', chunks: 2, samplesPerChunk: RATE });
    const all = joined(chunks);
    const rms = Math.sqrt(all.reduce((s, x) => s + x * x, 0) / all.length);
    expect(rms).toBeGreaterThan(0.05);
    expect(all.every((x) => x >= -1 && x <= 1)).toBe(true);
  });

  for (const [ext, encoder, minCorrelation] of [
    ['mp3', 'libmp3lame', 0.99],
    ['ogg', 'libvorbis', 0.99],
    ['flac', 'flac', 0.999],
  ] as const) {
    it.skipIf(!hasEncoder(encoder))(`decodes ${ext} via ffmpeg${hasEncoder(encoder) ? '' : ` (skipped: this ffmpeg has no ${encoder} encoder to make the input)`}`, async () => {
      const path = at(`sine.${ext}`);
      ffmpeg('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${RATE}:duration=3`, '-c:a', encoder, path);
      const { chunks, info } = await readAudioSeconds(path);
      expect(info.decodedVia).toBe('ffmpeg');
      expect(info.chunks).toBe(3);
      expect(correlation(joined(chunks), sine(3 * RATE))).toBeGreaterThan(minCorrelation);
    });
  }

  it('transcodes an extensible-header WAV (format 0xFFFE) that wav-decoder rejects', async () => {
    const wave = sine(2 * RATE, RATE, 440, 0.5);
    handWav(at('extensible.wav'), { rate: RATE, bits: 16, extensible: true, channels: [wave] });
    const { chunks, info } = await readAudioSeconds(at('extensible.wav'));
    expect(info).toMatchObject({ decodedVia: 'ffmpeg', chunks: 2 });
    // Same rate, 16-bit in and out: ffmpeg's copy is exact up to wav-decoder's scale.
    expect(maxAbsDiff(joined(chunks), wave)).toBeLessThanOrEqual(1 / 32767);
  });

  it('transcodes a 96 kHz 6-channel float WAV', async () => {
    const path = at('six.wav');
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=96000:duration=2', '-ac', '6', '-ar', '96000', '-c:a', 'pcm_f32le', path);
    const head = readFileSync(path);
    expect([head.readUInt16LE(20), head.readUInt16LE(22), head.readUInt32LE(24)]).toEqual([0xfffe, 6, 96000]);
    const { chunks, info } = await readAudioSeconds(path);
    expect(info).toMatchObject({ decodedVia: 'ffmpeg', chunks: 2, samplesPerChunk: RATE });
    expect(correlation(joined(chunks), sine(2 * RATE))).toBeGreaterThan(0.99);
  });
});

describe('audioSeconds$: chunking', () => {
  const path = at('two-and-a-half.wav');
  const wave = sine(2.5 * RATE, RATE, 440, 0.5);
  beforeAll(() => handWav(path, { rate: RATE, bits: 16, channels: [wave] }));

  it("drops a trailing partial chunk with partial 'drop' and reports it", async () => {
    const { chunks, info } = await readAudioSeconds(path);
    expect(chunks).toHaveLength(2);
    expect(info).toMatchObject({ chunks: 2, dropped: RATE / 2, padded: 0, truncated: false });
  });

  it("zero-pads it with partial 'pad' and reports it", async () => {
    const { chunks, info } = await readAudioSeconds(path, { partial: 'pad' });
    expect(chunks).toHaveLength(3);
    expect(info).toMatchObject({ chunks: 3, dropped: 0, padded: RATE / 2 });
    expect(maxAbsDiff(chunks[2].data.subarray(0, RATE / 2), wave.subarray(2 * RATE))).toBeLessThanOrEqual(1 / 32767);
    expect(chunks[2].data.subarray(RATE / 2).every((x) => x === 0)).toBe(true);
  });

  it('cuts 0.5 s chunks with timestamps at their starts', async () => {
    const { chunks, info } = await readAudioSeconds(path, { chunkSeconds: 0.5 });
    expect(info).toMatchObject({ chunks: 5, samplesPerChunk: RATE / 2, dropped: 0, padded: 0 });
    expect(chunks.map((c) => c.timestamp)).toEqual([0, 0.5, 1, 1.5, 2]);
  });

  it('stops after maxChunks, natively and through ffmpeg', async () => {
    const native = await readAudioSeconds(path, { maxChunks: 1 });
    expect(native.chunks).toHaveLength(1);
    expect(native.info).toMatchObject({ truncated: true, dropped: 0, padded: 0 });
    const viaFfmpeg = await readAudioSeconds(at('sine44k.wav'), { maxChunks: 2, partial: 'pad' });
    expect(viaFfmpeg.chunks).toHaveLength(2);
    expect(viaFfmpeg.info).toMatchObject({ decodedVia: 'ffmpeg', truncated: true, padded: 0 });
  });

  it('lets a subscriber take fewer chunks', async () => {
    const first = await lastValueFrom(audioSeconds$(path).pipe(take(1), toArray()));
    expect(first).toHaveLength(1);
  });
});

describe('audioSeconds$: bad input', () => {
  it('a missing path is E_INPUT_MISSING', async () => {
    await expectError(readAudioSeconds(at('nope.wav')), 'E_INPUT_MISSING', at('nope.wav'));
  });

  it.skipIf(!chmodBlocksReads)(
    `an unreadable file is E_INPUT_UNREADABLE${chmodBlocksReads ? '' : ' (skipped: running with privileges where chmod 000 does not prevent reading)'}`,
    async () => {
      await expectError(readAudioSeconds(unreadablePath), 'E_INPUT_UNREADABLE', unreadablePath, 'permission');
    },
  );

  it('an empty (0 byte) file is E_INPUT_EMPTY', async () => {
    writeFileSync(at('empty.wav'), '');
    await expectError(readAudioSeconds(at('empty.wav')), 'E_INPUT_EMPTY', at('empty.wav'), '0 bytes');
  });

  it('a WAV with zero samples is E_INPUT_EMPTY, natively and through ffmpeg', async () => {
    handWav(at('silent.wav'), { rate: RATE, bits: 16, channels: [new Float32Array(0)] });
    await expectError(readAudioSeconds(at('silent.wav')), 'E_INPUT_EMPTY', at('silent.wav'), 'has no samples');
    handWav(at('silent44k.wav'), { rate: 44100, bits: 16, channels: [new Float32Array(0)] });
    await expectError(readAudioSeconds(at('silent44k.wav')), 'E_INPUT_EMPTY', at('silent44k.wav'), 'has no samples');
  });

  it("input shorter than one chunk with partial 'drop' is E_INPUT_EMPTY suggesting the fixes; 'pad' keeps it", async () => {
    handWav(at('short.wav'), { rate: RATE, bits: 16, channels: [sine(5000)] });
    await expectError(readAudioSeconds(at('short.wav')), 'E_INPUT_EMPTY', at('short.wav'), '--partial pad', '--chunk-seconds');
    const { info } = await readAudioSeconds(at('short.wav'), { partial: 'pad' });
    expect(info).toMatchObject({ chunks: 1, padded: RATE - 5000 });
  });

  it('a text file named .mp3 is E_FFMPEG with ffmpeg’s reason', async () => {
    writeFileSync(at('text.mp3'), 'this is not audio\n'.repeat(20));
    const e = await expectError(readAudioSeconds(at('text.mp3')), 'E_FFMPEG', at('text.mp3'));
    expect(e.message.split('\n').length).toBeGreaterThan(1); // carries the stderr tail
  });

  it.skipIf(!hasEncoder('libmp3lame'))('a truncated mp3 is E_FFMPEG', async () => {
    ffmpeg('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${RATE}:duration=3`, '-c:a', 'libmp3lame', at('whole.mp3'));
    writeFileSync(at('truncated.mp3'), readFileSync(at('whole.mp3')).subarray(0, 300));
    await expectError(readAudioSeconds(at('truncated.mp3')), 'E_FFMPEG', at('truncated.mp3'));
  });

  it('bad options are E_BAD_ARGUMENT', async () => {
    const bad: AudioOptions[] = [{ rate: 0 }, { rate: 22050.5 }, { chunkSeconds: -1 }, { chunkSeconds: 1e-6 }, { partial: 'keep' as 'pad' }, { maxChunks: 0 }];
    for (const opts of bad) await expectError(readAudioSeconds(at('sine.wav'), opts), 'E_BAD_ARGUMENT', at('sine.wav'));
  });

  it('the Observable reports errors through error()', async () => {
    await expectError(lastValueFrom(audioSeconds$(at('nope.wav'))), 'E_INPUT_MISSING', at('nope.wav'));
  });
});

describe('writeWav', () => {
  it('round-trips 16-bit PCM within 1/32768 and leaves no partial file', async () => {
    const wave = sine(2 * RATE, RATE, 440, 0.9);
    const out = at('out/round.wav');
    mkdirSync(at('out'), { recursive: true });
    await writeWav(out, wave, { rate: RATE });
    const chunks = await lastValueFrom(audioSeconds$(out).pipe(toArray()));
    expect(maxAbsDiff(joined(chunks), wave)).toBeLessThanOrEqual(1 / 32768);
    expect((await readdir(at('out'))).filter((f) => f.includes('.partial'))).toEqual([]);
  });

  it('writes float32 exactly and clamps to [−1, 1] (NaN → 0)', async () => {
    const out = at('out/float.wav');
    const samples = new Float32Array(RATE).fill(0.25);
    samples.set([2, -3, NaN, 0.5]);
    await writeWav(out, samples, { rate: RATE, float: true });
    const { chunks } = await readAudioSeconds(out);
    expect(Array.from(chunks[0].data.subarray(0, 5))).toEqual([1, -1, 0, 0.5, 0.25]);
  });

  it('refuses to replace an existing file unless overwrite is set', async () => {
    const out = at('out/exists.wav');
    await writeWav(out, sine(100), { rate: RATE });
    await expectError(writeWav(out, sine(100), { rate: RATE }), 'E_OUTPUT_EXISTS', out, '--force');
    await writeWav(out, sine(200), { rate: RATE, overwrite: true });
    expect(readFileSync(out).length).toBe(44 + 200 * 2);
  });

  it('names a missing output directory', async () => {
    const out = at('no/such/dir/x.wav');
    await expectError(writeWav(out, sine(100), { rate: RATE }), 'E_BAD_ARGUMENT', at('no/such/dir'), 'create it first');
  });

  it('concatCycle joins the states in cycle order', () => {
    const c = concatCycle([Float32Array.of(1, 2), Float32Array.of(3), Float32Array.of(4, 5)]);
    expect(Array.from(c)).toEqual([1, 2, 3, 4, 5]);
    expect(concatCycle([])).toHaveLength(0);
  });
});
