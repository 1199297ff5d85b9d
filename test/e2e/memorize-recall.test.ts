import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendInfo } from '../../engine/backend.ts';
import { loadCheckpoint } from '../../engine/checkpoint.ts';
import { Rng } from '../../engine/random.ts';
import type { AttractorEvent, RecallEvent, TrainStepEvent } from '../../events.ts';
import { memorize, type MemorizeConfig } from '../../pipelines/memorize.ts';
import { recallRun } from '../../pipelines/recall-run.ts';
import { prepareRunDir } from '../../sinks/run-dir.ts';
import { writeVideo } from '../../sinks/video.ts';
import { readVideoFrames } from '../../sources/video.ts';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'engram-e2e-'));
const clip = join(dir, 'six.mkv');
// six distinct 8×8 binary frames, stored losslessly (ffv1) so decoding gives them back exactly
const rng = new Rng(42);
const originals = Array.from({ length: 6 }, () => rng.uniformArray(64, 0, 1).map((v) => (v > 0.5 ? 1 : 0)));
let backend: BackendInfo;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  backend = await selectBackend();
  await writeVideo(clip, originals, { width: 8, height: 8, channels: 1, scale: 1 });
});

const config = (outDir: string): MemorizeConfig => ({
  runId: 'e2e', command: 'test', outDir,
  input: { kind: 'video', path: clip, width: 8, height: 8, gray: true, frames: 6 },
  checkpointEvery: 1000,
  objective: 'cycle',
  model: { width: 128, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 },
  optimizer: { name: 'adam', lr: 1e-3 },
  lossTarget: 1e-8, maxSteps: 5000,
  recall: { from: 'gaussian', sigma: 1, maxIterations: 20000, seed: 5 },
  force: false,
});

describe('memorize → recall, end to end', () => {
  it('recovers every frame from Gaussian noise, in order, and writes the run directory', async () => {
    const outDir = join(dir, 'run');
    prepareRunDir(outDir);
    const events = await firstValueFrom(memorize(config(outDir), backend).pipe(toArray()));
    const end = events.find((e) => e.kind === 'train-end');
    expect(end).toMatchObject({ reason: 'loss-target' });
    const rec = events.find((e): e is RecallEvent => e.kind === 'recall')!;
    expect(rec.rule).toBe('cycle');
    expect(rec.period).toBe(6);
    expect(rec.framesMatched).toBe(6);
    expect(rec.orderCorrect).toBe(true);
    expect(rec.cycle).toEqual([0, 1, 2, 3, 4, 5]);
    for (const f of rec.frames) expect(f.psnr).toBeGreaterThan(40);
    // the stored cycle is certified: ρ of the product of Jacobians around it is below 1
    const att = events.find((e): e is AttractorEvent => e.kind === 'attractors')!;
    expect(att).toMatchObject({ attractors: 1, stored: 1 });
    expect(att.items).toHaveLength(1); // the recalled limit is the stored cycle: not certified twice
    expect(att.items[0].period).toBe(6);
    expect(att.items[0].rho).toBeLessThan(1);

    for (const f of ['run.json', 'events.jsonl', 'model.ckpt', 'recalled.mp4', 'contact.png']) expect(existsSync(join(outDir, f))).toBe(true);
    expect(readdirSync(outDir).filter((f) => f.includes('partial'))).toEqual([]);
    const runJson = JSON.parse(readFileSync(join(outDir, 'run.json'), 'utf8'));
    expect(runJson.status).toBe('complete');
    expect(runJson.backend.name).toBe(backend.name);
    expect(runJson.summary).toMatchObject({ frames: 6, framesMatched: 6, orderCorrect: true });
    const lines = readFileSync(join(outDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.kind)).toEqual(events.map((e) => e.kind));

    // the recalled video plays the cycle (twice) in training order
    const decoded = await readVideoFrames(join(outDir, 'recalled.mp4'), { width: 8, height: 8, gray: true });
    expect(decoded).toHaveLength(12);
    const nearest = (x: Float32Array) => originals.map((o) => o.reduce((s, v, i) => s + (v - x[i]) ** 2, 0)).reduce((b, d, i, a) => (d < a[b] ? i : b), 0);
    expect(decoded.map((f) => nearest(f.data))).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);

    // the checkpoint alone is enough to recall again
    const ck = loadCheckpoint(join(outDir, 'model.ckpt'));
    expect(ck.data?.vectors.shape).toEqual([6, 64]);
    const again = await recallRun({ runDir: outDir, from: 'uniform', sigma: 1, maxIterations: 20000, seed: 9, out: join(dir, 'again.mp4'), force: false });
    expect(again.event.framesMatched).toBe(6);
    expect(again.event.orderCorrect).toBe(true);
    expect(existsSync(join(dir, 'again.mp4'))).toBe(true);
  });
});

