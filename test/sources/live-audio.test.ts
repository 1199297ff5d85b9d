import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { lastValueFrom, toArray, type Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EngramError } from '../../errors.ts';
import { findOnPath, resolveFfmpeg } from '../../media/ffmpeg.ts';
import { liveAudio$, type GapItem, type LiveItem } from '../../sources/live.ts';
import type { Sample } from '../../sources/sample.ts';
import { ffmpegChildren, freePort, kill, killStarted, noFfmpegChildren, startFfmpeg } from '../fixtures/processes.ts';

afterEach(killStarted);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engram-live-audio-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const RATE = 8000;
const CHUNK = 0.25;
const N = RATE * CHUNK;
/** lavfi's sine is 1/8 of full scale: its RMS is that over √2. */
const SINE_RMS = 0.125 / Math.SQRT2;

const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
const zeroCrossings = (x: Float32Array) => {
  let n = 0;
  for (let i = 1; i < x.length; i++) if ((x[i - 1] < 0) !== (x[i] < 0)) n++;
  return n;
};
const chunksOf = (items: LiveItem<Sample>[]) => items.flatMap((i) => (i.kind === 'frame' ? [i.frame] : []));
const summary = (items: LiveItem<Sample>[]) => items.map((i) => (i.kind === 'frame' ? 's' : i.kind === 'connected' ? `c${i.attempt}` : `g${i.attempt}`));

/** A 440 Hz chunk of lavfi's sine: 2 crossings a period (±2 for where the chunk cuts it), RMS 1/8/√2. */
function expectSine(chunk: Sample) {
  expect(chunk.data).toHaveLength(N);
  expect(Math.abs(zeroCrossings(chunk.data) - 2 * 440 * CHUNK)).toBeLessThanOrEqual(2);
  expect(rms(chunk.data)).toBeCloseTo(SINE_RMS, 2);
}

/** ffmpeg serving `input` (its input options and input) as MPEG-TS with MP2 audio over HTTP, in real time, to one client. */
function serve(port: number, input: string[]) {
  return startFfmpeg(['-re', ...input, '-c:a', 'mp2', '-f', 'mpegts', '-listen', '1', `http://127.0.0.1:${port}`]);
}

/**
 * Subscribe to `url` and kill its server once `before` chunks have come; a new server on the same
 * port starts 0.5 s later. Resolves with the items once `after` chunks came after the reconnection.
 */
async function throughRestart(port: number, input: string[], before: number, after: number): Promise<LiveItem<Sample>[]> {
  let server = serve(port, input);
  const items: LiveItem<Sample>[] = [];
  let killedAt = -1; // how many items had come when the server was killed
  await new Promise<void>((resolve, reject) => {
    const sub = liveAudio$(`http://127.0.0.1:${port}`, { rate: RATE, chunkSeconds: CHUNK, reconnect: { firstMs: 100, maxMs: 400 } }).subscribe({
      next: (item) => {
        items.push(item);
        if (killedAt < 0 && chunksOf(items).length === before) {
          killedAt = items.length;
          void kill(server).then(() => setTimeout(() => (server = serve(port, input)), 500));
        }
        const reconnected = killedAt >= 0 ? items.findIndex((i, k) => k >= killedAt && i.kind === 'connected') : -1;
        if (reconnected >= 0 && chunksOf(items.slice(reconnected)).length >= after) {
          sub.unsubscribe();
          resolve();
        }
      },
      error: reject,
      complete: () => reject(new Error('a network source completed')),
    });
  });
  return items;
}

// a hang fails in seconds, not in the configured 2 minutes
/** `seconds` of lavfi's 440 Hz sine, mono, encoded with `output` (ffmpeg's output options). */
function encode(output: string[], seconds: number): Buffer {
  return execFileSync(resolveFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, '-ac', '1', ...output, '-'], { maxBuffer: 1 << 24 });
}

/**
 * liveAudio$('-') with `bytes` piped into standard input: the first `first` of them at once, the rest
 * once the first chunk has come (`before`: the chunks that had come by then). Resolves on completion.
 */
