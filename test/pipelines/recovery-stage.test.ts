import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendInfo } from '../../engine/backend.ts';
import { createFcModel } from '../../engine/model.ts';
import { Rng } from '../../engine/random.ts';
import type { EngramEvent, EventBody, RecallEvent, RecoveryEvent, SpuriousEvent } from '../../events.ts';
import { memorize, type MemorizeConfig } from '../../pipelines/memorize.ts';
import { recoveryStage } from '../../pipelines/recovery-stage.ts';
import { prepareRunDir } from '../../sinks/run-dir.ts';
import { writeVideo } from '../../sinks/video.ts';

const dir = mkdtempSync(join(tmpdir(), 'engram-recovery-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend();
});

/** Width and height of a PNG file (and that it is one). */
function pngSize(path: string): [number, number] {
  const b = readFileSync(path);
  expect(b.subarray(1, 4).toString()).toBe('PNG');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

describe('recovery stage', () => {
  it('finds, certifies and saves the fixed point of a hand-set network that is no stored pattern', async () => {
    // f(x) = 0.5·relu(x) + 0.5·c: on x ≥ 0 its only fixed point is c, with J = 0.5·I (ρ = 0.5)
    const c = Float32Array.from([0.2, 0.4, 0.6, 0.8]);
    const model = createFcModel({ kind: 'fc', dim: 4, width: 4, depth: 1, activation: 'relu', bias: true, init: 'torch', seed: 1 });
    const eye = (s: number) => Float32Array.from({ length: 16 }, (_, k) => (k % 5 === 0 ? s : 0));
    model.setWeights([
      { name: 'W0', data: eye(1) }, { name: 'b0', data: new Float32Array(4) }, { name: 'W1', data: eye(0.5) }, { name: 'b1', data: c.map((v) => 0.5 * v) },
    ]);
    const frames = [Float32Array.from([1, 0, 0, 1]), Float32Array.from([0, 1, 1, 0])];
    const outDir = join(dir, 'stage');
    prepareRunDir(outDir);
    const ev = (b: EventBody) => ({ ...b, runId: 't', step: 0, time: 0 }) as EngramEvent;
    const recall = { event: {} as RecallEvent, states: [], stored: frames, starts: [] };
    const events = await firstValueFrom(recoveryStage(
      { model, sequences: [frames], objective: 'autoencode', recall, shape: { kind: 'images', width: 2, height: 2, channels: 1, fps: 2 }, outDir, runId: 't', step: 0 },
      { trials: 3, probes: 3, noise: [0.1], squares: [1], mask: [0.5] }, ev,
    ).pipe(toArray()));
    model.dispose();
    const rec = events.find((e): e is RecoveryEvent => e.kind === 'recovery')!;
    for (const l of rec.levels) expect(l).toMatchObject({ model: 0, trials: 3 });
    const s = events.find((e): e is SpuriousEvent => e.kind === 'spurious')!;
    expect(s.count).toBe(1);
    expect(s.certified).toBe(1);
    expect(s.attractors).toBe(1);
    expect(s.items[0].rho).toBeCloseTo(0.5, 4);
    expect(s.items[0].path).toBe(join(outDir, 'spurious', 'spurious-0.png'));
    expect(pngSize(s.items[0].path!)).toEqual([2 + 8 + 2, 2 + 8 + 2]); // one 2×2 frame at scale 4 with gaps
    expect(pngSize(join(outDir, 'recovery.png'))[0]).toBeGreaterThan(300);
  });
});

describe('memorize with the recovery monitor', () => {
  it('a tiny autoencoder recovers its images at low corruption; rates per level in [0,1]', async () => {
    const rng = new Rng(9);
    const originals = Array.from({ length: 6 }, () => rng.uniformArray(64, 0, 1).map((v) => (v > 0.5 ? 1 : 0)));
    const clip = join(dir, 'six.mkv');
    await writeVideo(clip, originals, { width: 8, height: 8, channels: 1, scale: 1 });
    const outDir = join(dir, 'run');
    prepareRunDir(outDir);
    const cfg: MemorizeConfig = {
      runId: 'rec', command: 'test', outDir, input: { kind: 'video', path: clip, width: 8, height: 8, gray: true, frames: 6 },
      checkpointEvery: 1000, objective: 'autoencode',
      model: { width: 128, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 },
      optimizer: { name: 'adam', lr: 1e-3 }, lossTarget: 1e-8, maxSteps: 3000,
      recall: { from: 'gaussian', sigma: 1, maxIterations: 5000, seed: 5 },
      recovery: { trials: 6, probes: 4, seed: 2 },
      force: false,
    };
    const events = await firstValueFrom(memorize(cfg, backend).pipe(toArray()));
    const rec = events.find((e): e is RecoveryEvent => e.kind === 'recovery')!;
    expect(rec.stored).toBe(6);
    expect(rec.levels).toHaveLength(9);
    for (const l of rec.levels) {
      for (const r of [l.model, l.nn]) expect(r >= 0 && r <= 1).toBe(true);
      expect(l.trials).toBe(6);
    }
    const low = rec.levels.filter((l) => (l.corruption === 'noise' || l.corruption === 'mask') && l.level === 0.1);
    for (const l of low) {
      expect(l.model).toBeGreaterThanOrEqual(5 / 6);
      expect(l.nn).toBe(1);
    }
    expect(events.find((e) => e.kind === 'spurious')).toBeDefined();
    expect(existsSync(join(outDir, 'recovery.png'))).toBe(true);
    const logged = readFileSync(join(outDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).kind);
    expect(logged).toContain('recovery');
    expect(logged.at(-1)).toBe('run-end');
  });
});