describe('a memorize job', () => {
  it('creates nothing until subscribed, and each subscription is a complete, independent run', async () => {
    const outDir = join(dir, 'twice');
    const job$ = memorize({ ...config(outDir), maxSteps: 3000, force: true, recovery: false, monitor: { every: 0, examples: 1 } }, backend);
    expect(existsSync(outDir)).toBe(false); // built, not subscribed: no run directory, no log
    const first = await firstValueFrom(job$.pipe(toArray()));
    const firstLog = readFileSync(join(outDir, 'events.jsonl'), 'utf8');
    const second = await firstValueFrom(job$.pipe(toArray()));
    for (const run of [first, second]) {
      expect(run[0].kind).toBe('run-start');
      expect(run.at(-1)).toMatchObject({ kind: 'run-end', status: 'complete' });
      expect(run.find((e): e is RecallEvent => e.kind === 'recall')).toMatchObject({ framesMatched: 6, orderCorrect: true });
    }
    // the second run trained its own fresh model from step 1 (not a continuation of the first)
    const firstStep = (run: typeof first) => run.find((e): e is TrainStepEvent => e.kind === 'train-step')!;
    expect(firstStep(second).step).toBe(1);
    expect(Math.abs(firstStep(second).loss - firstStep(first).loss)).toBeLessThan(1e-6 * firstStep(first).loss);
    // and its log is its own: one run-start, the first run's log replaced, not appended to
    const lines = readFileSync(join(outDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.kind === 'run-start')).toHaveLength(1);
    expect(lines).toHaveLength(firstLog.trim().split('\n').length);
    expect(JSON.parse(readFileSync(join(outDir, 'run.json'), 'utf8')).status).toBe('complete');
  });
});

describe('the engram command', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(root, 'bin/engram.mjs'), ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env } });

  it('memorizes a clip and prints the summary', () => {
    const r = cli('memorize', clip, '--size', '8x8', '--frames', '6', '--width', '128', '--lr', '1e-3', '--out', join(dir, 'cli-run'), '--quiet');
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/frames recalled : 6\/6/);
    expect(r.stdout).toMatch(/order\s+: correct/);
    const rec = cli('recall', join(dir, 'cli-run'), '--from', 'noise', '--out', join(dir, 'cli-recalled.mp4'));
    expect(rec.status).toBe(0);
    expect(rec.stdout).toMatch(/6\/6 samples matched \(6 stored\), order correct/);
  });

  it('names a missing input and exits 1 without creating output', () => {
    const r = cli('memorize', join(dir, 'nope.mp4'), '--out', join(dir, 'never'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(join(dir, 'nope.mp4'));
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('rejects unknown options and bad values with exit 2', () => {
    expect(cli('memorize', clip, '--bogus').status).toBe(2);
    const r = cli('memorize', clip, '--size', 'big');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--size must look like WxH/);
  });

  it('never writes into a non-empty directory unless forced', () => {
    const outDir = join(dir, 'occupied');
    prepareRunDir(outDir);
    writeFileSync(join(outDir, 'notes.txt'), 'mine');
    const r = cli('memorize', clip, '--size', '8x8', '--out', outDir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/already has files in it/);
    expect(readdirSync(outDir)).toEqual(['notes.txt']);
    expect(readFileSync(join(outDir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses to recall from a directory that is not a run', () => {
    const r = cli('recall', dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not an engram run directory/);
  });

  it('rejects bad model and optimizer options before creating anything (exit 2)', () => {
    for (const [flag, value, msg] of [['--init', 'bogus', /unknown initializer 'bogus'/], ['--lr', '0', /learning rate must be > 0/], ['--init', 'rank1:1,1', /needs --depth 1/]] as const) {
      const out = join(dir, `never-${flag.slice(2)}`);
      const r = cli('memorize', clip, flag, value, '--out', out);
      expect(r.status, `${flag} ${value}`).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('names an --out that is a file', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = cli('memorize', clip, '--out', file);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot use .*a-file as the run directory \(it is a file\)/);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('stops a diverging run with E_DIVERGED, exit 1, status failed and no final checkpoint', () => {
    const out = join(dir, 'diverge');
    const r = cli('memorize', clip, '--size', '8x8', '--activation', 'pow:3', '--lr', '0.5', '--out', out, '--quiet');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/training diverged at step \d+/);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).status).toBe('failed');
    expect(existsSync(join(out, 'model.ckpt'))).toBe(false);
  });

  it('starts a fresh event log when --force reuses a run directory', () => {
    const out = join(dir, 'twice');
    for (let i = 0; i < 2; i++) {
      const r = cli('memorize', clip, '--size', '8x8', '--frames', '6', '--width', '64', '--lr', '1e-3', '--out', out, '--force', '--quiet');
      expect(r.status).toBe(0);
    }
    const kinds = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).kind);
    expect(kinds.filter((k) => k === 'run-start')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'run-end')).toHaveLength(1);
  });
});
