import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendInfo } from '../../engine/backend.ts';
import type { RecallEvent } from '../../events.ts';
import { resolveFfmpeg } from '../../media/ffmpeg.ts';
import { memorize, type MemorizeConfig } from '../../pipelines/memorize.ts';
import { recallRun } from '../../pipelines/recall-run.ts';
import { prepareRunDir } from '../../sinks/run-dir.ts';
import { readAudioSeconds } from '../../sources/audio.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-e2e-media-'));
const ffmpeg = (...args: string[]) => execFileSync(resolveFfmpeg().path, ['-v', 'error', '-y', ...args]);
let backend: BackendInfo;

beforeAll(async () => {
  backend = await selectBackend();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = (outDir: string): Omit<MemorizeConfig, 'input' | 'objective'> => ({
  runId: 'e2e-media', command: 'test', outDir, checkpointEvery: 1000,
  model: { width: 128, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 },
  optimizer: { name: 'adam', lr: 1e-3 }, lossTarget: 1e-8, maxSteps: 5000,
  recall: { from: 'gaussian', sigma: 1, maxIterations: 20000, seed: 3 }, force: false,
});

function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) [ma, mb] = [ma + a[i] / n, mb + b[i] / n];
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('audio seconds, end to end', () => {
  it('memorizes 3 s of audio as a cycle and recalls it from noise into a WAV that correlates > 0.99', async () => {
    const wav = join(dir, 'tone.wav');
    // a chirp plus pink noise at 4 kHz: every second differs from the others
    ffmpeg('-f', 'lavfi', '-i', 'aevalsrc=0.5*sin(2*PI*(200+100*t)*t):s=4000:d=3', '-f', 'lavfi', '-i', 'anoisesrc=d=3:c=pink:r=4000:a=0.1:seed=42',
      '-filter_complex', 'amix=inputs=2', '-ac', '1', '-c:a', 'pcm_s16le', wav);
    const outDir = join(dir, 'audio-run');
    prepareRunDir(outDir);
    const events = await firstValueFrom(memorize({
      ...base(outDir), objective: 'cycle', input: { kind: 'audio', path: wav, rate: 4000, chunkSeconds: 1, partial: 'drop' },
      // the default fit (docs/math.md §3.5): the three seconds solved in closed form and checked by recall
      model: { ...base(outDir).model, width: 1024 }, fit: 'auto',
    }, backend).pipe(toArray()));
    expect(events.find((e) => e.kind === 'dataset')).toMatchObject({ fit: { method: 'solve' } });
    const rec = events.find((e): e is RecallEvent => e.kind === 'recall')!;
    expect(rec).toMatchObject({ rule: 'cycle', period: 3, framesMatched: 3, orderCorrect: true });

    const original = (await readAudioSeconds(wav, { rate: 4000 })).chunks.map((c) => c.data);
    const recalled = (await readAudioSeconds(join(outDir, 'recalled.wav'), { rate: 4000 })).chunks.map((c) => c.data);
    expect(recalled).toHaveLength(3);
    // recalled.wav starts at the state matched to second 0, in cycle order
    recalled.forEach((r, i) => expect(correlation(r, original[i])).toBeGreaterThan(0.99));

    // recall again through the CLI path into a WAV of our choosing
    const again = await recallRun({ runDir: outDir, from: 'noise', sigma: 1, maxIterations: 20000, seed: 3, out: join(dir, 'again.wav'), force: false });
    expect(again.event.framesMatched).toBe(3);
    const againChunks = (await readAudioSeconds(join(dir, 'again.wav'), { rate: 4000 })).chunks.map((c) => c.data);
    againChunks.forEach((r, i) => expect(correlation(r, original[i])).toBeGreaterThan(0.99));
  }, 300_000);
});

describe('a directory of images, end to end', () => {
  it('memorizes images as attractors and recalls each from a corrupted copy', async () => {
    const imgs = join(dir, 'imgs');
    mkdirSync(imgs);
    for (let i = 1; i <= 5; i++) ffmpeg('-f', 'lavfi', '-i', `life=s=12x12:seed=${i}:ratio=0.4`, '-frames:v', '1', join(imgs, `img${i}.png`));
    const outDir = join(dir, 'images-run');
    prepareRunDir(outDir);
    const events = await firstValueFrom(memorize({
      ...base(outDir), objective: 'autoencode', input: { kind: 'images', path: imgs, width: 12, height: 12, gray: true },
    }, backend).pipe(toArray()));
    const rec = events.find((e): e is RecallEvent => e.kind === 'recall')!;
    expect(rec.framesStored).toBe(5);
    expect(rec.orderCorrect).toBeNull();
    expect(JSON.parse(readFileSync(join(outDir, 'run.json'), 'utf8')).status).toBe('complete');

    for (let i = 1; i <= 5; i++) {
      // 10% of the pixels replaced by random values
      const noisy = join(dir, `noisy${i}.png`);
      ffmpeg('-i', join(imgs, `img${i}.png`), '-vf', 'noise=alls=20:allf=u', noisy);
      const r = await recallRun({ runDir: outDir, from: noisy, sigma: 1, maxIterations: 20000, seed: 1, out: join(dir, `from-noisy${i}.gif`), force: false });
      expect(r.event.rule, `image ${i}`).toBe('fixed-point');
      expect(r.event.cycle, `image ${i}`).toEqual([i - 1]);
    }
  });
});