async function throughStdin(bytes: Buffer, first: number): Promise<{ items: LiveItem<Sample>[]; before: number }> {
  const stdin = new PassThrough();
  const spy = vi.spyOn(process, 'stdin', 'get').mockReturnValue(stdin as unknown as typeof process.stdin);
  const items: LiveItem<Sample>[] = [];
  let before = -1;
  let sub: Subscription | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      sub = liveAudio$('-', { rate: RATE, chunkSeconds: CHUNK }).subscribe({
        next: (item) => {
          items.push(item);
          if (before < 0 && item.kind === 'frame') {
            before = chunksOf(items).length;
            stdin.end(bytes.subarray(first));
          }
        },
        error: reject,
        complete: resolve,
      });
      stdin.write(bytes.subarray(0, first));
    });
  } finally {
    sub?.unsubscribe();
    spy.mockRestore();
  }
  return { items, before };
}

describe('liveAudio$', { timeout: 20_000 }, () => {
  it('plays a lavfi sine in real time: 440 Hz chunks of rate·chunkSeconds samples, then completes', async () => {
    const t0 = performance.now();
    const items = await lastValueFrom(liveAudio$('lavfi:sine=frequency=440:duration=1', { rate: RATE, chunkSeconds: CHUNK }).pipe(toArray()));
    const ms = performance.now() - t0;
    expect(summary(items)).toEqual(['c1', 's', 's', 's', 's']);
    const chunks = chunksOf(items);
    chunks.forEach((c, i) => {
      expect(c.index).toBe(i);
      expectSine(c);
    });
    // played at its own pace (-re), not decoded at once: a second of sound takes about a second,
    // and the chunks come spread over it
    expect(ms).toBeGreaterThan(700);
    const arrived = items.flatMap((i) => (i.kind === 'frame' ? [i.arrivedMs] : []));
    expect(arrived[3] - arrived[0]).toBeGreaterThan(400);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i].timestamp).toBeGreaterThanOrEqual(chunks[i - 1].timestamp);
  });

  it('reconnects to an HTTP stream of a sine that goes away and comes back, counting chunks on', async () => {
    const items = await throughRestart(await freePort(), ['-f', 'lavfi', '-i', 'sine=frequency=440'], 4, 4);
    expect(summary(items).join(' ')).toMatch(/^(g\d+ )*c\d+ (s ){4,}(g\d+ )+c\d+ (s ?){4,}$/);
    const chunks = chunksOf(items);
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, k) => k));
    // every chunk a whole one of the sine: no partial chunk was spliced onto the next connection's sound
    // (the first of each connection may start in the encoder's lead-in of silence)
    const firsts = new Set(items.flatMap((i, k) => (i.kind === 'connected' ? [items[k + 1]] : [])));
    for (const c of chunks) {
      expect(c.data).toHaveLength(N);
      expect(Math.max(...c.data.map(Math.abs))).toBeLessThanOrEqual(1);
    }
    const steady = items.flatMap((i) => (i.kind === 'frame' && !firsts.has(i) ? [i.frame] : []));
    expect(steady.length).toBeGreaterThanOrEqual(5);
    steady.forEach(expectSine);
    const gap = items.find((i): i is GapItem => i.kind === 'gap' && items.indexOf(i) > items.findIndex((x) => x.kind === 'frame'))!;
    expect(gap).toMatchObject({ retryInMs: 100 });
    expect(gap.reason).toMatch(/ended|broke|no data/);
    // a drop mid-chunk discards the part of the chunk it cut short, and says so
    if (gap.discardedSamples !== undefined) {
      expect(gap.discardedSamples).toBeGreaterThan(0);
      expect(gap.discardedSamples).toBeLessThan(N);
      expect(gap.reason).toContain(`the chunk it cut short (${gap.discardedSamples} samples) was discarded`);
    }
    await noFfmpegChildren();
  });

  it.skipIf(!findOnPath('espeak-ng'))('reconnects to an HTTP stream of speech (espeak-ng): chunks of speech before and after', async () => {
    const wav = join(dir, 'speech.wav');
    execFileSync(findOnPath('espeak-ng')!, ['-w', wav, 'Engram memorizes streams. It keeps listening when the stream goes away and comes back.']);
    const items = await throughRestart(await freePort(), ['-stream_loop', '-1', '-i', wav], 6, 6);
    expect(summary(items).join(' ')).toMatch(/^(g\d+ )*c\d+ (s ){6,}(g\d+ )+c\d+ (s ?){6,}$/);
    const chunks = chunksOf(items);
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, k) => k));
    const level = chunks.map((c) => rms(c.data));
    for (const c of chunks) {
      expect(c.data).toHaveLength(N);
      expect(Math.max(...c.data.map(Math.abs))).toBeLessThanOrEqual(1);
    }
    // speech, not a tone nor silence: loud syllables and quiet pauses, on both sides of the drop
    const killed = items.findIndex((i) => i.kind === 'gap' && items.indexOf(i) > items.findIndex((x) => x.kind === 'frame'));
    for (const part of [chunksOf(items.slice(0, killed)), chunksOf(items.slice(killed))]) {
      const l = part.map((c) => rms(c.data));
      expect(Math.max(...l)).toBeGreaterThan(0.02);
      expect(Math.max(...l) / Math.min(...l)).toBeGreaterThan(2);
    }
    // and how fast it crosses zero changes from chunk to chunk (vowels, fricatives) as a 440 Hz tone's never does
    const rates = chunks.filter((_, k) => level[k] > 0.02).map((c) => zeroCrossings(c.data));
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThan(20);
    await noFfmpegChildren();
  });

  it('reads raw PCM piped into standard input (in NUT) as it comes', async () => {
    // one second of the sine, 16-bit PCM in NUT, written in two halves
    const bytes = encode(['-ar', String(RATE), '-c:a', 'pcm_s16le', '-f', 'nut'], 1);
    const { items, before } = await throughStdin(bytes, bytes.length >> 1);
    // chunks came before the rest was written
    expect(before).toBeGreaterThanOrEqual(1);
    expect(summary(items)).toEqual(['c1', 's', 's', 's', 's']);
    chunksOf(items).forEach((c, i) => {
      expect(c.index).toBe(i);
      expectSine(c);
    });
  });

  it('reads a WAV piped into standard input once its first 64 KB have come', async () => {
    // 3 s of the sine as a WAV at 16 kHz (32 KB a second): ffmpeg's WAV reader looks 64 KB ahead
    // before its first sample, so the first write is 2.5 s of it
    const bytes = encode(['-ar', '16000', '-c:a', 'pcm_s16le', '-f', 'wav'], 3);
    const { items, before } = await throughStdin(bytes, 44 + 2.5 * 32_000);
    expect(before).toBeGreaterThanOrEqual(1);
    expect(summary(items)).toEqual(['c1', ...Array(12).fill('s')]);
    chunksOf(items).forEach((c, i) => {
      expect(c.index).toBe(i);
      expectSine(c);
    });
  });

  it('refuses a file: it is not a live input', async () => {
    const file = join(dir, 'talk.wav');
    await writeFile(file, 'not really audio');
    const err = await lastValueFrom(liveAudio$(file, { rate: RATE, chunkSeconds: CHUNK })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngramError);
    expect((err as EngramError).code).toBe('E_BAD_ARGUMENT');
    expect((err as EngramError).message).toContain(file);
    expect((err as EngramError).message).toMatch(/without --live.*lavfi:amovie=.*-f wav -/);
  });

  it('refuses a chunk length of no samples before connecting', async () => {
    const err = await lastValueFrom(liveAudio$('lavfi:sine', { rate: RATE, chunkSeconds: 1e-6 })).catch((e: unknown) => e);
    expect((err as EngramError).code).toBe('E_BAD_ARGUMENT');
    expect((err as EngramError).message).toMatch(/less than one sample/);
    expect(ffmpegChildren()).toEqual([]);
  });

  it('gives up on a URL nobody serves after maxAttempts gaps, saying it wants audio', async () => {
    const url = `http://127.0.0.1:${await freePort()}/mic`;
    const items: LiveItem<Sample>[] = [];
    const err = await new Promise<unknown>((resolve) => {
      liveAudio$(url, { rate: RATE, chunkSeconds: CHUNK, reconnect: { firstMs: 20, maxAttempts: 2 } }).subscribe({ next: (i) => items.push(i), error: resolve, complete: () => resolve(undefined) });
    });
    expect((err as EngramError).code).toBe('E_INPUT_UNREADABLE');
    expect((err as EngramError).message).toMatch(/2 attempts.*sends audio/);
    expect(summary(items)).toEqual(['g1', 'g2']);
    expect((items[0] as GapItem).reason).toMatch(/^could not connect: .*refused/i);
  });

  it('kills ffmpeg when unsubscribed mid-stream', async () => {
    expect(ffmpegChildren()).toEqual([]);
    let running: number[] = [];
    await new Promise<void>((resolve) => {
      const sub = liveAudio$('lavfi:sine=frequency=440', { rate: RATE, chunkSeconds: 0.05 }).subscribe((item) => {
        if (item.kind !== 'frame' || item.frame.index !== 2) return;
        running = ffmpegChildren();
        sub.unsubscribe();
        resolve();
      });
    });
    expect(running).toHaveLength(1);
    await noFfmpegChildren();
  });
});
